"""The organiser's screen keys: list them, make one (its address is shown once), revoke one."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from dashboard import screens
from dashboard.database import get_db
from dashboard.i18n import gettext
from dashboard.organiser.area import blueprint
from dashboard.organiser.auth import owner_required
from dashboard.organiser.owner_page import owner_page

_page = owner_page(
    "screens",
    "screens_page",
    "organiser/screens.html",
    lambda db, festival_id: {"screens": screens.screens(db, festival_id)},
    "The festival's screen keys: names and when each was last used.",
)


@blueprint.post("/<festival_id>/screens")
@owner_required
def screens_submit(festival_id: str) -> Response | str | tuple[str, int]:
    """Make a screen key (``do=add``) or revoke one (``do=revoke``), both by ``name``."""
    db = get_db()
    name = request.form.get("name", "").strip()
    action = request.form.get("do", "")
    try:
        if action == "add":
            key = screens.add_screen(db, festival_id, name)
            address = url_for("boards.board", board_id=festival_id, key=key, _external=True)
            return _page(festival_id, made=name, address=address)
        if action == "revoke":
            screens.revoke_screen(db, festival_id, name)
            flash(gettext("Revoked the key of screen %(name)s: its board has closed.", name=name))
            return redirect(url_for("organiser.screens_page", festival_id=festival_id))
    except screens.ScreenKeyError as exc:
        return _page(festival_id, error=str(exc), name=name), 400
    return _page(festival_id, error=f"unknown action: {action!r}", name=name), 400
