"""What the consent layer reads from the rest of the system, as interfaces.

``consent`` imports neither the hub nor the dashboard: the hub's store implements
:class:`OpinionSource`, and whoever builds a board passes it in. Only
:mod:`consent.boards` may call the counting methods; everything that shows opinions to
anyone goes through :func:`consent.boards.build_board`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class FestivalInfo:
    """A registered festival, as boards and policies need to know it."""

    id: str
    name: str
    choices: tuple[str, ...]
    board_min_visitors: int = 1
    #: The IANA time zone the festival gives times in.
    timezone: str = "Europe/Amsterdam"


@dataclass(frozen=True)
class Cell:
    """Current opinions in one artwork (or, with ``artwork`` None, the whole festival).

    ``counts`` maps a choice to the number of current opinions with it; choices nobody
    gave may be absent. ``visitors`` is the number of distinct visitors among them.
    """

    artwork: str | None
    visitors: int
    counts: Mapping[str, int] = field(default_factory=dict)


class OpinionSource(Protocol):
    """Registry facts and opinion counts, as docs/policies.md (Counting) defines them.

    ``as_of`` None counts every stored tap; otherwise only taps with ``tapped_at`` at or
    before ``as_of`` count, and each visitor's latest remaining tap (by ``tapped_at``, then
    ``seq``, then ``id``) is their current opinion.
    """

    def festivals(self) -> Sequence[FestivalInfo]:
        """Every registered festival, ordered by id."""
        ...

    def artwork_titles(self, festival_id: str) -> Mapping[str, str]:
        """The festival's artworks: id to title."""
        ...

    def artwork_cells(self, festival_id: str, as_of: datetime | None) -> Sequence[Cell]:
        """One cell per artwork that has at least one current opinion, ordered by artwork."""
        ...

    def festival_cell(self, festival_id: str, as_of: datetime | None) -> Cell:
        """The whole festival as one cell: a visitor counts once in ``visitors`` and once
        per artwork in ``counts``."""
        ...
