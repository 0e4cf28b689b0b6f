"""What the audience routes share, pages and JSON API alike: the check of a board id, the
board of this commit generation (one :class:`dashboard.board_view.BoardView` for all), and
an open event stream of it.
"""

from __future__ import annotations

from flask import Response, current_app, request
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests

from consent.policy import PUBLIC
from dashboard import board_view as views
from dashboard import festivals
from dashboard.access import board_access
from dashboard.board_view import BoardView
from dashboard.cache import BoardCache
from dashboard.clients import client_key
from dashboard.database import get_db
from dashboard.errors import error_response
from dashboard.metrics import metrics
from dashboard.streams import TooManyStreams, TooManyStreamsFromClient, board_streams


def board_cache() -> BoardCache[BoardView]:
    """The app's audience boards of the current generation."""
    found: BoardCache[BoardView] = current_app.extensions["tapshare_board_cache"]
    return found


def display_board(board_id: str) -> BoardView:
    """An audience board (``public`` or a festival's screens), through the board cache."""
    # The request's connection is opened only when the board is computed.
    return board_cache().get(board_id, lambda: views.board_view(get_db(), board_id))


def checked_board_id(board_id: str) -> str:
    """``public`` or a registered festival; raises ``UnknownFestival`` otherwise."""
    # Festivals are never removed: a board computed once is of a registered festival.
    if board_id != PUBLIC and not board_cache().has(board_id):
        festivals.festival(get_db(), board_id)
    return board_id


def stream_response(board_id: str, fmt: str) -> Response:
    """An open event stream of a board (``fmt`` ``json`` or ``html``), for those allowed
    to see it (see :func:`dashboard.access.board_access`)."""
    access = board_access(checked_board_id(board_id))
    client = client_key(request.remote_addr)
    streams = board_streams()
    try:
        state = streams.subscribe(board_id, fmt, get_db(), client)
    except TooManyStreamsFromClient as exc:
        return _retry_later(TooManyRequests(str(exc)), 30)
    except TooManyStreams as exc:
        return _retry_later(ServiceUnavailable(str(exc)), 10)
    metrics().board_request("stream")
    # waitress tells whether the client has gone while the stream waits for news.
    disconnected = request.environ.get("waitress.client_disconnected")
    watch = streams.events(state, fmt, client, disconnected, access)
    response = Response(watch, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    # Reverse proxies (nginx) must pass events on at once rather than buffer them.
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _retry_later(error: ServiceUnavailable | TooManyRequests, seconds: int) -> Response:
    response = error_response(error)
    response.headers["Retry-After"] = str(seconds)
    return response
