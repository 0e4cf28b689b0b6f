"""The analyse view: the festival's own opinions hour by hour (a chart drawn on the server,
with a table of the same figures), and what other festivals share with it for analysis, at
the level each grants."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from consent.policy import viewer_for
from dashboard import charts, festivals, opinions
from dashboard.access import current_organiser
from dashboard.board_view import section_titles
from dashboard.database import get_db
from dashboard.organiser.area import blueprint
from dashboard.organiser.auth import owner_required


@blueprint.route("/<festival_id>/analyse", methods=["GET", "POST"])
@owner_required
def analyse(festival_id: str) -> str:
    """The analyse view: this festival's data and what others share for analysis.

    Reading others' data writes their access logs, so only the page's form (a POST with
    its CSRF token) reads it; a GET shows the festival's own history and the form.
    """
    db = get_db()
    info = festivals.festival(db, festival_id)
    history = opinions.own_history(db, info)
    page: dict[str, Any] = {
        "festival": info,
        "history": history,
        "chart": charts.history_chart(history) if history.series else None,
        "board": None,
    }
    if request.method == "POST":
        organiser = current_organiser()
        assert organiser is not None
        body = opinions.board(
            db, viewer_for(festival_id), "analyse", accessor=organiser.email
        ).model_dump(mode="json")
        page["board"] = body
        page["others"] = [s for s in body["sections"] if s["festival"] != festival_id]
        page["titles"] = section_titles(db, body)
    return render_template("organiser/analyse.html", **page)
