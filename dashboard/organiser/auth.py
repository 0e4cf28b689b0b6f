"""Login, logout, sessions, CSRF tokens and the checks every organiser route makes."""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import abort, current_app, redirect, render_template, request, session, url_for
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response

from dashboard import accounts
from dashboard.access import current_organiser
from dashboard.clients import client_key
from dashboard.database import get_db
from dashboard.i18n import gettext, ngettext
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
    # Compared as bytes: compare_digest refuses str with non-ASCII characters.
    if not (sent and expected and hmac.compare_digest(str(sent).encode(), str(expected).encode())):
        abort(
            400,
            description=gettext(
                "The form's security token is missing or has expired; "
                "reload the page and try again."
            ),
        )


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
            raise Forbidden(gettext("You do not manage this festival."))
        return view(*args, **kwargs)

    return cast(View, wrapped)


def _safe_next(target: str | None) -> str:
    # Only paths inside the organiser area: never an open redirect to another site.
    if target and target.startswith("/organiser/") and "//" not in target and "\\" not in target:
        return target
    return url_for("organiser.home")


# Seconds a login refused for want of a free password-check slot is asked to wait.
CHECKS_BUSY_RETRY_SECONDS = 5


def _login_page(status: int, error: str, email: str, retry_after: int) -> Response:
    response = Response(
        render_template("organiser/login.html", error=error, email=email),
        status=status,
        mimetype="text/html",
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


def _paused_page(pause: accounts.Lockout, email: str) -> Response:
    """429 that says which limit paused the login and when it can be tried again."""
    seconds = pause.seconds_left
    minutes = max(1, round(seconds / 60))
    time = f"{pause.until:%H:%M}"
    when = ngettext(
        "%(time)s UTC (in about %(num)d minute)",
        "%(time)s UTC (in about %(num)d minutes)",
        minutes,
        time=time,
    )
    if pause.limit == "account":
        what = gettext(
            "Too many failed logins for this account: its logins are paused until %(when)s.",
            when=when,
        )
    else:
        what = gettext(
            "Too many failed logins from your address (%(address)s): logins from it are "
            "paused until %(when)s.",
            address=pause.key,
            when=when,
        )
    return _login_page(429, what, email, seconds)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    """Password login; repeated failures pause logins for the account and the address."""
    if request.method == "GET":
        return render_template("organiser/login.html", next=request.args.get("next", ""))
    db = get_db()
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    address = client_key(request.remote_addr)
    # A paused login is answered before it competes for a password-check slot.
    pause = accounts.lockout(db, email, address)
    if pause is not None:
        return _paused_page(pause, email)
    checks: accounts.PasswordChecks = current_app.extensions["tapshare_password_checks"]
    try:
        with checks.slot():
            organiser = accounts.authenticate(db, email, password, address)
    except accounts.LoginPaused as paused:
        return _paused_page(paused.lockout, email)
    except accounts.ChecksBusy:
        message = gettext(
            "The dashboard is checking too many logins right now. Nothing was tried; "
            "please log in again in %(seconds)d seconds.",
            seconds=CHECKS_BUSY_RETRY_SECONDS,
        )
        return _login_page(503, message, email, CHECKS_BUSY_RETRY_SECONDS)
    if organiser is None:
        page = render_template(
            "organiser/login.html", error=gettext("Wrong email or password."), email=email
        )
        return Response(page, status=401, mimetype="text/html")
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
