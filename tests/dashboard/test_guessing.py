"""Login throttling under scripted password-guessing runs, through the login form.

Each attempt fetches the login page and posts its CSRF token, as a browser does. The
accounts' clock is moved forward instead of waiting for the pause to end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashboard import accounts
from tests.dashboard.conftest import OTHER, OWNER, PASSWORD, csrf_of

ATTEMPTS = 200


class Clock:
    """The accounts' clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    found = Clock()
    monkeypatch.setattr(accounts, "_now", found)
    return found


def browser(app: Flask, address: str = "203.0.113.7") -> FlaskClient:
    """A client whose requests come from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def attempt(client: FlaskClient, email: str, password: str) -> int:
    """One login through the form; the response status."""
    token = csrf_of(client.get("/organiser/login").get_data(as_text=True))
    response = client.post(
        "/organiser/login", data={"email": email, "password": password, "csrf_token": token}
    )
    return response.status_code


def logged_in(client: FlaskClient) -> bool:
    """Whether the client holds a session that opens the organiser area."""
    with client.session_transaction() as session:
        has_session = "sid" in session
    page = client.get("/organiser/", follow_redirects=True)
    opens = page.status_code == 200 and page.request.path != "/organiser/login"
    assert has_session == opens
    return opens


def test_guessing_one_account_locks_it_until_the_pause_ends(app, clock):
    client = browser(app)
    statuses = [attempt(client, OWNER, f"wrong guess {n}") for n in range(ATTEMPTS)]
    limit = accounts.MAX_FAILURES_PER_ACCOUNT
    assert statuses[:limit] == [401] * limit
    assert statuses[limit:] == [429] * (ATTEMPTS - limit)
    assert not logged_in(client)
    # The right password is refused while the account is paused, from any address.
    assert attempt(client, OWNER, PASSWORD) == 429
    assert attempt(browser(app, "198.51.100.1"), OWNER, PASSWORD) == 429
    assert not logged_in(client)
    # The pause lasts a full window from the last failure...
    clock.advance(accounts.FAILURE_WINDOW - timedelta(seconds=1))
    assert attempt(client, OWNER, PASSWORD) == 429
    assert not logged_in(client)
    # ...and then the right password works again.
    clock.advance(timedelta(seconds=2))
    assert attempt(client, OWNER, PASSWORD) == 302
    assert logged_in(client)


def test_failures_spread_over_the_window_still_pause_for_a_full_window(app, clock):
    client = browser(app)
    limit = accounts.MAX_FAILURES_PER_ACCOUNT
    spacing = accounts.FAILURE_WINDOW / limit
    for _ in range(limit - 1):
        assert attempt(client, OWNER, "a wrong guess") == 401
        clock.advance(spacing)
    assert attempt(client, OWNER, "the last wrong guess") == 401
    clock.advance(accounts.FAILURE_WINDOW - timedelta(seconds=1))
    assert attempt(client, OWNER, PASSWORD) == 429
    clock.advance(timedelta(seconds=2))
    assert attempt(client, OWNER, PASSWORD) == 302


def test_guessing_from_many_addresses_still_locks_the_account(app, clock):
    statuses = [
        attempt(browser(app, f"10.0.{n // 250}.{n % 250 + 1}"), OWNER, f"guess {n}")
        for n in range(ATTEMPTS)
    ]
    limit = accounts.MAX_FAILURES_PER_ACCOUNT
    assert statuses.count(401) == limit
    assert statuses[limit:] == [429] * (ATTEMPTS - limit)
    assert attempt(browser(app, "10.9.9.9"), OWNER, PASSWORD) == 429


def test_guessing_many_accounts_from_one_address_pauses_the_address(app, clock):
    guesser = browser(app)
    emails = [OWNER, OTHER] + [f"user{n}@example.org" for n in range(48)]
    statuses = [attempt(guesser, emails[n % len(emails)], f"guess {n}") for n in range(ATTEMPTS)]
    limit = accounts.MAX_FAILURES_PER_ADDRESS
    # No account reached its own limit before the address did.
    assert statuses[:limit] == [401] * limit
    assert statuses[limit:] == [429] * (ATTEMPTS - limit)
    # The right password is refused from that address, and no session is granted...
    assert attempt(guesser, OTHER, PASSWORD) == 429
    assert not logged_in(guesser)
    # ...while the account's owner, elsewhere, is not locked out by someone else's guessing.
    elsewhere = browser(app, "192.0.2.44")
    assert attempt(elsewhere, OTHER, PASSWORD) == 302
    assert logged_in(elsewhere)
    # The address recovers after the pause.
    clock.advance(accounts.FAILURE_WINDOW + timedelta(seconds=1))
    assert attempt(guesser, OWNER, PASSWORD) == 302
    assert logged_in(guesser)


def test_a_guessing_run_without_csrf_tokens_is_refused_and_not_counted(app, clock):
    client = browser(app)
    for n in range(20):
        response = client.post("/organiser/login", data={"email": OWNER, "password": f"g{n}"})
        assert response.status_code == 400
    assert attempt(client, OWNER, PASSWORD) == 302
