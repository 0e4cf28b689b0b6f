"""The SQL of the hub's registry: festivals, artworks, stations and broker accounts.

Functions take a sqlite-utils ``Database`` (:func:`storage.connect`); each write is one
short transaction (:func:`storage.immediate`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from sqlite_utils import Database

from hub.models import WEB_STATION, Artwork, Festival, Station
from storage import from_row, immediate, write_one


def _festival(row: sqlite3.Row) -> Festival:
    return from_row(Festival, row, choices=tuple(json.loads(row["choices"])))


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
    return write_one(
        db,
        "UPDATE festivals SET name = coalesce(?, name), "
        "board_min_visitors = coalesce(?, board_min_visitors), "
        "timezone = coalesce(?, timezone) WHERE id = ?",
        (name, board_min_visitors, timezone, festival_id),
    )


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
    return [from_row(Artwork, row) for row in rows]


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
    return write_one(
        db,
        "UPDATE stations SET enabled = 0, disabled_at = coalesce(disabled_at, ?) "
        "WHERE festival = ? AND id = ?",
        (when, festival_id, station_id),
    )


def list_stations(db: Database, festival_id: str) -> list[Station]:
    """A festival's stations, ordered by id."""
    rows = db.conn.execute(
        "SELECT festival, id, enabled, broker_username, created_at FROM stations "
        "WHERE festival = ? ORDER BY id",
        (festival_id,),
    )
    return [from_row(Station, row, enabled=bool(row["enabled"])) for row in rows]


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
    return from_row(StationKey, row, enabled=bool(row["enabled"])) if row else None


def station_registered_elsewhere(db: Database, festival_id: str, station_id: str) -> bool:
    """Whether a station with this id is registered for another festival."""
    row = db.conn.execute(
        "SELECT 1 FROM stations WHERE id = ? AND festival <> ? LIMIT 1",
        (station_id, festival_id),
    ).fetchone()
    return row is not None


@dataclass(frozen=True)
class BrokerAccount:
    """An account of the broker: a station's, a site broker's bridge (with its festival) or
    a service's (the hub's, the dashboard's). Only a hash of the password is kept."""

    username: str
    password_hash: str
    festival: str | None = None
    station: str | None = None


def _account(row: sqlite3.Row) -> BrokerAccount:
    # A service's account has no festival, a bridge's no station.
    keys = row.keys()
    return from_row(
        BrokerAccount,
        row,
        festival=row["festival"] if "festival" in keys else None,
        station=row["station"] if "station" in keys else None,
    )


def broker_station_accounts(db: Database, festival_id: str | None = None) -> list[BrokerAccount]:
    """The account of every enabled station (of one festival, when given) but the
    festivals' web stations, whose messages the dashboard publishes through its own."""
    rows = db.conn.execute(
        "SELECT broker_username AS username, broker_password_hash AS password_hash, festival, "
        "id AS station FROM stations "
        "WHERE enabled = 1 AND id <> ? AND (? IS NULL OR festival = ?) ORDER BY festival, id",
        (WEB_STATION, festival_id, festival_id),
    )
    return [_account(row) for row in rows]


def broker_account(db: Database, role: str) -> BrokerAccount | None:
    """The service account with this role, or None."""
    row = db.conn.execute(
        "SELECT username, password_hash FROM broker_accounts WHERE role = ?", (role,)
    ).fetchone()
    return _account(row) if row else None


def set_broker_account(db: Database, role: str, account: BrokerAccount, created_at: str) -> None:
    """Create or replace the service account with this role."""
    with immediate(db):
        db.conn.execute("DELETE FROM broker_accounts WHERE role = ?", (role,))
        db.conn.execute(
            "INSERT INTO broker_accounts (username, role, password_hash, created_at) "
            "VALUES (?, ?, ?, ?)",
            (account.username, role, account.password_hash, created_at),
        )


def bridge_accounts(db: Database) -> list[BrokerAccount]:
    """Every site broker's bridge account, with its festival."""
    rows = db.conn.execute(
        "SELECT username, password_hash, festival FROM broker_accounts "
        "WHERE role = 'site' ORDER BY festival"
    )
    return [_account(row) for row in rows]


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
