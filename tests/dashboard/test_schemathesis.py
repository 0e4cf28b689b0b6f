"""schemathesis against the OpenAPI document: every operation, generated requests.

The schema is loaded from the app itself (WSGI, no server). The database holds festivals,
artworks, stations, policies and stored taps, so that boards and exports have sections,
cells and withheld cells to serialise. Each operation is called anonymously and, where it
needs a login, also with an organiser's session; every response must be free of server
errors, conform to its documented schema and carry a documented status code. Nothing
stored may change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from dashboard import create_app
from storage import connect
from tests.dashboard.conftest import login
from tests.dashboard.opinions import add_opinions
from tests.dashboard.policies import permit, set_policy

pytestmark = pytest.mark.slow

# Examples generated per operation and per caller (anonymous, logged in): with the five
# operations of the document that is up to 5 x 2 x 100 = 1,000 generated requests, plus
# every operation with each known id.
EXAMPLES = 100

# Tables that requests write by design: sessions, logins, the access log of exports, when
# each screen key was last used.
WRITTEN_BY_REQUESTS = {
    "dashboard_sessions",
    "dashboard_login_failures",
    "consent_access_log",
    "dashboard_screen_keys",
}


def _fingerprint(db_path: Path) -> dict[str, str]:
    db = connect(db_path)
    try:
        found = {}
        for name in sorted(set(db.table_names()) - WRITTEN_BY_REQUESTS):
            rows = sorted(repr(tuple(r)) for r in db.execute(f"select * from [{name}]"))
            found[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return found
    finally:
        db.close()


@pytest.fixture
def api_app(dash_db: Path) -> Iterator[Flask]:
    """The dashboard on a database with policies and stored taps.

    The stream thread is stopped: an event stream then ends after its first lines, so
    that a WSGI call of the stream operation returns (a live stream never ends).
    """
    add_opinions(dash_db, "strp", "aw-1", ["love", "love", "meh", "like", "dislike"])
    add_opinions(dash_db, "strp", "aw-2", ["like"], 10)
    add_opinions(dash_db, "ddw", "chair", ["yes", "no", "yes"], 20, station="gate")
    set_policy(
        dash_db,
        "strp",
        [
            permit("public", level="artwork", min_visitors=2),
            permit("festival:ddw", "export", level="artwork", min_visitors=1),
            permit("network", "analyse", delay_minutes=5),
        ],
    )
    set_policy(dash_db, "ddw", [permit("network", min_visitors=1)])
    application = create_app(dash_db, poll_interval=0.05, heartbeat_interval=0.5)
    application.extensions["tapshare_streams"].stop()
    yield application


@pytest.fixture
def api_schema(api_app: Flask) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)


@pytest.fixture
def session(api_app: Flask) -> tuple[str, str]:
    """An organiser of ddw, logged in through the form as a browser does: the session
    cookie and the session's CSRF token."""
    client = api_app.test_client()
    token = login(client, "organiser@ddw.example")
    cookie = client.get_cookie("tapshare_session")
    assert cookie is not None
    return cookie.value, token


@pytest.fixture
def unchanged(dash_db: Path, api_app: Flask) -> Iterator[None]:
    before = _fingerprint(dash_db)
    yield
    assert _fingerprint(dash_db) == before


# Ids that exist, called besides the generated ones (which are almost never a real id).
KNOWN_IDS = ["strp", "ddw", "glow", "public"]


def _excluded(operation: Any) -> list[Any]:
    # A form that matches the schema is still refused unless its CSRF token is the
    # session's: a generated token never is, so a 400 there is right, not a rejected
    # valid request; and the same form without the session cookie is refused (400) for
    # its token before the missing login is looked at.
    return [positive_data_acceptance, ignored_auth] if operation.body else []


def _run_every_operation(
    schema: schemathesis.BaseSchema,
    cookies: dict[str, str],
    headers: dict[str, str] | None = None,
    token: str = "",
) -> tuple[int, set[tuple[str, int]]]:
    """Call every operation with generated requests and with every known id (those with
    the session's CSRF token ``token`` in their form, where one is asked); return how many
    calls were checked and the (operation, status) pairs seen."""
    calls: dict[str, int] = {}
    statuses: set[tuple[str, int]] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        assert operation is not None, result
        for name in [p.name for p in operation.path_parameters]:
            for known in KNOWN_IDS:
                case = operation.Case(
                    path_parameters={name: known},
                    cookies=dict(cookies),
                    headers=dict(headers or {}),
                )
                if operation.body:
                    case.body = {"csrf_token": token}
                    case.media_type = "application/x-www-form-urlencoded"
                response = case.call_and_validate(excluded_checks=_excluded(operation))
                statuses.add((operation.label, response.status_code))
                calls[operation.label] = calls.get(operation.label, 0) + 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.cookies = {**(case.cookies or {}), **cookies}
            case.headers = {**(case.headers or {}), **(headers or {})}
            case.call_and_validate(excluded_checks=_excluded(case.operation))
            calls[case.operation.label] = calls.get(case.operation.label, 0) + 1

        check()
    return sum(calls.values()), statuses


def test_every_operation_conforms_anonymously(api_schema, unchanged):
    calls, statuses = _run_every_operation(api_schema, {})
    assert calls >= 5 * 10
    assert ("GET /api/v1/boards/{board_id}", 200) in statuses
    assert ("GET /api/v1/boards/{board_id}", 401) in statuses
    # Without a session's CSRF token an export is refused before anything is read.
    assert ("POST /organiser/{festival_id}/export.json", 400) in statuses


def test_every_operation_conforms_with_a_screen_key(api_app, api_schema, unchanged):
    from dashboard.screens import add_screen

    db = connect(api_app.config["TAPSHARE_DB"])
    key = add_screen(db, "strp", "foyer")
    db.close()
    calls, statuses = _run_every_operation(api_schema, {}, {"Authorization": f"Bearer {key}"})
    assert calls >= 5 * 10
    assert ("GET /api/v1/boards/{board_id}/stream", 200) in statuses
    assert ("GET /api/v1/boards/{board_id}/stream", 401) in statuses


def test_every_operation_conforms_logged_in(api_schema, session, unchanged):
    cookie, token = session
    calls, statuses = _run_every_operation(api_schema, {"tapshare_session": cookie}, token=token)
    assert calls >= 5 * 10
    # The organiser of ddw gets its exports, and is refused those of strp.
    assert ("POST /organiser/{festival_id}/export.json", 200) in statuses
    assert ("POST /organiser/{festival_id}/export.csv", 200) in statuses
    assert ("POST /organiser/{festival_id}/export.json", 403) in statuses


def test_the_document_covers_the_boards_and_exports(api_schema):
    operations = {result.ok().label for result in api_schema.get_all_operations() if result.ok()}
    assert operations >= {
        "GET /api/v1/festivals",
        "GET /api/v1/boards/{board_id}",
        "GET /api/v1/boards/{board_id}/stream",
        "POST /organiser/{festival_id}/export.json",
        "POST /organiser/{festival_id}/export.csv",
    }
