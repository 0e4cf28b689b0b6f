"""Screen keys from the command line and on live streams; the per-client stream cap; rules
whose validity window closes while a board is open."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from dashboard import create_app
from dashboard.screens import add_screen, revoke_screen
from storage import connect
from tapshare.cli import cli
from tests.dashboard.conftest import OWNER, login
from tests.dashboard.live import EventStream, LiveServer
from tests.dashboard.opinions import add_opinions
from tests.dashboard.policies import permit, set_policy

KEY = r"[A-Za-z0-9_-]{43,}"


def screen(runner, dash_db, *args, public_url="https://fest.example.org"):
    return runner.invoke(cli, ["--db", str(dash_db), "--public-url", public_url, "screen", *args])


def test_screen_add_prints_one_line_the_screens_address(runner, dash_db, app):
    result = screen(runner, dash_db, "add", "strp", "foyer")
    assert result.exit_code == 0, result.output
    found = re.fullmatch(rf"https://fest\.example\.org/boards/strp\?key=({KEY})\n", result.output)
    assert found, result.output
    key = found.group(1)
    # Only a hash is stored: neither the database nor its write-ahead log holds the key.
    for path in dash_db.parent.glob(dash_db.name + "*"):
        assert key.encode() not in path.read_bytes(), path
    client = app.test_client()
    assert client.get(f"/api/v1/boards/strp?key={key}").status_code == 200
    assert client.get("/api/v1/boards/strp", headers={"Authorization": f"Bearer {key}"}).is_json


def test_screen_list_shows_names_and_last_use_never_the_keys(runner, dash_db, app):
    key = screen(runner, dash_db, "add", "strp", "foyer").output.strip().rsplit("=", 1)[1]
    screen(runner, dash_db, "add", "strp", "main hall")
    listed = screen(runner, dash_db, "list", "strp")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].split() == ["NAME", "MADE", "LAST-USED"]
    assert [line.startswith(("foyer", "main hall")) for line in lines[1:]] == [True, True]
    assert all(line.endswith("never") for line in lines[1:])
    client = app.test_client()
    for _ in range(3):
        client.get(f"/boards/strp?key={key}")
    listed = screen(runner, dash_db, "list", "strp").output
    foyer = next(line for line in listed.splitlines() if line.startswith("foyer"))
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", foyer), foyer
    assert key not in listed


def test_a_keys_use_is_recorded_at_most_once_a_minute(dash_db, app):
    db = connect(dash_db)
    key = add_screen(db, "strp", "foyer")
    client = app.test_client()
    client.get(f"/api/v1/boards/strp?key={key}")
    before = db.execute("PRAGMA data_version").fetchone()[0]
    first = db.execute("select last_used_at from dashboard_screen_keys").fetchone()[0]
    for _ in range(20):
        client.get(f"/api/v1/boards/strp?key={key}")
    # No commit by anyone: the twenty uses wrote nothing.
    assert db.execute("PRAGMA data_version").fetchone()[0] == before
    assert db.execute("select last_used_at from dashboard_screen_keys").fetchone()[0] == first
    db.close()


def test_screen_revoke_refuses_the_key_from_then_on(runner, dash_db, app):
    key = screen(runner, dash_db, "add", "strp", "foyer").output.strip().rsplit("=", 1)[1]
    client = app.test_client()
    assert client.get(f"/api/v1/boards/strp?key={key}").status_code == 200
    result = screen(runner, dash_db, "revoke", "strp", "foyer")
    assert result.exit_code == 0 and "revoked" in result.output
    assert client.get(f"/api/v1/boards/strp?key={key}").status_code == 401
    assert screen(runner, dash_db, "list", "strp").output.splitlines()[1:] == []
    # The name is free again, with a new key.
    again = screen(runner, dash_db, "add", "strp", "foyer").output.strip().rsplit("=", 1)[1]
    assert again != key and client.get(f"/api/v1/boards/strp?key={key}").status_code == 401


@pytest.mark.parametrize(
    "args, message",
    [
        (["add", "nope", "foyer"], "unknown festival: nope"),
        (["add", "strp", "foyer\n"], "a screen name is"),
        (["add", "strp", ""], "a screen name is"),
        (["add", "strp", "x" * 65], "a screen name is"),
        (["add", "strp", "taken"], "has a screen named 'taken' already"),
        (["revoke", "strp", "nobody"], "has no screen named 'nobody'"),
        (["revoke", "ddw", "taken"], "has no screen named 'taken'"),
        (["list", "nope"], "unknown festival: nope"),
    ],
)
def test_bad_screen_commands_fail_clearly_and_change_nothing(runner, dash_db, args, message):
    db = connect(dash_db)
    add_screen(db, "strp", "taken")
    before = db.execute("select * from dashboard_screen_keys").fetchall()
    result = screen(runner, dash_db, *args)
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and message in result.output, result.output
    assert db.execute("select * from dashboard_screen_keys").fetchall() == before
    db.close()


# -- open streams ----------------------------------------------------------------------


@pytest.fixture
def live(app):
    server = LiveServer(app)
    yield server
    server.close()


def _ended_within(stream: EventStream, seconds: float) -> float:
    """Read the stream until it ends; fail if it does not end within ``seconds``."""
    started = time.monotonic()
    with pytest.raises(EOFError):
        while time.monotonic() - started < seconds + 1:
            stream.next_event()
    return time.monotonic() - started


@pytest.mark.parametrize("path", ["/api/v1/boards/strp/stream", "/boards/strp/events"])
def test_revoking_a_key_closes_its_open_streams_within_two_seconds(live, dash_db, path):
    db = connect(dash_db)
    key, kept = add_screen(db, "strp", "foyer"), add_screen(db, "strp", "bar")
    revoked = EventStream(live.port, f"{path}?key={key}", timeout=5)
    other = EventStream(live.port, f"{path}?key={kept}", timeout=5)
    revoked.next_event(), other.next_event()
    revoke_screen(db, "strp", "foyer")
    assert _ended_within(revoked, 2) < 2
    # The other screen's stream goes on, and gets the next change.
    assert live.app.extensions["tapshare_streams"].open_streams == 1
    add_opinions(dash_db, "strp", "aw-1", ["love"])
    assert "aw-1" in other.next_event().data
    reopened = EventStream(live.port, f"{path}?key={key}", timeout=5)
    assert reopened.response.status == 401
    for stream in (revoked, other, reopened):
        stream.close()
    db.close()


def test_logging_out_closes_the_organisers_open_stream(live, dash_db, app):
    client = app.test_client()
    token = login(client, OWNER)
    cookie = client.get_cookie("tapshare_session")
    assert cookie is not None
    stream = EventStream(
        live.port,
        "/api/v1/boards/strp/stream",
        headers={"Cookie": f"tapshare_session={cookie.value}"},
        timeout=5,
    )
    assert stream.next_event().json()["viewer"] == "festival:strp"
    client.post("/organiser/logout", data={"csrf_token": token})
    assert _ended_within(stream, 2) < 2
    stream.close()


def test_one_client_cannot_hold_every_stream_slot(dash_db):
    db = connect(dash_db)
    key = add_screen(db, "strp", "foyer")
    db.close()
    app = create_app(dash_db, poll_interval=0.05, max_streams=10, max_streams_per_client=3)
    live = LiveServer(app, threads=16)
    opened = []
    try:
        for path in [f"/boards/strp/events?key={key}", "/api/v1/boards/public/stream"] * 2:
            opened.append(EventStream(live.port, path, source="127.0.0.1"))
            if len(opened) <= 3:
                assert opened[-1].response.status == 200
                opened[-1].next_event()
        refused = opened[-1]
        assert refused.response.status == 429
        assert refused.response.getheader("Retry-After") == "30"
        body = refused.response.read()
        assert b'"error":"too_many_requests"' in body.replace(b" ", b"")
        # Another client is still served, and the refused one after closing one stream.
        other = EventStream(live.port, "/api/v1/boards/public/stream", source="127.0.0.2")
        opened.append(other)
        assert other.response.status == 200 and other.next_event().json()
        opened[0].close()
        streams = app.extensions["tapshare_streams"]
        deadline = time.monotonic() + 3
        while streams.open_streams != 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        again = EventStream(live.port, "/api/v1/boards/public/stream", source="127.0.0.1")
        opened.append(again)
        assert again.response.status == 200
    finally:
        for stream in opened:
            stream.close()
        live.close()


def test_a_section_leaves_an_open_board_within_two_seconds_of_valid_until(dash_db):
    # Periodic refreshes are far apart here: only the rule's own boundary can be in time.
    app = create_app(dash_db, poll_interval=0.05, refresh_interval=30)
    live = LiveServer(app)
    db = connect(dash_db)
    key = add_screen(db, "strp", "foyer")
    db.close()
    try:
        until = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
        start = until - timedelta(seconds=1)
        stamp = "%Y-%m-%dT%H:%M:%SZ"
        set_policy(
            dash_db,
            "ddw",
            [
                permit(
                    "festival:strp",
                    min_visitors=1,
                    valid_from=start.strftime(stamp),
                    valid_until=until.strftime(stamp),
                )
            ],
        )
        stream = EventStream(live.port, f"/api/v1/boards/strp/stream?key={key}", timeout=10)
        seen = [[s["festival"] for s in stream.next_event().json()["sections"]]]
        while "ddw" not in seen[-1]:
            seen.append([s["festival"] for s in stream.next_event().json()["sections"]])
        assert datetime.now(UTC) - start < timedelta(seconds=2), "the window opened late"
        while "ddw" in seen[-1]:
            seen.append([s["festival"] for s in stream.next_event().json()["sections"]])
        late = datetime.now(UTC) - until
        assert timedelta(0) <= late < timedelta(seconds=2), late
        stream.close()
    finally:
        live.close()


def test_the_dashboards_default_cap_is_the_apps():
    import dashboard
    from tapshare.commands.dashboard import DEFAULT_STREAMS_PER_CLIENT

    assert DEFAULT_STREAMS_PER_CLIENT == dashboard.DEFAULT_STREAMS_PER_CLIENT


# -- the organiser area ------------------------------------------------------------------


def test_an_organiser_makes_sees_once_and_revokes_a_screen_key(client, dash_db):
    token = login(client, OWNER)
    made = client.post(
        "/organiser/strp/screens", data={"csrf_token": token, "do": "add", "name": "foyer"}
    )
    assert made.status_code == 200
    found = re.search(rf"http://localhost/boards/strp\?key=({KEY})", made.get_data(as_text=True))
    assert found, made.get_data(as_text=True)
    key = found.group(1)
    listed = client.get("/organiser/strp/screens").get_data(as_text=True)
    assert "foyer" in listed and key not in listed
    assert client.get(f"/api/v1/boards/strp?key={key}").status_code == 200
    refused = client.post(
        "/organiser/strp/screens", data={"csrf_token": token, "do": "add", "name": "foyer"}
    )
    assert refused.status_code == 400 and "already" in refused.get_data(as_text=True)
    revoked = client.post(
        "/organiser/strp/screens", data={"csrf_token": token, "do": "revoke", "name": "foyer"}
    )
    assert revoked.status_code == 302
    client.post("/organiser/logout", data={"csrf_token": token})
    assert client.get(f"/api/v1/boards/strp?key={key}").status_code == 401


@pytest.mark.parametrize(
    "form",
    [
        {"do": "add", "name": "bad\nname"},
        {"do": "add", "name": ""},
        {"do": "revoke", "name": "nobody"},
        {"do": "explode", "name": "foyer"},
        {},
    ],
)
def test_bad_screen_forms_are_refused_and_change_nothing(client, dash_db, form):
    token = login(client, OWNER)
    response = client.post("/organiser/strp/screens", data={"csrf_token": token, **form})
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    db = connect(dash_db)
    assert db.execute("select count(*) from dashboard_screen_keys").fetchone()[0] == 0
    db.close()
