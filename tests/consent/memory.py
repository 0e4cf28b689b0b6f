"""A small in-memory OpinionSource for tests of the board function, counting as in
docs/policies.md."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from consent.sources import Cell, FestivalInfo


@dataclass(frozen=True)
class Tap:
    festival: str
    artwork: str
    visitor: str
    choice: str
    tapped_at: datetime
    seq: int = 0
    id: str = ""


@dataclass
class MemorySource:
    infos: dict[str, FestivalInfo] = field(default_factory=dict)
    titles: dict[str, dict[str, str]] = field(default_factory=dict)
    taps: list[Tap] = field(default_factory=list)

    def add_festival(self, info: FestivalInfo, artworks: Mapping[str, str]) -> None:
        self.infos[info.id] = info
        self.titles[info.id] = dict(artworks)

    def tap(
        self,
        festival: str,
        artwork: str,
        visitor: str,
        choice: str,
        at: datetime,
        seq: int | None = None,
        id: str | None = None,
    ) -> None:
        number = len(self.taps)
        seq = number if seq is None else seq
        self.taps.append(Tap(festival, artwork, visitor, choice, at, seq, id or f"id-{number:06d}"))

    def festivals(self) -> Sequence[FestivalInfo]:
        return [self.infos[key] for key in sorted(self.infos)]

    def artwork_titles(self, festival_id: str) -> Mapping[str, str]:
        return dict(self.titles.get(festival_id, {}))

    def _current(self, festival_id: str, as_of: datetime | None) -> dict[tuple[str, str], Tap]:
        latest: dict[tuple[str, str], Tap] = {}
        for tap in self.taps:
            if tap.festival != festival_id or (as_of is not None and tap.tapped_at > as_of):
                continue
            key = (tap.artwork, tap.visitor)
            old = latest.get(key)
            if old is None or (tap.tapped_at, tap.seq, tap.id) > (old.tapped_at, old.seq, old.id):
                latest[key] = tap
        return latest

    def artwork_cells(self, festival_id: str, as_of: datetime | None) -> Sequence[Cell]:
        by_artwork: dict[str, list[Tap]] = {}
        for (artwork, _), tap in self._current(festival_id, as_of).items():
            by_artwork.setdefault(artwork, []).append(tap)
        return [
            Cell(artwork, len(taps), dict(Counter(tap.choice for tap in taps)))
            for artwork, taps in sorted(by_artwork.items())
        ]

    def festival_cell(self, festival_id: str, as_of: datetime | None) -> Cell:
        current = list(self._current(festival_id, as_of).values())
        return Cell(
            None,
            len({tap.visitor for tap in current}),
            dict(Counter(tap.choice for tap in current)),
        )
