"""What the dashboard reads, in one place: registry facts from the hub's queries, and
opinions only through the consent layer (:func:`consent.boards.build_board`, and
:func:`consent.history.own_history` for a festival's own history).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from consent import boards
from consent.boards import Board, build_board
from consent.decision import Decision
from consent.history import History
from consent.plain import explain
from consent.policy import Action, Policy
from consent.sources import FestivalInfo
from consent.store import PolicyStore
from hub import queries, store
from hub.opinions import HubOpinions

PUBLIC = "public"
ACTIONS: tuple[Action, ...] = ("display", "analyse", "export")


class UnknownFestival(LookupError):
    """A festival id that the hub's registry does not know."""

    def __init__(self, festival_id: str) -> None:
        super().__init__(f"unknown festival: {festival_id}")
        self.festival_id = festival_id


def now() -> datetime:
    """The server's clock, the "now" of every read (docs/policies.md, Counting)."""
    return datetime.now(UTC)


def _info(found: Any) -> FestivalInfo:
    # Only what boards and pages need: never the festival's visitor key.
    return FestivalInfo(found.id, found.name, tuple(found.choices), found.board_min_visitors)


def festival(db: Database, festival_id: str) -> FestivalInfo:
    """A registered festival; raises :class:`UnknownFestival` for any other id."""
    found = store.get_festival(db, festival_id)
    if found is None:
        raise UnknownFestival(festival_id)
    return _info(found)


def festivals(db: Database) -> list[FestivalInfo]:
    """Every registered festival, ordered by id."""
    return [_info(found) for found in store.list_festivals(db)]


def registration_dates(db: Database) -> dict[str, str]:
    """Festival ids to the date (``YYYY-MM-DD``) each was registered."""
    return {found.id: found.created_at[:10] for found in store.list_festivals(db)}


def festival_names(db: Database) -> dict[str, str]:
    """Festival ids to names, for rules that name another festival."""
    return {f.id: f.name for f in festivals(db)}


def artwork_titles(db: Database, festival_id: str) -> dict[str, str]:
    """The festival's artworks, id to title (registry facts, not opinions)."""
    return {artwork.id: artwork.title for artwork in store.list_artworks(db, festival_id)}


def artworks(db: Database, festival_id: str) -> list[Any]:
    """The festival's artworks as the hub lists them."""
    return list(store.list_artworks(db, festival_id))


def stations(db: Database, festival_id: str) -> list[Any]:
    """The festival's stations with their health (``hub.queries.StationHealth``)."""
    return list(queries.stations(db, festival_id))


def offline_stations(db: Database, festival_id: str) -> list[str]:
    """Enabled stations of the festival that announced they are offline."""
    return [s.station for s in stations(db, festival_id) if s.enabled and s.state == "offline"]


def viewer_for(board_id: str) -> str:
    """The viewer of a board id: ``public``, or ``festival:ID`` for a festival's screens."""
    return PUBLIC if board_id == PUBLIC else f"festival:{board_id}"


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


def explanation(db: Database, info: FestivalInfo, policy: Policy) -> list[str]:
    """The policy in plain words, one sentence per line."""
    return explain(info, policy, festival_names(db))


def policy_store(db: Database) -> PolicyStore:
    """The consent layer's store of policy versions, access log and receipts."""
    return PolicyStore(db)
