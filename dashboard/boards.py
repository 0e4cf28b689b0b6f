"""Pages for audiences: live boards and each festival's transparency page."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from dashboard import data
from dashboard.access import board_access
from dashboard.api import checked_board_id, display_board, metrics, stream_response
from dashboard.database import get_db
from dashboard.i18n import gettext
from dashboard.streams import section_titles

blueprint = Blueprint("boards", __name__)


@blueprint.get("/")
def index() -> str:
    """Every festival, with links to its board and its transparency page."""
    return render_template("index.html", festivals=data.festivals(get_db()))


@blueprint.get("/boards/<board_id>")
def board(board_id: str) -> str:
    """A live board, rendered on the server so that it shows without JavaScript."""
    board_access(checked_board_id(board_id))
    db = get_db()
    metrics().board_request("page")
    body = display_board(board_id).body
    if board_id == data.PUBLIC:
        title, offline = gettext("Public board"), []
    else:
        title, offline = data.festival(db, board_id).name, data.offline_stations(db, board_id)
    return render_template(
        "board.html",
        board=body,
        board_id=board_id,
        title=title,
        offline=offline,
        titles=section_titles(db, body),
    )


@blueprint.get("/boards/<board_id>/events")
def board_events(board_id: str) -> Response:
    """The board page's live updates: each event is the board's new HTML."""
    return stream_response(board_id, "html")


@blueprint.get("/festivals/<festival_id>")
def transparency(festival_id: str) -> str:
    """What a festival shares with whom, in plain words; its stations; how to erase."""
    db = get_db()
    info = data.festival(db, festival_id)
    current = data.policy_store(db).current(festival_id)
    return render_template(
        "transparency.html",
        festival=info,
        explanation=data.explanation(db, info, current.policy),
        policy_version=current.version,
        stations=data.stations(db, festival_id),
    )
