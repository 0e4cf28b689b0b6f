"""Errors as users expect them: JSON under ``/api/``, a plain page elsewhere, never a
stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from pydantic import BaseModel, Field
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound, Unauthorized

from dashboard.access import ScreenKeyNeeded
from dashboard.data import UnknownFestival, festival
from dashboard.database import get_db

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """What every API error returns."""

    error: str = Field(description="A short machine-readable code, e.g. `not_found`.")
    message: str = Field(description="What went wrong, in words.")
    status: int = Field(description="The HTTP status code.")


def _code(error: HTTPException) -> str:
    return (error.name or "error").lower().replace(" ", "_").replace("'", "")


def error_response(error: HTTPException, message: str | None = None) -> Response:
    """``error`` as JSON for API clients or as a page for people."""
    if request.path.startswith("/ngsi-ld/"):
        from dashboard.ngsi.problems import problem_response

        return problem_response(error, message)
    status = error.code or 500
    text = message or error.description or error.name
    if request.path.startswith("/api/"):
        body = ErrorBody(error=_code(error), message=str(text), status=status)
        response = jsonify(body.model_dump())
    else:
        response = Response(
            render_template("error.html", status=status, title=error.name, message=text),
            mimetype="text/html",
        )
    response.status_code = status
    for name, value in error.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def register(app: Flask) -> None:
    """Install the error handlers on ``app``."""

    @app.errorhandler(UnknownFestival)
    def unknown_festival(error: UnknownFestival) -> Response:
        return error_response(NotFound(), f"unknown festival: {error.festival_id}")

    @app.errorhandler(ScreenKeyNeeded)
    def screen_key_needed(error: ScreenKeyNeeded) -> Response:
        if request.path.startswith("/api/"):
            response = error_response(Unauthorized(), error.message)
        else:
            page = render_template(
                "screen_key.html",
                festival=festival(get_db(), error.festival_id),
                message=error.message,
            )
            response = Response(page, status=401, mimetype="text/html")
        response.headers["WWW-Authenticate"] = 'Bearer realm="tapshare boards"'
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        return error_response(error)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("error while serving %s %s", request.method, request.path)
        return error_response(InternalServerError(), "internal error; it has been logged")
