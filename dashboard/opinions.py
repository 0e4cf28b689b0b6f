"""What a viewer may see of the opinions: every read of them goes through
:func:`consent.boards.build_board`, which the consent layer decides (docs/policies.md).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from sqlite_utils import Database

from consent import boards
from consent.boards import Board, build_board
from consent.decision import Decision
from consent.history import History
from consent.policy import PUBLIC, Action, Policy, viewer_for
from consent.sources import FestivalInfo
from consent.store import PolicyStore
from hub.opinions import HubOpinions


def now() -> datetime:
    """The server's clock, the "now" of every read (docs/policies.md, Counting)."""
    return datetime.now(UTC)


def board_viewer(board_id: str) -> str:
    """The viewer of a board id: ``public``, or ``festival:ID`` for a festival's screens."""
    return PUBLIC if board_id == PUBLIC else viewer_for(board_id)


def board(
    db: Database,
    viewer: str,
    action: Action = "display",
    *,
    accessor: str | None = None,
    draft: tuple[str, Policy] | None = None,
    owners: Collection[str] | None = None,
    at: datetime | None = None,
) -> Board:
    """The board ``viewer`` may see for ``action`` now, decided by the consent layer.

    ``accessor`` names the person reading (recorded in owners' access logs for analyse and
    export reads); ``draft`` = (festival, policy) previews an unsaved policy; ``owners``
    limits the board to these festivals' sections (and the viewer's own), so that only
    what is read is logged as read.
    """
    source = HubOpinions(db) if owners is None else _SomeFestivals(db, owners, viewer)
    return build_board(
        source,
        PolicyStore(db),
        viewer,
        action,
        at or now(),
        accessor=accessor,
        draft=draft,
    )


class _SomeFestivals(HubOpinions):
    """The hub's opinions with fewer festivals on the board; counting is unchanged."""

    def __init__(self, db: Database, owners: Collection[str], viewer: str) -> None:
        super().__init__(db)
        self.keep = {*owners, viewer.removeprefix("festival:")}

    def festivals(self) -> Sequence[FestivalInfo]:
        """Only the festivals asked for (and the viewer's own)."""
        return [f for f in super().festivals() if f.id in self.keep]


def grants(db: Database, viewer: str, action: Action) -> list[tuple[FestivalInfo, Decision]]:
    """The festivals that let ``viewer`` have something for ``action`` now (no read)."""
    return boards.grants(HubOpinions(db), PolicyStore(db), viewer, action, now())


def own_history(db: Database, info: FestivalInfo) -> History:
    """The festival's own visitors per artwork, hour by hour, for its analyse view."""
    return boards.own_history(HubOpinions(db), info, now())
