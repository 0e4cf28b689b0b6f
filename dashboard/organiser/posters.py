"""Posters to print for the festival's artworks (docs/dashboard.md, Posters)."""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import BadRequest, NotFound

from dashboard.database import get_db
from dashboard.organiser.area import blueprint
from dashboard.organiser.auth import owner_required
from dashboard.posters import PAPERS, UnknownArtwork, poster_page


@blueprint.get("/<festival_id>/posters")
@owner_required
def posters(festival_id: str) -> str:
    """A page per artwork (``?artwork=ID``: only that one) on ``?paper=a4`` or ``a5``."""
    paper = request.args.get("paper", "a4")
    if paper not in PAPERS:
        raise BadRequest(f"paper is one of {', '.join(PAPERS)}")
    try:
        return poster_page(
            get_db(), festival_id, artwork=request.args.get("artwork") or None, paper=paper
        )
    except UnknownArtwork as exc:
        raise NotFound(str(exc)) from None
