"""The festival's stickers for phones: list them, add one, disable one — with the sticker
functions and validation of ``tapshare tag add|list|disable`` (docs/phones.md).

A new SDM sticker's keys are shown once, in the answer to the form, for the tag-writing
app; the list never shows them.
"""

from __future__ import annotations

import json

from flask import flash, redirect, request, url_for
from sqlite_utils import Database
from werkzeug.wrappers import Response

from dashboard import festivals
from dashboard.database import get_db
from dashboard.i18n import gettext as _
from dashboard.i18n import refusal
from dashboard.organiser.area import blueprint
from dashboard.organiser.auth import owner_required
from dashboard.organiser.owner_page import owner_page
from hub import registry_store, stickers
from hub.registry import RegistryError


def _context(db: Database, festival_id: str) -> dict[str, object]:
    return {
        "stickers": stickers.list_stickers(db, festival_id),
        "titles": festivals.artwork_titles(db, festival_id),
        "artworks": registry_store.list_artworks(db, festival_id),
    }


_page = owner_page(
    "stickers",
    "stickers_page",
    "organiser/stickers.html",
    _context,
    "The festival's stickers (never their keys) and the forms to add and disable them.",
)


@blueprint.post("/<festival_id>/stickers")
@owner_required
def stickers_submit(festival_id: str) -> Response | str | tuple[str, int]:
    """Add a sticker (``do=add``: ``tag``, ``artwork``, ``choice`` or none, ``static``) or
    disable one (``do=disable``: ``tag``)."""
    db = get_db()
    action = request.form.get("do", "")
    tag = request.form.get("tag", "").strip()
    try:
        if action == "add":
            sticker = stickers.add(
                db,
                festival_id,
                tag,
                request.form.get("artwork", ""),
                request.form.get("choice") or None,
                static=request.form.get("static") == "yes",
            )
            details = stickers.writing_details(request.url_root, sticker)
            return _page(
                festival_id,
                added=sticker,
                details=json.dumps(details, indent=2, ensure_ascii=False),
                address=details["url"],
            )
        if action == "disable":
            stickers.disable(db, festival_id, tag)
            flash(_("Sticker %(tag)s disabled: its taps are refused from now on.", tag=tag))
            return redirect(url_for("organiser.stickers_page", festival_id=festival_id))
    except RegistryError as exc:
        return _page(festival_id, error=refusal(exc), tag=tag), 400
    return _page(festival_id, error=_("Unknown action."), tag=tag), 400
