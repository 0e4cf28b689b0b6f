"""Logins against a real waitress server, from real threads and sockets: the login limit
holds under concurrency, password checks are bounded, and behind a trusted proxy each
client is limited on its own address.

Clients connect from chosen loopback addresses (any 127.x.y.z reaches a server on
127.0.0.1 on Linux), so that "the proxy" and "a client that is no proxy" are real peers.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard import accounts, create_app
from storage import connect
from tests.dashboard.conftest import OTHER, OWNER, PASSWORD
from tests.dashboard.live import LiveServer

PROXY = "127.0.0.1"
NOT_A_PROXY = "127.0.0.2"


class Browser:
    """One browser: its own session cookie, connecting from ``source``, optionally with
    an ``X-Forwarded-For`` header on every request."""

    def __init__(self, port: int, source: str = PROXY, forwarded_for: str | None = None):
        self.port, self.source, self.forwarded_for = port, source, forwarded_for
        self.cookie = ""

    def request(self, method: str, path: str, form: dict[str, str] | None = None):
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=60, source_address=(self.source, 0)
        )
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if self.forwarded_for:
            headers["X-Forwarded-For"] = self.forwarded_for
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
        found = re.search(r"tapshare_session=([^;]+)", response.getheader("Set-Cookie") or "")
        if found:
            self.cookie = f"tapshare_session={found.group(1)}"
        return response, text

    def login_form(self) -> str:
        """Open the login page; its CSRF token."""
        _, html = self.request("GET", "/organiser/login")
        found = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert found
        return found.group(1)

    def login(self, email: str, password: str, token: str | None = None):
        token = token or self.login_form()
        form = {"email": email, "password": password, "csrf_token": token}
        return self.request("POST", "/organiser/login", form)


def alert(html: str) -> str:
    """The login page's error message."""
    found = re.search(r'role="alert">([^<]*)<', html)
    return found.group(1) if found else ""


@pytest.fixture
def serve(dash_db: Path) -> Iterator:
    """Start the dashboard on a real server: ``serve(password_checks=N, **server_options)``."""
    started: list[LiveServer] = []

    def start(password_checks: int = 4, **options) -> LiveServer:
        app = create_app(dash_db, poll_interval=0.05, password_checks=password_checks)
        started.append(LiveServer(app, threads=64, **options))
        return started[-1]

    yield start
    for server in started:
        server.close()


def failures(dash_db: Path, key: str) -> int:
    db = connect(dash_db)
    try:
        return db.execute(
            "select count(*) from dashboard_login_failures where key = ?", [key]
        ).fetchone()[0]
    finally:
        db.close()


def at_once(calls: list) -> list:
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_thirty_simultaneous_logins_get_exactly_the_accounts_limit_of_checks(serve, dash_db):
    server = serve(password_checks=30)  # this test is about the limit, not the bound
    browsers = [Browser(server.port) for _ in range(30)]
    tokens = [b.login_form() for b in browsers]
    passwords = ["a wrong guess"] * 29 + [PASSWORD]
    results = at_once(
        [
            lambda b=b, t=t, p=p: b.login(OWNER, p, t)[0].status
            for b, t, p in zip(browsers, tokens, passwords, strict=True)
        ]
    )
    limit = accounts.MAX_FAILURES_PER_ACCOUNT
    checked = [status for status in results if status != 429]
    # Exactly the limit's number of passwords were checked; the rest were refused unchecked.
    assert len(checked) == limit, results
    assert set(checked) <= {401, 302}
    if 302 not in checked:  # the right password came too late: it was refused
        assert results[29] == 429
        assert failures(dash_db, f"email:{OWNER}") == limit
        assert browsers[0].login(OWNER, PASSWORD)[0].status == 429


def test_twenty_nine_wrong_guesses_at_once_then_the_right_password_is_refused(serve, dash_db):
    server = serve(password_checks=29)
    browsers = [Browser(server.port) for _ in range(29)]
    tokens = [b.login_form() for b in browsers]
    results = at_once(
        [
            lambda b=b, t=t: b.login(OWNER, "a wrong guess", t)[0].status
            for b, t in zip(browsers, tokens, strict=True)
        ]
    )
    limit = accounts.MAX_FAILURES_PER_ACCOUNT
    assert sorted(results) == [401] * limit + [429] * (29 - limit)
    assert failures(dash_db, f"email:{OWNER}") == limit
    response, html = Browser(server.port).login(OWNER, PASSWORD)
    assert response.status == 429
    assert "for this account" in alert(html)


def test_a_login_while_every_check_slot_is_busy_gets_503_with_retry_after(serve, dash_db):
    # A slow check: an account whose stored hash has a higher cost, checked for real.
    db = connect(dash_db)
    db.execute(
        "update dashboard_organisers set password_hash = ? where email = ?",
        [accounts.hash_password(PASSWORD, n=2**16), OWNER],
    )
    db.commit()
    db.close()
    server = serve(password_checks=1)
    checks: accounts.PasswordChecks = server.app.extensions["tapshare_password_checks"]
    slow = Browser(server.port)
    slow_token = slow.login_form()
    outcome: dict = {}
    thread = threading.Thread(
        target=lambda: outcome.update(r=slow.login(OWNER, PASSWORD, slow_token))
    )
    second = Browser(server.port, NOT_A_PROXY)
    second_token = second.login_form()
    thread.start()
    deadline = time.monotonic() + 30
    while checks.running == 0:  # until the slow check is in flight
        assert thread.is_alive() and time.monotonic() < deadline, "the slow check never ran"
        time.sleep(0.001)
    busy = second.login(OTHER, PASSWORD, second_token)
    thread.join(timeout=60)
    response, html = busy
    assert response.status == 503
    assert response.getheader("Retry-After") == "5"
    assert response.getheader("Content-Type").startswith("text/html")
    assert "checking too many logins" in alert(html) and "Nothing was tried" in alert(html)
    # The busy refusal counted as nothing; the slow login itself went through.
    assert failures(dash_db, f"email:{OTHER}") == 0
    assert failures(dash_db, f"addr:{NOT_A_PROXY}") == 0
    assert outcome["r"][0].status == 302
    # With the slot free again, the second organiser logs in.
    assert second.login(OTHER, PASSWORD)[0].status == 302


def guess_twenty_times(port: int, source: str, forwarded_for: str | None) -> list[int]:
    """The address limit's number of failures, each for another (unknown) account."""
    attacker = Browser(port, source, forwarded_for)
    return [
        attacker.login(f"guess{n}@example.org", "wrong")[0].status
        for n in range(accounts.MAX_FAILURES_PER_ADDRESS)
    ]


def test_behind_a_trusted_proxy_one_attacker_locks_out_only_itself(serve, dash_db):
    server = serve(trusted_proxy=PROXY, trusted_proxy_headers=frozenset({"x-forwarded-for"}))
    assert guess_twenty_times(server.port, PROXY, "203.0.113.9") == [401] * 20
    response, html = Browser(server.port, PROXY, "203.0.113.9").login(OWNER, PASSWORD)
    assert response.status == 429
    assert "from your address (203.0.113.9)" in alert(html)
    assert 0 < int(response.getheader("Retry-After")) <= accounts.FAILURE_WINDOW.total_seconds()
    # The organiser, elsewhere but through the same proxy, is not locked out.
    assert Browser(server.port, PROXY, "192.0.2.44").login(OWNER, PASSWORD)[0].status == 302
    assert failures(dash_db, "addr:203.0.113.9") == 20
    assert failures(dash_db, f"addr:{PROXY}") == 0


def test_ipv6_clients_behind_the_proxy_are_limited_by_their_64(serve, dash_db):
    server = serve(trusted_proxy=PROXY, trusted_proxy_headers=frozenset({"x-forwarded-for"}))
    attacker = Browser(server.port, PROXY)
    for n in range(accounts.MAX_FAILURES_PER_ADDRESS):
        attacker.forwarded_for = f"2001:db8:1:2::{n + 1:x}"  # a fresh address each time
        assert attacker.login(f"guess{n}@example.org", "wrong")[0].status == 401
    response, html = Browser(server.port, PROXY, "2001:db8:1:2::ffff").login(OWNER, PASSWORD)
    assert response.status == 429 and "2001:db8:1:2::/64" in alert(html)
    assert Browser(server.port, PROXY, "2001:db8:1:3::1").login(OWNER, PASSWORD)[0].status == 302


def test_forwarded_headers_from_a_peer_that_is_no_trusted_proxy_are_ignored(serve, dash_db):
    server = serve(trusted_proxy=PROXY, trusted_proxy_headers=frozenset({"x-forwarded-for"}))
    # An attacker who is not the proxy cannot escape its address limit by inventing
    # X-Forwarded-For values...
    attacker = Browser(server.port, NOT_A_PROXY)
    statuses = []
    for n in range(accounts.MAX_FAILURES_PER_ADDRESS + 1):
        attacker.forwarded_for = f"198.51.100.{n + 1}"
        statuses.append(attacker.login(f"guess{n}@example.org", "wrong")[0].status)
    assert statuses == [401] * 20 + [429]
    assert failures(dash_db, f"addr:{NOT_A_PROXY}") == 20
    # ...nor lock out the clients it names.
    assert Browser(server.port, PROXY, "198.51.100.1").login(OWNER, PASSWORD)[0].status == 302


def test_without_a_trusted_proxy_the_peer_address_is_the_client(serve, dash_db):
    server = serve()
    assert guess_twenty_times(server.port, PROXY, "203.0.113.9") == [401] * 20
    response, html = Browser(server.port, PROXY, "192.0.2.44").login(OWNER, PASSWORD)
    assert response.status == 429 and f"from your address ({PROXY})" in alert(html)
