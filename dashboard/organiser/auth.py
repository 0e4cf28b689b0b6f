"""Login, logout, sessions, CSRF tokens and the checks every organiser route makes."""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import abort, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response

from dashboard import accounts
from dashboard.database import get_db
from dashboard.organiser.area import blueprint

View = TypeVar("View", bound=Callable[..., Any])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token() -> str:
    """The session's CSRF token, created on first use; every form carries it."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


@blueprint.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "organiser": current_organiser}


@blueprint.before_request
def _check_csrf() -> None:
    """Refuse every state-changing request whose form lacks the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not (sent and expected and hmac.compare_digest(str(sent), str(expected))):
        abort(
            400,
            description="The form's security token is missing or has expired; "
            "reload the page and try again.",
        )


def current_organiser() -> accounts.Organiser | None:
    """The logged-in organiser of this request, or None."""
    if "organiser" not in g:
        token = session.get("sid")
        g.organiser = accounts.session_organiser(get_db(), token) if token else None
    found: accounts.Organiser | None = g.organiser
    return found


def owner_required(view: View) -> View:
    """Let a route through only for an organiser of its ``festival_id``.

    Nobody logged in: to the login page. An organiser of another festival: 403, for every
    URL and form alike.
    """

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        organiser = current_organiser()
        if organiser is None:
            return redirect(url_for("organiser.login", next=request.path))
        if kwargs.get("festival_id") not in organiser.festivals:
            raise Forbidden("You do not manage this festival.")
        return view(*args, **kwargs)

    return cast(View, wrapped)


def _safe_next(target: str | None) -> str:
    # Only paths inside the organiser area: never an open redirect to another site.
    if target and target.startswith("/organiser/") and "//" not in target and "\\" not in target:
        return target
    return url_for("organiser.home")


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    """Password login; repeated failures pause logins for the account and the address."""
    if request.method == "GET":
        return render_template("organiser/login.html", next=request.args.get("next", ""))
    db = get_db()
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    if accounts.locked_out(db, email, address):
        message = (
            "Too many failed logins. Logins for this account are paused for "
            f"{int(accounts.FAILURE_WINDOW.total_seconds() // 60)} minutes."
        )
        return render_template("organiser/login.html", error=message, email=email), 429
    organiser = accounts.authenticate(db, email, password, address)
    if organiser is None:
        return render_template(
            "organiser/login.html", error="Wrong email or password.", email=email
        ), 401
    # A fresh session on login, so that a token planted before login is worthless.
    session.clear()
    session["sid"] = accounts.open_session(db, organiser)
    session.permanent = True
    csrf_token()
    return redirect(_safe_next(request.form.get("next")))


@blueprint.post("/logout")
def logout() -> Response:
    """End the session on the server and in the browser."""
    token = session.get("sid")
    if token:
        accounts.close_session(get_db(), token)
    session.clear()
    return redirect(url_for("organiser.login"))
