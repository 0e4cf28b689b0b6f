"""Pages for audiences: live boards and each festival's transparency page."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask_babel import get_locale

from consent.policy import PUBLIC
from consent.store import PolicyStore
from dashboard import festivals
from dashboard.access import board_access
from dashboard.audience import checked_board_id, display_board, stream_response
from dashboard.database import get_db
from dashboard.i18n import LANGUAGES
from dashboard.metrics import metrics
from dashboard.phones import choice_name
from dashboard.web_votes import web_votes
from hub import queries
from hub.models import WEB_STATION

blueprint = Blueprint("boards", __name__)


@blueprint.get("/")
def index() -> str:
    """Every festival, with links to its board and its transparency page."""
    return render_template("index.html", festivals=festivals.festivals(get_db()))


@blueprint.get("/boards/<board_id>")
def board(board_id: str) -> str:
    """A live board, rendered on the server so that it shows without JavaScript."""
    board_access(checked_board_id(board_id))
    metrics().board_request("page")
    phones = board_id != "public" and phone_votes(board_id)
    # The festival's time zone gives the board's time.
    info = None if board_id == PUBLIC else festivals.festival(get_db(), board_id)
    return render_template(
        "board.html", festival=info, **display_board(board_id).context(), phone_votes=phones
    )


@blueprint.get("/boards/<board_id>/events")
def board_events(board_id: str) -> Response:
    """The board page's live updates: each event is the board's new HTML, in the page's
    language."""
    locale = str(get_locale() or LANGUAGES[0])
    return stream_response(board_id, "html" if locale == LANGUAGES[0] else f"html:{locale}")


@blueprint.get("/festivals/<festival_id>")
def transparency(festival_id: str) -> str:
    """What a festival shares with whom, in plain words; its stations; how to erase."""
    db = get_db()
    info = festivals.festival(db, festival_id)
    current = PolicyStore(db).current(festival_id)
    return render_template(
        "transparency.html",
        festival=info,
        explanation=festivals.explanation(db, info, current.policy),
        policy_version=current.version,
        policy_since=current.created_at,
        choices=[choice_name(choice) for choice in info.choices],
        # Votes by phone come in as the web station: not a station anyone can find.
        stations=[s for s in queries.stations(db, festival_id) if s.station != WEB_STATION],
        phone_votes=phone_votes(festival_id),
    )


def phone_votes(festival_id: str) -> bool:
    """Whether visitors' phones can vote at the festival: the dashboard publishes votes and
    the festival has an enabled sticker."""
    return web_votes() is not None and festivals.has_stickers(get_db(), festival_id)
