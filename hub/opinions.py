"""The hub's opinion counts, as the consent layer reads them (docs/policies.md, Counting).

:class:`HubOpinions` is the only reader of opinion counts. Without a delay it reads the
counts that ingest keeps up to date as taps arrive, so a read costs in proportion to the
festival's artworks; with a delay it reads a view of each visitor's latest tap at that
instant that :mod:`hub.delayed` moves on with the taps stored and tapped since its last
read, so a read costs in proportion to the artworks and those taps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlite_utils import Database

from consent.sources import Cell, FestivalInfo, OpinionSource
from hub import counts, delayed, registry_store
from hub.models import Festival


def festival_info(festival: Festival) -> FestivalInfo:
    """What boards, pages and policies know of a festival: never its visitor key."""
    return FestivalInfo(
        festival.id,
        festival.name,
        festival.choices,
        festival.board_min_visitors,
        festival.timezone,
    )


class HubOpinions(OpinionSource):
    """Registry facts and opinion counts from the hub's database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def festivals(self) -> Sequence[FestivalInfo]:
        """Every registered festival, ordered by id."""
        return [festival_info(f) for f in registry_store.list_festivals(self.db)]

    def artwork_titles(self, festival_id: str) -> Mapping[str, str]:
        """The festival's artworks: id to title, ordered by id."""
        return {a.id: a.title for a in registry_store.list_artworks(self.db, festival_id)}

    def _choices(self, festival_id: str) -> tuple[str, ...]:
        festival = registry_store.get_festival(self.db, festival_id)
        return festival.choices if festival else ()

    def artwork_cells(self, festival_id: str, as_of: datetime | None) -> Sequence[Cell]:
        """One cell per artwork with at least one current opinion, ordered by artwork;
        every choice of the festival is in ``counts``, zeros included."""
        rows: Sequence[tuple[str, str, int]]
        if as_of is None:
            rows = counts.current_artwork_counts(self.db, festival_id)
        else:
            rows = delayed.counts_as_of(self.db, festival_id, as_of).artwork_counts
        return self._cells(festival_id, rows)

    def _cells(self, festival_id: str, rows: Sequence[tuple[str, str, int]]) -> list[Cell]:
        choices = self._choices(festival_id)
        by_artwork: dict[str, dict[str, int]] = {}
        for artwork, choice, n in rows:
            by_artwork.setdefault(artwork, dict.fromkeys(choices, 0))[choice] = n
        # In an artwork cell every visitor has exactly one current opinion.
        return [
            Cell(artwork=artwork, visitors=sum(tally.values()), counts=tally)
            for artwork, tally in sorted(by_artwork.items())
        ]

    def festival_cell(self, festival_id: str, as_of: datetime | None) -> Cell:
        """The whole festival: a visitor counts once in ``visitors`` and once per artwork
        in ``counts``."""
        rows: Sequence[tuple[str, str, int]]
        if as_of is None:
            rows = counts.current_artwork_counts(self.db, festival_id)
            visitors = counts.current_festival_visitors(self.db, festival_id)
        else:
            # Counts and visitors of one snapshot.
            found = delayed.counts_as_of(self.db, festival_id, as_of)
            rows, visitors = found.artwork_counts, found.visitors
        totals = dict.fromkeys(self._choices(festival_id), 0)
        for _, choice, n in rows:
            totals[choice] = totals.get(choice, 0) + n
        return Cell(artwork=None, visitors=visitors, counts=totals)
