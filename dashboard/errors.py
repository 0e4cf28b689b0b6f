"""Errors as users expect them: JSON under ``/api/``, a plain page elsewhere, never a
stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext
from pydantic import BaseModel, Field
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound, Unauthorized

from dashboard.access import ScreenKeyNeeded
from dashboard.database import get_db
from dashboard.festivals import UnknownFestival, festival
from dashboard.i18n import gettext

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """What every API error returns."""

    error: str = Field(description="A short machine-readable code, e.g. `not_found`.")
    message: str = Field(description="What went wrong, in words.")
    status: int = Field(description="The HTTP status code.")


#: Each status's name and default explanation as people read them on an error page.
PAGE_WORDS = {
    400: (lazy_gettext("Bad request"), lazy_gettext("The request could not be understood.")),
    401: (lazy_gettext("Unauthorised"), lazy_gettext("This page needs a login or a key.")),
    403: (lazy_gettext("Forbidden"), lazy_gettext("You may not see this page.")),
    404: (lazy_gettext("Not found"), lazy_gettext("There is no page at this address.")),
    405: (
        lazy_gettext("Method not allowed"),
        lazy_gettext("This address does not accept this kind of request."),
    ),
    413: (lazy_gettext("Too large"), lazy_gettext("What was sent is too large.")),
    429: (
        lazy_gettext("Too many requests"),
        lazy_gettext("Too many requests came at once; try again in a moment."),
    ),
    500: (
        lazy_gettext("Internal error"),
        lazy_gettext("Something went wrong on our side; it has been logged."),
    ),
    503: (
        lazy_gettext("Unavailable"),
        lazy_gettext("The dashboard is busy; try again in a moment."),
    ),
}


def _code(error: HTTPException) -> str:
    return (error.name or "error").lower().replace(" ", "_").replace("'", "")


def error_response(
    error: HTTPException, message: str | None = None, words: str | None = None
) -> Response:
    """``error`` as JSON for API clients or as a page for people.

    The API's ``message`` stays English (it is for programmers, beside a stable code);
    a page says ``words``, or else the message raised in the reader's language, or else
    the status's own explanation.
    """
    if request.path.startswith("/ngsi-ld/"):
        from dashboard.ngsi.problems import problem_response

        return problem_response(error, message)
    status = error.code or 500
    text = message or error.description or error.name
    if request.path.startswith("/api/"):
        body = ErrorBody(error=_code(error), message=str(text), status=status)
        response = jsonify(body.model_dump())
    else:
        title, default = PAGE_WORDS.get(status, (error.name, error.description))
        if words is None:
            custom = message or error.description
            words = default if custom == type(error).description else custom
        response = Response(
            render_template("error.html", status=status, title=title, message=words),
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
        return error_response(
            NotFound(),
            f"unknown festival: {error.festival_id}",
            gettext("There is no festival %(festival)s.", festival=error.festival_id),
        )

    @app.errorhandler(ScreenKeyNeeded)
    def screen_key_needed(error: ScreenKeyNeeded) -> Response:
        if request.path.startswith("/api/"):
            response = error_response(Unauthorized(), error.message)
        else:
            page = render_template(
                "screen_key.html",
                festival=festival(get_db(), error.festival_id),
                message=gettext("This screen key is not valid for this board.")
                if error.key_given
                else gettext("This board needs a screen key, and none was given."),
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
        return error_response(
            InternalServerError(), "internal error; it has been logged", str(PAGE_WORDS[500][1])
        )
