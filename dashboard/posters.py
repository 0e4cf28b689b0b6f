"""Posters to print and put up beside each artwork (docs/dashboard.md, Posters).

One printable page per artwork: its title, how to give an opinion (a tap of a wristband or
card, or a phone at the artwork's sticker), a QR code of the festival's transparency page
and what the festival shares, in plain words. The organiser area serves it and ``tapshare
poster`` writes it to a file; both render it here, inside a request, so that its addresses
are the dashboard's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from flask import render_template
from flask_babel import get_locale
from markupsafe import Markup
from sqlite_utils import Database

from consent.store import PolicyStore
from dashboard import festivals
from hub import registry_store, stickers

#: Paper sizes a poster is laid out for (CSS ``@page`` sizes).
PAPERS: Final = ("a4", "a5")
STYLE: Final = Path(__file__).parent / "static" / "poster.css"


class UnknownArtwork(LookupError):
    """An artwork id that the festival does not have."""

    def __init__(self, festival_id: str, artwork_id: str) -> None:
        super().__init__(f"festival {festival_id!r} has no artwork {artwork_id!r}")


def poster_page(
    db: Database,
    festival_id: str,
    *,
    artwork: str | None = None,
    paper: str = "a4",
    standalone: bool = False,
) -> str:
    """The festival's posters as one HTML document, a page per artwork (or only
    ``artwork``'s). ``standalone`` puts the style sheet in the document, for a file that is
    printed away from the dashboard. Raises ``UnknownFestival`` or :class:`UnknownArtwork`.
    """
    if paper not in PAPERS:
        raise ValueError(f"paper is one of {', '.join(PAPERS)}, not {paper!r}")
    info = festivals.festival(db, festival_id)
    artworks = list(registry_store.list_artworks(db, festival_id))
    if artwork is not None:
        artworks = [found for found in artworks if found.id == artwork]
        if not artworks:
            raise UnknownArtwork(festival_id, artwork)
    with_stickers = {
        sticker.artwork for sticker in stickers.list_stickers(db, festival_id) if sticker.enabled
    }
    policy = PolicyStore(db).current(festival_id).policy
    return render_template(
        "poster.html",
        festival=info,
        artworks=artworks,
        with_stickers=with_stickers,
        sharing=festivals.explanation(db, info, policy),
        paper=paper,
        lang=str(get_locale() or "en"),
        style=Markup(STYLE.read_text()) if standalone else None,
    )
