"""NGSI-LD errors as problem details (IETF RFC 7807; ETSI GS CIM 009, clause 5.5.2).

Every error under ``/ngsi-ld/`` is one JSON object with ``type``, ``title``, ``status`` and
``detail``, never a page and never a stack trace.
"""

from __future__ import annotations

import json
from typing import Final

from flask import Response
from werkzeug.exceptions import HTTPException

ERRORS: Final = "https://uri.etsi.org/ngsi-ld/errors/"
BAD_REQUEST_DATA: Final = ERRORS + "BadRequestData"
RESOURCE_NOT_FOUND: Final = ERRORS + "ResourceNotFound"
# The core specification names no type for a refused credential; brokers that check
# credentials (Stellio) answer with this one.
ACCESS_DENIED: Final = ERRORS + "AccessDenied"
OPERATION_NOT_SUPPORTED: Final = ERRORS + "OperationNotSupported"
INTERNAL_ERROR: Final = ERRORS + "InternalError"

_BY_STATUS: Final = {
    400: BAD_REQUEST_DATA,
    401: ACCESS_DENIED,
    404: RESOURCE_NOT_FOUND,
    405: OPERATION_NOT_SUPPORTED,
}


class Problem(HTTPException):
    """An NGSI-LD error with its problem type."""

    def __init__(self, status: int, problem_type: str, detail: str) -> None:
        super().__init__(detail)
        self.code = status
        self.problem_type = problem_type


def bad_request(detail: str) -> Problem:
    """A 400 BadRequestData problem."""
    return Problem(400, BAD_REQUEST_DATA, detail)


def not_found(detail: str) -> Problem:
    """A 404 ResourceNotFound problem."""
    return Problem(404, RESOURCE_NOT_FOUND, detail)


def access_denied(detail: str) -> Problem:
    """A 401 problem: the platform key was not accepted."""
    return Problem(401, ACCESS_DENIED, detail)


def problem_response(error: HTTPException, detail: str | None = None) -> Response:
    """``error`` as NGSI-LD problem details."""
    status = error.code or 500
    kind = getattr(error, "problem_type", None) or _BY_STATUS.get(status, INTERNAL_ERROR)
    body = {
        "type": kind,
        "title": error.name,
        "status": status,
        "detail": str(detail or error.description or error.name),
    }
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="tapshare NGSI-LD"'
    if status == 405:
        response.headers["Allow"] = "GET, HEAD, OPTIONS"
    return response
