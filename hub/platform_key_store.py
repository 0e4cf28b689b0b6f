"""The SQL of platform keys: the keys with which urban data platforms read the NGSI-LD API
(docs/api.md); only a hash of each key is kept."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from storage import from_row, immediate, write_one


def insert_platform_key(db: Database, name: str, key_hash: str, created_at: str) -> None:
    """Store a platform key's hash; raises sqlite3.IntegrityError when the name is taken."""
    with immediate(db):
        db.conn.execute(
            "INSERT INTO platform_keys (name, key_hash, created_at) VALUES (?, ?, ?)",
            (name, key_hash, created_at),
        )


@dataclass(frozen=True)
class PlatformKey:
    """A platform key as the hub keeps it: its name and when it was made and last used."""

    name: str
    created_at: str
    last_used_at: str | None


def list_platform_keys(db: Database) -> list[PlatformKey]:
    """Every platform key, ordered by name."""
    rows = db.conn.execute("SELECT name, created_at, last_used_at FROM platform_keys ORDER BY name")
    return [from_row(PlatformKey, row) for row in rows]


def delete_platform_key(db: Database, name: str) -> bool:
    """Remove a platform key; False when there is none of that name."""
    return write_one(db, "DELETE FROM platform_keys WHERE name = ?", (name,))


def platform_key_by_hash(db: Database, key_hash: str) -> PlatformKey | None:
    """The platform key with this hash, or None."""
    row = db.conn.execute(
        "SELECT name, created_at, last_used_at FROM platform_keys WHERE key_hash = ?",
        (key_hash,),
    ).fetchone()
    return None if row is None else from_row(PlatformKey, row)


def mark_platform_key_used(db: Database, name: str, when: str) -> None:
    """Record when a platform key was last used."""
    with immediate(db):
        db.conn.execute("UPDATE platform_keys SET last_used_at = ? WHERE name = ?", (when, name))
