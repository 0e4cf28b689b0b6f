"""The OpenAPI 3 document, generated from the pydantic models the handlers return."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pydantic.json_schema import models_json_schema

from consent.boards import Board
from dashboard.errors import ErrorBody
from dashboard.models import FestivalList

REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _error(description: str) -> dict[str, Any]:
    return _json("ErrorBody", description)


BOARD_ID = {
    "name": "board_id",
    "in": "path",
    "required": True,
    "description": "A festival id (its screens' board, viewer `festival:ID`) or `public`.",
    "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"},
}
FESTIVAL_ID = {
    "name": "festival_id",
    "in": "path",
    "required": True,
    "description": "A festival the logged-in organiser manages.",
    "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"},
}


#: A festival's board needs one of these; ``public`` (the empty requirement) needs none.
BOARD_SECURITY: list[dict[str, list[str]]] = [
    {},
    {"screenKey": []},
    {"screenKeyQuery": []},
    {"organiserSession": []},
]
NEEDS_KEY = (
    "A festival's board needs a screen key of that festival (`Authorization: Bearer KEY` or "
    "`?key=KEY`) or an organiser's login of it; the public board needs neither."
)


def _paths() -> dict[str, Any]:
    login_needed: dict[str, Any] = {"security": [{"organiserSession": []}]}
    refused = _error(
        "No valid screen key of this festival and no organiser login of it (a missing, "
        "unknown, revoked or another festival's key)."
    )
    return {
        "/api/v1/festivals": {
            "get": {
                "summary": "Every registered festival",
                "operationId": "listFestivals",
                "responses": {"200": _json("FestivalList", "The festivals, ordered by id.")},
            }
        },
        "/api/v1/boards/{board_id}": {
            "get": {
                "summary": "A board: a festival's screens, or the public web board",
                "description": "`/api/v1/boards/ID` is what festival ID's screens show "
                "(viewer `festival:ID`, action `display`); `/api/v1/boards/public` is the "
                "public web board (viewer `public`). Each festival's section is there only "
                "as its sharing policy allows. " + NEEDS_KEY,
                "operationId": "getBoard",
                "parameters": [BOARD_ID],
                "responses": {
                    "200": _json("Board", "The board now."),
                    "401": refused,
                    "404": _error("Unknown festival."),
                },
                "security": BOARD_SECURITY,
            }
        },
        "/api/v1/boards/{board_id}/stream": {
            "get": {
                "summary": "The same board as server-sent events",
                "description": "One event at once and a new one on each change; the "
                "`data` of each event is a Board as JSON. Comments keep the connection "
                "open. Reconnect with a normal EventSource. The stream ends when its "
                "screen key is revoked. " + NEEDS_KEY,
                "operationId": "streamBoard",
                "parameters": [BOARD_ID],
                "responses": {
                    "200": {
                        "description": "An event stream; each event's data is a Board.",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    "401": refused,
                    "404": _error("Unknown festival."),
                    "429": _error(
                        "This client (address, or IPv6 /64) holds as many streams as one "
                        "client may; retry after `Retry-After` seconds."
                    ),
                    "503": _error("Every stream slot of this server is taken; retry later."),
                },
                "security": BOARD_SECURITY,
            }
        },
        "/organiser/{festival_id}/export.json": {
            "get": {
                "summary": "Export as JSON: own data, and others' as their export rules allow",
                "description": "A Board for viewer `festival:ID` and action `export`. "
                "`festival` keeps one owner's section. Reads of other festivals' data are "
                "recorded in their access logs.",
                "operationId": "exportJson",
                "parameters": [
                    FESTIVAL_ID,
                    {
                        "name": "festival",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": _json("Board", "The export."),
                    "302": {"description": "Not logged in: to the login page."},
                    "403": {"description": "The organiser does not manage this festival."},
                },
                **login_needed,
            }
        },
        "/organiser/{festival_id}/export.csv": {
            "get": {
                "summary": "Export as CSV: one row per shared cell",
                "operationId": "exportCsv",
                "parameters": [FESTIVAL_ID],
                "responses": {
                    "200": {"description": "CSV", "content": {"text/csv": {}}},
                    "302": {"description": "Not logged in: to the login page."},
                    "403": {"description": "The organiser does not manage this festival."},
                },
                **login_needed,
            }
        },
    }


@cache
def _schemas() -> dict[str, Any]:
    _, top = models_json_schema(
        [(Board, "serialization"), (FestivalList, "serialization"), (ErrorBody, "serialization")],
        ref_template=REF,
    )
    schemas: dict[str, Any] = top["$defs"]
    return schemas


def _version() -> str:
    try:
        return version("tapshare")
    except PackageNotFoundError:
        return "0"


def document(server_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API served at ``server_url``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tapshare dashboard API",
            "version": _version(),
            "description": "Live opinion boards, as each festival's sharing policy allows. "
            "A festival's board needs one of its screen keys (made with `tapshare screen add` "
            "or in the organiser area) or an organiser's login. Organiser exports need a "
            "session cookie from the login page `/organiser/login`.",
        },
        "servers": [{"url": server_url}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "screenKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A screen key of the board's festival.",
                },
                "screenKeyQuery": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "key",
                    "description": "A screen key of the board's festival, as in a screen's "
                    "address `/boards/ID?key=KEY`.",
                },
                "organiserSession": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "tapshare_session",
                },
            },
        },
    }
