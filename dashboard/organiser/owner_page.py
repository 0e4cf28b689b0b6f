"""The pages a festival's organisers manage one list on (screens, stickers, organisers):
the list and its forms on ``GET``, the same page again with a form's answer after ``POST``."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import render_template
from sqlite_utils import Database

from dashboard import festivals
from dashboard.database import get_db
from dashboard.organiser.area import blueprint
from dashboard.organiser.auth import owner_required

#: What a page shows besides the festival: ``(db, festival_id) -> template values``.
Context = Callable[[Database, str], Mapping[str, object]]


def owner_page(
    path: str, endpoint: str, template: str, context: Context, doc: str
) -> Callable[..., str]:
    """Add ``GET /<festival_id>/<path>`` for the festival's organisers, showing ``template``
    with the festival and ``context``; return the function that renders the page, with
    extra values (a form's answer), for the module's ``POST`` route."""

    def render(festival_id: str, **extra: object) -> str:
        db = get_db()
        return render_template(
            template,
            festival=festivals.festival(db, festival_id),
            **context(db, festival_id),
            **extra,
        )

    def view(festival_id: str) -> str:
        return render(festival_id)

    view.__doc__ = doc
    blueprint.add_url_rule(
        f"/<festival_id>/{path}", endpoint, owner_required(view), methods=["GET"]
    )
    return render
