"""The web dashboard: audience boards, organiser pages and the JSON API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, Response, redirect, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from dashboard.access import ScreenKeyChecks
from dashboard.accounts import SESSION_LIFETIME, PasswordChecks, secret_key
from dashboard.board_view import BoardView
from dashboard.cache import BoardCache
from dashboard.commits import CommitWatcher
from dashboard.database import close_db
from dashboard.metrics import Metrics
from dashboard.streams import BoardStreams, StreamSettings
from dashboard.web_votes import WebVotes
from storage import connect

#: Open event streams one client may hold (a venue's screens may share one address).
DEFAULT_STREAMS_PER_CLIENT = 50

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'"
)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.blueprint == "boards" or request.path.startswith("/api/v1/boards/"):
        # A screen's address carries its key: no link on a board may pass it on.
        response.headers["Referrer-Policy"] = "no-referrer"
    if (request.view_args or {}).get("board_id", "public") != "public":
        # A festival's board is for its key holders: no shared cache may keep it.
        response.headers.setdefault("Cache-Control", "private, no-store")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.blueprint == "organiser":
        # Organiser pages hold other festivals' figures and tokens: never cache them.
        response.headers["Cache-Control"] = "no-store"
    return response


def _favicon() -> WerkzeugResponse:
    # Pages name the icon in <head>; this is for clients that ask for the old address.
    return redirect(url_for("static", filename="favicon.svg"), code=301)


def create_app(
    db_path: Path | str,
    *,
    poll_interval: float = 0.1,
    refresh_interval: float = 5.0,
    heartbeat_interval: float = 15.0,
    max_streams: int = 1000,
    max_streams_per_client: int = DEFAULT_STREAMS_PER_CLIENT,
    board_cache_seconds: float = 1.0,
    secure_cookies: bool = False,
    password_checks: int = 4,
    start_streams: bool = True,
    metrics_token: str | None = None,
    web_votes: WebVotes | None = None,
    station_broker: str = "mqtt://127.0.0.1:1883",
    test_config: dict[str, Any] | None = None,
) -> Flask:
    """The dashboard on the (already migrated) database at ``db_path``.

    ``poll_interval`` is how often (seconds) the stream thread asks the commit watcher
    whether anything was committed; ``refresh_interval`` how often open boards are
    recomputed anyway, for delays and validity windows that move with the clock;
    ``max_streams`` caps open event streams (each holds a server thread),
    ``max_streams_per_client`` those of one client (an address, an IPv6 /64);
    ``board_cache_seconds`` how long an audience board may be served again while nothing is
    committed (0: never). ``secure_cookies`` marks cookies HTTPS-only, for a dashboard
    served behind TLS. ``metrics_token``, when given, is the bearer token ``/metrics`` asks
    for. ``password_checks`` bounds the login password checks that run at once (each holds
    about 32 MiB); a login beyond them gets 503 with ``Retry-After``. ``web_votes``
    publishes votes from phones (None: the vote pages say voting by phone is not set up).
    ``station_broker`` is the broker address written into the station.toml of a station
    added from the web (the station's own credentials replace any it carries).
    """
    app = Flask(__name__)
    db = connect(db_path)
    try:
        key = secret_key(db)
    finally:
        db.close()
    app.config.update(
        TAPSHARE_DB=str(db_path),
        SECRET_KEY=key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        SESSION_COOKIE_NAME="tapshare_session",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        MAX_CONTENT_LENGTH=256 * 1024,
        TAPSHARE_METRICS_TOKEN=metrics_token,
        TAPSHARE_STATION_BROKER=station_broker,
    )
    # Boards keep the field order of docs/api.md.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if test_config:
        app.config.update(test_config)
    app.teardown_appcontext(close_db)
    app.after_request(_security_headers)

    app.extensions["tapshare_metrics"] = Metrics()
    app.extensions["tapshare_password_checks"] = PasswordChecks(password_checks)
    # One watcher of commits: the boards, the screen keys and the streams all follow it.
    commits = CommitWatcher(db_path)
    board_cache: BoardCache[BoardView] = BoardCache(commits, board_cache_seconds)
    app.extensions["tapshare_board_cache"] = board_cache
    app.extensions["tapshare_screen_keys"] = ScreenKeyChecks(commits.generation)
    settings = StreamSettings(
        poll_interval=poll_interval,
        refresh_interval=refresh_interval,
        heartbeat_interval=heartbeat_interval,
        max_streams=max_streams,
        max_streams_per_client=max_streams_per_client,
    )
    streams = BoardStreams(app, board_cache, settings)
    app.extensions["tapshare_streams"] = streams

    from dashboard import api, boards, errors, i18n, metrics, ngsi, organiser, phones, qr
    from dashboard import web_votes as votes

    i18n.init_app(app)
    qr.init_app(app)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
    votes.install(app, web_votes)
    app.register_blueprint(boards.blueprint)
    app.register_blueprint(phones.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(ngsi.blueprint)
    app.register_blueprint(metrics.blueprint)
    app.register_blueprint(organiser.blueprint)
    errors.register(app)
    if start_streams:
        streams.start()
    return app
