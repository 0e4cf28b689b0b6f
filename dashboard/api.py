"""The JSON API under ``/api/v1`` (docs/api.md) and its OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from dashboard.access import board_access
from dashboard.audience import checked_board_id, display_board, stream_response
from dashboard.database import get_db
from dashboard.festivals import festivals as registered
from dashboard.metrics import metrics
from dashboard.models import FestivalList, FestivalSummary, Ping
from dashboard.openapi import document

blueprint = Blueprint("api", __name__)


@blueprint.get("/api/v1/festivals")
def festivals() -> Response:
    """Every registered festival."""
    body = FestivalList(
        festivals=[
            FestivalSummary(id=f.id, name=f.name, choices=list(f.choices))
            for f in registered(get_db())
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
