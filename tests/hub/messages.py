"""Build signed messages for the hub's tests."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

from hub.models import StationCredentials
from protocol import EraseRequest, Opinion, parse_key

BASE = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
_seq = itertools.count()


def visitor(n: int) -> str:
    """A made-up pseudonym for visitor number n."""
    return f"{n:064x}"


def opinion(
    station: StationCredentials,
    *,
    artwork: str = "aw-1",
    who: int = 1,
    choice: str = "love",
    minute: float = 0,
    seq: int | None = None,
    id: str | None = None,
) -> Opinion:
    """A signed opinion of ``station`` at BASE + ``minute``."""
    return Opinion.build(
        id=id or str(uuid.uuid4()),
        festival=station.festival,
        station=station.station,
        artwork=artwork,
        visitor=visitor(who),
        choice=choice,
        tapped_at=BASE + timedelta(minutes=minute),
        seq=next(_seq) if seq is None else seq,
        station_secret=parse_key(station.station_secret),
    )


def erase(station: StationCredentials, *, who: int = 1, minute: float = 0) -> EraseRequest:
    """A signed erase request of ``station``."""
    return EraseRequest.build(
        id=str(uuid.uuid4()),
        festival=station.festival,
        station=station.station,
        visitor=visitor(who),
        requested_at=BASE + timedelta(minutes=minute),
        seq=next(_seq),
        station_secret=parse_key(station.station_secret),
    )
