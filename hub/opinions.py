"""The hub's opinion counts, as the consent layer reads them (SPEC §4).

:class:`HubOpinions` is the only reader of opinion counts. Without a delay it reads the
counts that ingest keeps up to date as taps arrive, so a read costs in proportion to the
festival's artworks; with a delay it recomputes each visitor's latest tap at that instant
from the stored taps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlite_utils import Database

from consent.sources import Cell, FestivalInfo, OpinionSource
from hub import store


class HubOpinions(OpinionSource):
    """Registry facts and opinion counts from the hub's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def festivals(self) -> Sequence[FestivalInfo]:
        """Every registered festival, ordered by id."""
        return [
            FestivalInfo(f.id, f.name, f.choices, f.board_min_visitors)
            for f in store.list_festivals(self.db)
        ]

    def artwork_titles(self, festival_id: str) -> Mapping[str, str]:
        """The festival's artworks: id to title, ordered by id."""
        return {a.id: a.title for a in store.list_artworks(self.db, festival_id)}

    def _choices(self, festival_id: str) -> tuple[str, ...]:
        festival = store.get_festival(self.db, festival_id)
        return festival.choices if festival else ()

    def artwork_cells(self, festival_id: str, as_of: datetime | None) -> Sequence[Cell]:
        """One cell per artwork with at least one current opinion, ordered by artwork;
        every choice of the festival is in ``counts``, zeros included."""
        if as_of is None:
            rows = store.current_artwork_counts(self.db, festival_id)
        else:
            rows = store.artwork_counts_as_of(self.db, festival_id, as_of)
        choices = self._choices(festival_id)
        by_artwork: dict[str, dict[str, int]] = {}
        for artwork, choice, n in rows:
            by_artwork.setdefault(artwork, dict.fromkeys(choices, 0))[choice] = n
        # In an artwork cell every visitor has exactly one current opinion.
        return [
            Cell(artwork=artwork, visitors=sum(counts.values()), counts=counts)
            for artwork, counts in sorted(by_artwork.items())
        ]

    def festival_cell(self, festival_id: str, as_of: datetime | None) -> Cell:
        """The whole festival: a visitor counts once in ``visitors`` and once per artwork
        in ``counts``."""
        counts = dict.fromkeys(self._choices(festival_id), 0)
        for cell in self.artwork_cells(festival_id, as_of):
            for choice, n in cell.counts.items():
                counts[choice] = counts.get(choice, 0) + n
        if as_of is None:
            visitors = store.current_festival_visitors(self.db, festival_id)
        else:
            visitors = store.festival_visitors_as_of(self.db, festival_id, as_of)
        return Cell(artwork=None, visitors=visitors, counts=counts)
