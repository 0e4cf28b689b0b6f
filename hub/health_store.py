"""The SQL of what the hub knows of its stations' health, the messages it rejected (dead
letters) and the erasures it carried out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from hub.models import DeadLetter
from storage import from_row


@dataclass(frozen=True)
class LastStatus:
    """The last status a station sent (or its last will)."""

    state: str
    last_seen: str
    last_seen_us: int
    outbox: int
    outbox_full: bool
    readers: tuple[dict[str, Any], ...]
    version: str | None


@dataclass(frozen=True)
class Erasure:
    """An erase request carried out (no pseudonyms: none are kept)."""

    station: str
    requested_at: str
    erased_at: str
    taps_deleted: int


def list_station_status(db: Database, festival_id: str) -> dict[str, LastStatus]:
    """The last known status of each of a festival's stations that sent one."""
    rows = db.conn.execute(
        "SELECT station, state, last_seen, last_seen_us, outbox, outbox_full, readers, "
        "version FROM station_status WHERE festival = ?",
        (festival_id,),
    )
    return {
        row["station"]: from_row(
            LastStatus,
            row,
            outbox_full=bool(row["outbox_full"]),
            readers=tuple(json.loads(row["readers"])),
        )
        for row in rows
    }


def list_dead_letters(db: Database, limit: int) -> list[DeadLetter]:
    """The latest dead letters, newest first."""
    rows = db.conn.execute(
        "SELECT id, received_at, topic, reason, detail, payload, size FROM dead_letters "
        "ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [from_row(DeadLetter, row, payload=bytes(row["payload"])) for row in rows]


def list_erasures(db: Database, festival_id: str) -> list[Erasure]:
    """A festival's erasure records, oldest first."""
    rows = db.conn.execute(
        "SELECT station, requested_at, erased_at, taps_deleted FROM erasures "
        "WHERE festival = ? ORDER BY id",
        (festival_id,),
    )
    return [from_row(Erasure, row) for row in rows]
