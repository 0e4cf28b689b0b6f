"""Putting opinions and station statuses into the hub's store, the way the hub does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub import write_path
from protocol.messages import Opinion, StationStatus
from protocol.timestamps import format_timestamp
from storage import connect

SECRET = bytes(32)


def add_opinions(
    db_path: Path,
    festival: str,
    artwork: str,
    choices: list[str],
    first_visitor: int = 0,
    *,
    station: str = "st-01",
    minutes_ago: float = 1.0,
) -> None:
    """One opinion per choice, each from a different visitor, stored in one batch."""
    tapped_at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    items = [
        write_path.StoreOpinion(
            Opinion.build(
                id=str(uuid.uuid4()),
                festival=festival,
                station=station,
                artwork=artwork,
                visitor=f"{number:064x}",
                choice=choice,
                tapped_at=tapped_at,
                seq=number,
                station_secret=SECRET,
            ),
            datetime.now(UTC),
        )
        for number, choice in enumerate(choices, start=first_visitor)
    ]
    db = connect(db_path)
    try:
        write_path.write_batch(db, items, {})
    finally:
        db.close()


def set_station_state(
    db_path: Path,
    festival: str,
    station: str,
    state: str,
    *,
    outbox: int = 0,
    readers: list[dict[str, Any]] | None = None,
    seconds_ago: float = 0,
) -> None:
    """Store a status message of the station, as the hub does when one arrives (that many
    seconds ago)."""
    now = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    status = StationStatus(
        v=1,
        station=station,
        state=state,
        at=format_timestamp(now),
        outbox=outbox,
        readers=readers or [],
        version="test",
    )
    db = connect(db_path)
    try:
        write_path.write_batch(db, [write_path.StoreStatus(festival, status, now, False)], {})
    finally:
        db.close()
