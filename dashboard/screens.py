"""Screen keys: what lets a festival's screens show its board (docs/dashboard.md, "Screen
keys").

A festival's board holds its own data at artwork level and whatever other festivals grant
to that festival alone, so it is not public. A screen key is 32 random bytes, URL-safe
(43 characters). Only its SHA-256 is stored: a key with 256 bits of entropy cannot be
guessed from its hash, so a slow password hash would add nothing, and a copy of the
database reveals no key. Revoking deletes the key; the stream thread then ends the
key's open streams (:mod:`dashboard.streams`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from hub import registry_store
from storage import immediate, now_text

TABLE = "dashboard_screen_keys"
KEY_BYTES = 32
#: What a screen's name may be: it appears in lists and in the organiser area.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}")
#: What a key looks like; anything else is refused without asking the database.
KEY_SHAPE = re.compile(r"[A-Za-z0-9_-]{43,128}")


class ScreenKeyError(ValueError):
    """A screen key request that cannot be honoured, with a message for the user."""


@dataclass(frozen=True, slots=True)
class Screen:
    """One screen key as it may be shown: its name and dates, never the key."""

    festival: str
    name: str
    created_at: str
    last_used_at: str | None


def key_hash(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def check_name(name: str) -> str:
    """A screen's name, or :class:`ScreenKeyError` saying what a name may be."""
    if not NAME.fullmatch(name):
        raise ScreenKeyError(
            f"a screen name is 1-64 letters, digits, spaces, '.', '_' or '-', starting "
            f"with a letter or digit, not {name!r}"
        )
    return name


def _festival(db: Database, festival: str) -> None:
    if registry_store.get_festival(db, festival) is None:
        raise ScreenKeyError(f"unknown festival: {festival}")


def add_screen(db: Database, festival: str, name: str) -> str:
    """Make a key for screen ``name`` of ``festival`` and return it (shown only this once)."""
    check_name(name)
    _festival(db, festival)
    key = secrets.token_urlsafe(KEY_BYTES)
    with immediate(db):
        cursor = db.execute(
            f"INSERT OR IGNORE INTO {TABLE} (key_hash, festival, name, created_at) "
            "VALUES (?, ?, ?, ?)",
            [key_hash(key), festival, name, now_text()],
        )
    if cursor.rowcount != 1:
        raise ScreenKeyError(f"festival {festival} has a screen named {name!r} already")
    return key


def screens(db: Database, festival: str) -> list[Screen]:
    """The festival's screen keys by name (never the keys themselves)."""
    _festival(db, festival)
    rows = db.execute(
        f"SELECT festival, name, created_at, last_used_at FROM {TABLE} "
        "WHERE festival = ? ORDER BY name",
        [festival],
    ).fetchall()
    return [Screen(*row) for row in rows]


def revoke_screen(db: Database, festival: str, name: str) -> None:
    """End the key of screen ``name``: it is refused from the next request on."""
    _festival(db, festival)
    with immediate(db):
        cursor = db.execute(
            f"DELETE FROM {TABLE} WHERE festival = ? AND name = ?", [festival, name]
        )
    if cursor.rowcount != 1:
        raise ScreenKeyError(f"festival {festival} has no screen named {name!r}")


def festival_of(db: Database, digest: str) -> str | None:
    """The festival whose key has this hash, or None."""
    row = db.execute(f"SELECT festival FROM {TABLE} WHERE key_hash = ?", [digest]).fetchone()
    return None if row is None else str(row[0])


def live_hashes(db: Database, digests: Collection[str]) -> set[str]:
    """Those of ``digests`` whose keys are not revoked."""
    found: set[str] = set()
    listed = list(digests)
    for start in range(0, len(listed), 500):  # below SQLite's limit on parameters
        chunk = listed[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(f"SELECT key_hash FROM {TABLE} WHERE key_hash IN ({marks})", chunk)
        found.update(row[0] for row in rows)
    return found


def record_use(db: Database, digest: str, moment: datetime | None = None) -> None:
    """Note that the key with this hash was used now."""
    with immediate(db):
        db.execute(
            f"UPDATE {TABLE} SET last_used_at = ? WHERE key_hash = ?", [now_text(moment), digest]
        )


@dataclass(frozen=True, slots=True)
class Access:
    """What let a request see a festival's board: a screen key (by its hash) or an
    organiser's session. An open stream keeps it, and ends when it is no longer valid."""

    festival: str
    key_hash: str | None = None
    session: str | None = None


def still_valid(db: Database, accesses: Collection[Access]) -> set[Access]:
    """Those of ``accesses`` that would still be let in: keys not revoked, organiser
    sessions not ended (logout, expiry) of organisers who still manage the festival."""
    from dashboard.accounts import session_organiser

    live = live_hashes(db, {a.key_hash for a in accesses if a.key_hash is not None})
    valid = {a for a in accesses if a.key_hash in live}
    for access in accesses:
        if access.session is not None:
            organiser = session_organiser(db, access.session)
            if organiser is not None and access.festival in organiser.festivals:
                valid.add(access)
    return valid
