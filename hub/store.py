"""Every SQL statement of the hub, in one place, but for the reads of opinion counts
(:mod:`hub.counts`, used by :mod:`hub.opinions` only).

Functions take a sqlite-utils ``Database`` (see :func:`tapshare.database.connect`). The ingest
service's writes are in :mod:`hub.write_path`; the registry's writes are single short
transactions.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from hub.models import WEB_STATION, Artwork, DeadLetter, Festival, Station
from protocol import (
    format_timestamp,
)
from protocol.topics import PREFIX

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """An aware datetime as whole microseconds since the epoch (exact, for ordering)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def now_text(moment: datetime | None = None) -> str:
    """A time stamp as the hub writes it (RFC 3339 UTC, milliseconds, ``Z``)."""
    return format_timestamp(moment or datetime.now(UTC))


@contextlib.contextmanager
def immediate(db: Database) -> Iterator[Database]:
    """A write transaction that takes the write lock at once (waiting up to the busy
    timeout), so that it never fails half-way on a lock held by another writer."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        try:
            db.conn.execute("COMMIT")
        except BaseException:
            # A commit that fails (the disk is full) can leave the transaction open; end it
            # so that the next attempt starts afresh.
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise


# -- registry ------------------------------------------------------------------------------


def _festival(row: Sequence[Any]) -> Festival:
    return Festival(
        id=row[0],
        name=row[1],
        choices=tuple(json.loads(row[2])),
        visitor_key=row[3],
        board_min_visitors=int(row[4]),
        created_at=row[5],
        timezone=row[6],
    )


_FESTIVAL_COLUMNS = "id, name, choices, visitor_key, board_min_visitors, created_at, timezone"


def insert_festival(db: Database, festival: Festival) -> None:
    """Register a festival; raises sqlite3.IntegrityError when the id is taken."""
    with immediate(db):
        db.conn.execute(
            f"INSERT INTO festivals ({_FESTIVAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                festival.id,
                festival.name,
                json.dumps(list(festival.choices)),
                festival.visitor_key,
                festival.board_min_visitors,
                festival.created_at,
                festival.timezone,
            ),
        )


def update_festival(
    db: Database,
    festival_id: str,
    name: str | None,
    board_min_visitors: int | None,
    timezone: str | None = None,
) -> bool:
    """Change a festival's name, board minimum and/or time zone; False when it does not
    exist."""
    with immediate(db):
        cursor = db.conn.execute(
            "UPDATE festivals SET name = coalesce(?, name), "
            "board_min_visitors = coalesce(?, board_min_visitors), "
            "timezone = coalesce(?, timezone) WHERE id = ?",
            (name, board_min_visitors, timezone, festival_id),
        )
        return cursor.rowcount == 1


def get_festival(db: Database, festival_id: str) -> Festival | None:
    """One festival, or None."""
    row = db.conn.execute(
        f"SELECT {_FESTIVAL_COLUMNS} FROM festivals WHERE id = ?", (festival_id,)
    ).fetchone()
    return _festival(row) if row else None


def list_festivals(db: Database) -> list[Festival]:
    """Every festival, ordered by id."""
    rows = db.conn.execute(f"SELECT {_FESTIVAL_COLUMNS} FROM festivals ORDER BY id")
    return [_festival(row) for row in rows]


def insert_artwork(db: Database, artwork: Artwork, created_at: str) -> None:
    """Register an artwork; raises sqlite3.IntegrityError when the id is taken."""
    with immediate(db):
        db.conn.execute(
            "INSERT INTO artworks (festival, id, title, created_at) VALUES (?, ?, ?, ?)",
            (artwork.festival, artwork.id, artwork.title, created_at),
        )


def list_artworks(db: Database, festival_id: str) -> list[Artwork]:
    """A festival's artworks, ordered by id."""
    rows = db.conn.execute(
        "SELECT festival, id, title FROM artworks WHERE festival = ? ORDER BY id",
        (festival_id,),
    )
    return [Artwork(*row) for row in rows]


def artwork_exists(db: Database, festival_id: str, artwork_id: str) -> bool:
    """Whether the festival has this artwork."""
    row = db.conn.execute(
        "SELECT 1 FROM artworks WHERE festival = ? AND id = ?", (festival_id, artwork_id)
    ).fetchone()
    return row is not None


def insert_station(
    db: Database,
    festival_id: str,
    station_id: str,
    secret: str,
    broker_username: str,
    password_hash: str,
    created_at: str,
) -> None:
    """Register a station; raises sqlite3.IntegrityError when it exists."""
    with immediate(db):
        db.conn.execute(
            "INSERT INTO stations (festival, id, secret, broker_username, "
            "broker_password_hash, enabled, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)",
            (festival_id, station_id, secret, broker_username, password_hash, created_at),
        )


def disable_station(db: Database, festival_id: str, station_id: str, when: str) -> bool:
    """Disable a station; False when it does not exist."""
    with immediate(db):
        cursor = db.conn.execute(
            "UPDATE stations SET enabled = 0, disabled_at = coalesce(disabled_at, ?) "
            "WHERE festival = ? AND id = ?",
            (when, festival_id, station_id),
        )
        return cursor.rowcount == 1


def festival_retentions(db: Database) -> list[tuple[str, int]]:
    """(festival, retain_days) of every festival that keeps its taps for a limited time."""
    rows = db.conn.execute(
        "SELECT id, retain_days FROM festivals WHERE retain_days > 0 ORDER BY id"
    )
    return [(row[0], int(row[1])) for row in rows]


def festival_retain_days(db: Database, festival_id: str) -> int:
    """How many days the festival keeps its taps (0: forever)."""
    row = db.conn.execute(
        "SELECT retain_days FROM festivals WHERE id = ?", (festival_id,)
    ).fetchone()
    return int(row[0]) if row else 0


def set_festival_retain_days(db: Database, festival_id: str, days: int) -> None:
    """Set how many days the festival keeps its taps (0: forever)."""
    with immediate(db):
        db.conn.execute("UPDATE festivals SET retain_days = ? WHERE id = ?", (days, festival_id))


def expire_current_opinions(db: Database, festival_id: str, cutoff_us: int) -> int:
    """Remove current opinions older than the cut-off (inside the caller's transaction);
    the counting triggers follow. A current opinion is its key's latest tap, so these are
    exactly the keys whose every tap is about to be removed."""
    return int(
        db.conn.execute(
            "DELETE FROM current_opinions WHERE festival = ? AND tapped_us < ?",
            (festival_id, cutoff_us),
        ).rowcount
    )


def expire_taps(db: Database, festival_id: str, cutoff_us: int, limit: int) -> int:
    """Remove up to ``limit`` taps older than the cut-off (inside the caller's
    transaction); their ids stay accepted, so a redelivery does not bring them back."""
    return int(
        db.conn.execute(
            "DELETE FROM taps WHERE tap_no IN (SELECT tap_no FROM taps "
            "WHERE festival = ? AND tapped_us < ? LIMIT ?)",
            (festival_id, cutoff_us, limit),
        ).rowcount
    )


def expire_accepted_ids(db: Database, festival_id: str, received_before: str) -> int:
    """Forget the ids of the festival's opinions received before a time (inside the
    caller's transaction); erase requests' ids are kept."""
    return int(
        db.conn.execute(
            "DELETE FROM accepted_ids WHERE festival = ? AND received_at < ?",
            (festival_id, received_before),
        ).rowcount
    )


def expire_dead_letters(db: Database, festival_id: str, received_before: str) -> int:
    """Remove the dead letters on the festival's topics received before a time (inside
    the caller's transaction)."""
    prefix = f"{PREFIX}/{festival_id}/"
    return int(
        db.conn.execute(
            "DELETE FROM dead_letters WHERE substr(topic, 1, ?) = ? AND received_at < ?",
            (len(prefix), prefix, received_before),
        ).rowcount
    )


def list_stations(db: Database, festival_id: str) -> list[Station]:
    """A festival's stations, ordered by id."""
    rows = db.conn.execute(
        "SELECT festival, id, enabled, broker_username, created_at FROM stations "
        "WHERE festival = ? ORDER BY id",
        (festival_id,),
    )
    return [Station(row[0], row[1], bool(row[2]), row[3], row[4]) for row in rows]


@dataclass(frozen=True)
class StationKey:
    """What ingest needs to know about a station to accept its messages."""

    secret: str
    enabled: bool


def station_key(db: Database, festival_id: str, station_id: str) -> StationKey | None:
    """The station's secret and whether it is enabled, or None when unknown."""
    row = db.conn.execute(
        "SELECT secret, enabled FROM stations WHERE festival = ? AND id = ?",
        (festival_id, station_id),
    ).fetchone()
    return StationKey(row[0], bool(row[1])) if row else None


def station_registered_elsewhere(db: Database, festival_id: str, station_id: str) -> bool:
    """Whether a station with this id is registered for another festival."""
    row = db.conn.execute(
        "SELECT 1 FROM stations WHERE id = ? AND festival <> ? LIMIT 1",
        (station_id, festival_id),
    ).fetchone()
    return row is not None


def broker_station_accounts(
    db: Database, festival_id: str | None = None
) -> list[tuple[str, str, str, str]]:
    """(username, password hash, festival, station) of every enabled station (of one
    festival, when given) but the festivals' web stations, whose messages the dashboard
    publishes through its own account."""
    rows = db.conn.execute(
        "SELECT broker_username, broker_password_hash, festival, id FROM stations "
        "WHERE enabled = 1 AND id <> ? AND (? IS NULL OR festival = ?) ORDER BY festival, id",
        (WEB_STATION, festival_id, festival_id),
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def broker_account(db: Database, role: str) -> tuple[str, str] | None:
    """(username, password hash) of the service account with this role, or None."""
    row = db.conn.execute(
        "SELECT username, password_hash FROM broker_accounts WHERE role = ?", (role,)
    ).fetchone()
    return (row[0], row[1]) if row else None


def set_broker_account(
    db: Database, role: str, username: str, password_hash: str, created_at: str
) -> None:
    """Create or replace the service account with this role."""
    with immediate(db):
        db.conn.execute("DELETE FROM broker_accounts WHERE role = ?", (role,))
        db.conn.execute(
            "INSERT INTO broker_accounts (username, role, password_hash, created_at) "
            "VALUES (?, ?, ?, ?)",
            (username, role, password_hash, created_at),
        )


def bridge_accounts(db: Database) -> list[tuple[str, str, str]]:
    """(username, password hash, festival) of every site broker's bridge account."""
    rows = db.conn.execute(
        "SELECT username, password_hash, festival FROM broker_accounts "
        "WHERE role = 'site' ORDER BY festival"
    )
    return [(row[0], row[1], row[2]) for row in rows]


def set_bridge_account(
    db: Database, festival_id: str, username: str, password_hash: str, created_at: str
) -> None:
    """Create or replace the bridge account of a festival's site broker."""
    with immediate(db):
        db.conn.execute(
            "DELETE FROM broker_accounts WHERE role = 'site' AND festival = ?", (festival_id,)
        )
        db.conn.execute(
            "INSERT INTO broker_accounts (username, role, password_hash, created_at, festival) "
            "VALUES (?, 'site', ?, ?, ?)",
            (username, password_hash, created_at, festival_id),
        )


# -- counters ------------------------------------------------------------------------------


def add_counters(db: Database, counters: Mapping[tuple[str, str], float]) -> None:
    """Add to counters (inside the caller's transaction)."""
    db.conn.executemany(
        "INSERT INTO hub_counters (name, labels, value) VALUES (?, ?, ?) "
        "ON CONFLICT (name, labels) DO UPDATE SET value = value + excluded.value",
        [(name, labels, value) for (name, labels), value in counters.items() if value],
    )


def list_counters(db: Database) -> list[tuple[str, str, float]]:
    """Every counter as (name, labels JSON, value), ordered by name and labels."""
    rows = db.conn.execute("SELECT name, labels, value FROM hub_counters ORDER BY name, labels")
    return [(row[0], row[1], float(row[2])) for row in rows]


# -- health and dead letters ---------------------------------------------------------------


def list_station_status(db: Database, festival_id: str) -> dict[str, dict[str, Any]]:
    """The last known status of each of a festival's stations that sent one."""
    rows = db.conn.execute(
        "SELECT station, state, last_seen, last_seen_us, outbox, outbox_full, readers, "
        "version FROM station_status WHERE festival = ?",
        (festival_id,),
    )
    return {
        row[0]: {
            "state": row[1],
            "last_seen": row[2],
            "last_seen_us": int(row[3]),
            "outbox": int(row[4]),
            "outbox_full": bool(row[5]),
            "readers": tuple(json.loads(row[6])),
            "version": row[7],
        }
        for row in rows
    }


def list_dead_letters(db: Database, limit: int) -> list[DeadLetter]:
    """The latest dead letters, newest first."""
    rows = db.conn.execute(
        "SELECT id, received_at, topic, reason, detail, payload, size FROM dead_letters "
        "ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [
        DeadLetter(row[0], row[1], row[2], row[3], row[4], bytes(row[5]), row[6]) for row in rows
    ]


def list_erasures(db: Database, festival_id: str) -> list[dict[str, Any]]:
    """A festival's erasure records, oldest first (no pseudonyms: none are kept)."""
    rows = db.conn.execute(
        "SELECT station, requested_at, erased_at, taps_deleted FROM erasures "
        "WHERE festival = ? ORDER BY id",
        (festival_id,),
    )
    return [
        {"station": r[0], "requested_at": r[1], "erased_at": r[2], "taps_deleted": r[3]}
        for r in rows
    ]


# -- platform keys -------------------------------------------------------------------------


def insert_platform_key(db: Database, name: str, key_hash: str, created_at: str) -> None:
    """Store a platform key's hash; raises sqlite3.IntegrityError when the name is taken."""
    with immediate(db):
        db.conn.execute(
            "INSERT INTO platform_keys (name, key_hash, created_at) VALUES (?, ?, ?)",
            (name, key_hash, created_at),
        )


def list_platform_keys(db: Database) -> list[tuple[str, str, str | None]]:
    """Every platform key as (name, created_at, last_used_at), ordered by name."""
    rows = db.conn.execute("SELECT name, created_at, last_used_at FROM platform_keys ORDER BY name")
    return [(row[0], row[1], row[2]) for row in rows]


def delete_platform_key(db: Database, name: str) -> bool:
    """Remove a platform key; False when there is none of that name."""
    with immediate(db):
        cursor = db.conn.execute("DELETE FROM platform_keys WHERE name = ?", (name,))
        return cursor.rowcount == 1


def platform_key_by_hash(db: Database, key_hash: str) -> tuple[str, str | None] | None:
    """(name, last_used_at) of the platform key with this hash, or None."""
    row = db.conn.execute(
        "SELECT name, last_used_at FROM platform_keys WHERE key_hash = ?", (key_hash,)
    ).fetchone()
    return None if row is None else (str(row[0]), row[1])


def mark_platform_key_used(db: Database, name: str, when: str) -> None:
    """Record when a platform key was last used."""
    with immediate(db):
        db.conn.execute("UPDATE platform_keys SET last_used_at = ? WHERE name = ?", (when, name))
