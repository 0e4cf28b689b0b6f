"""A festival's own opinions over time, for its analyse view: per artwork, how many
visitors had given an opinion at the end of each hour (counted by
:func:`consent.boards.own_history`, the one module that reaches the counts).

Only the festival itself reads its history this way, so no policy rule and no access log
is involved (docs/policies.md: a festival always sees its own data). The festival's own
minimum per cell (``board_min_visitors``) still holds: a smaller count is withheld (None).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from consent.sources import FestivalInfo

#: How far back the history reaches, in hours.
HOURS = 24


@dataclass(frozen=True, slots=True)
class Series:
    """One artwork's visitors at the end of each hour (None: withheld, too few)."""

    artwork: str
    title: str
    visitors: tuple[int | None, ...]


@dataclass(frozen=True, slots=True)
class History:
    """Hour ends (UTC) and one series per artwork that had opinions in that time."""

    hours: tuple[datetime, ...]
    series: tuple[Series, ...]


def hour_ends(now: datetime, hours: int = HOURS) -> list[datetime]:
    """The ends of the last ``hours`` whole hours, and ``now`` last."""
    top = now.replace(minute=0, second=0, microsecond=0)
    ends = [top - timedelta(hours=n) for n in range(hours - 1, -1, -1)]
    return [end for end in ends if end < now] + [now]


def shown(visitors: int, festival: FestivalInfo) -> int | None:
    """``visitors`` as the festival's own boards show it: None below its minimum."""
    return visitors if visitors == 0 or visitors >= festival.board_min_visitors else None
