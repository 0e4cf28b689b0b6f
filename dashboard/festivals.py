"""Registry facts as the dashboard's pages show them: festivals (never their visitor key),
their names, artwork titles and offline stations, and a policy in plain words. Opinions
are read only through :mod:`dashboard.opinions`.
"""

from __future__ import annotations

from sqlite_utils import Database

from consent.plain import explain
from consent.policy import Policy
from consent.sources import FestivalInfo
from dashboard.i18n import current_language
from hub import queries, registry_store, stickers
from hub.opinions import festival_info


class UnknownFestival(LookupError):
    """A festival id that the hub's registry does not know."""

    def __init__(self, festival_id: str) -> None:
        super().__init__(f"unknown festival: {festival_id}")
        self.festival_id = festival_id


def festival(db: Database, festival_id: str) -> FestivalInfo:
    """A registered festival; raises :class:`UnknownFestival` for any other id."""
    found = registry_store.get_festival(db, festival_id)
    if found is None:
        raise UnknownFestival(festival_id)
    return festival_info(found)


def festivals(db: Database) -> list[FestivalInfo]:
    """Every registered festival, ordered by id."""
    return [festival_info(found) for found in registry_store.list_festivals(db)]


def registration_dates(db: Database) -> dict[str, str]:
    """Festival ids to the date (``YYYY-MM-DD``) each was registered."""
    return {found.id: found.created_at[:10] for found in registry_store.list_festivals(db)}


def festival_names(db: Database) -> dict[str, str]:
    """Festival ids to names, for rules that name another festival."""
    return {f.id: f.name for f in festivals(db)}


def artwork_titles(db: Database, festival_id: str) -> dict[str, str]:
    """The festival's artworks, id to title (registry facts, not opinions)."""
    return {artwork.id: artwork.title for artwork in registry_store.list_artworks(db, festival_id)}


def offline_stations(db: Database, festival_id: str) -> list[str]:
    """Enabled stations of the festival that announced they are offline."""
    return [
        s.station for s in queries.stations(db, festival_id) if s.enabled and s.state == "offline"
    ]


def has_stickers(db: Database, festival_id: str) -> bool:
    """Whether the festival has an enabled sticker at which visitors' phones vote."""
    return any(sticker.enabled for sticker in stickers.list_stickers(db, festival_id))


def explanation(db: Database, info: FestivalInfo, policy: Policy) -> list[str]:
    """The policy in plain words, one sentence per line, in the reader's language."""
    return explain(info, policy, festival_names(db), lang=current_language())
