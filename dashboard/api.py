"""The JSON API under ``/api/v1`` (docs/api.md) and its OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests

from dashboard import data
from dashboard.access import board_access
from dashboard.cache import BoardCache, CachedBoard
from dashboard.clients import client_key
from dashboard.database import get_db
from dashboard.errors import error_response
from dashboard.metrics import Metrics
from dashboard.models import FestivalList, FestivalSummary, Ping
from dashboard.openapi import document
from dashboard.streams import BoardStreams, TooManyStreams, TooManyStreamsFromClient

blueprint = Blueprint("api", __name__)


def metrics() -> Metrics:
    """The app's counters."""
    found: Metrics = current_app.extensions["tapshare_metrics"]
    return found


def streams() -> BoardStreams:
    """The app's live board streams."""
    found: BoardStreams = current_app.extensions["tapshare_streams"]
    return found


def display_board(board_id: str) -> CachedBoard:
    """An audience board (``public`` or a festival's screens), through the board cache."""
    # The request's connection is opened only when the board is computed.
    return _board_cache().get(
        board_id, lambda: data.board(get_db(), data.viewer_for(board_id)).model_dump(mode="json")
    )


def _board_cache() -> BoardCache:
    found: BoardCache = current_app.extensions["tapshare_board_cache"]
    return found


def checked_board_id(board_id: str) -> str:
    """``public`` or a registered festival; raises ``UnknownFestival`` otherwise."""
    # Festivals are never removed: a board computed once is of a registered festival.
    if board_id != data.PUBLIC and not _board_cache().has(board_id):
        data.festival(get_db(), board_id)
    return board_id


def stream_response(board_id: str, fmt: str) -> Response:
    """An open event stream of a board (``fmt`` ``json`` or ``html``), for those allowed
    to see it (see :func:`dashboard.access.board_access`)."""
    access = board_access(checked_board_id(board_id))
    client = client_key(request.remote_addr)
    try:
        state = streams().subscribe(board_id, fmt, get_db(), client)
    except TooManyStreamsFromClient as exc:
        return _retry_later(TooManyRequests(str(exc)), 30)
    except TooManyStreams as exc:
        return _retry_later(ServiceUnavailable(str(exc)), 10)
    metrics().board_request("stream")
    # waitress tells whether the client has gone while the stream waits for news.
    disconnected = request.environ.get("waitress.client_disconnected")
    watch = streams().events(state, fmt, client, disconnected, access)
    response = Response(watch, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    # Reverse proxies (nginx) must pass events on at once rather than buffer them.
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _retry_later(error: ServiceUnavailable | TooManyRequests, seconds: int) -> Response:
    response = error_response(error)
    response.headers["Retry-After"] = str(seconds)
    return response


@blueprint.get("/api/v1/festivals")
def festivals() -> Response:
    """Every registered festival."""
    body = FestivalList(
        festivals=[
            FestivalSummary(id=f.id, name=f.name, choices=list(f.choices))
            for f in data.festivals(get_db())
        ]
    )
    return jsonify(body.model_dump(mode="json"))


@blueprint.get("/api/v1/boards/<board_id>")
def board(board_id: str) -> Response:
    """The board of a festival's screens (viewer ``festival:ID``) or the public board."""
    board_access(checked_board_id(board_id))
    metrics().board_request("api")
    return Response(display_board(board_id).json, mimetype="application/json")


@blueprint.get("/api/v1/boards/<board_id>/stream")
def board_stream(board_id: str) -> Response:
    """The same board as server-sent events: one event now and one on each change."""
    return stream_response(board_id, "json")


@blueprint.get("/api/v1/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 document of this API."""
    return jsonify(document(request.host_url.rstrip("/")))


@blueprint.get("/api/v1/ping")
def ping() -> Response:
    """A constant answer: for health checks and as the benchmark's baseline."""
    return jsonify(Ping(ok=True).model_dump())
