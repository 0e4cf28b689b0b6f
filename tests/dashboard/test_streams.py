"""Live boards over server-sent events, through a real server."""

from __future__ import annotations

import pytest

from dashboard import create_app
from dashboard.streams import sse_event
from tests.dashboard.conftest import keyed
from tests.dashboard.live import EventStream, LiveServer
from tests.dashboard.opinions import add_opinions
from tests.dashboard.policies import permit, set_policy
from tests.harness.mqtt import wait_for


@pytest.fixture
def live(app):
    server = LiveServer(app)
    yield server
    server.close()


@pytest.fixture
def two_slots(dash_db):
    """Serves a dashboard with two stream slots and the given keep-alive interval; gives
    the server and its streams."""
    servers = []

    def serve(heartbeat_interval):
        app = create_app(
            dash_db, poll_interval=0.05, heartbeat_interval=heartbeat_interval, max_streams=2
        )
        servers.append(LiveServer(app, threads=8))
        return servers[-1], app.extensions["tapshare_streams"]

    yield serve
    for server in servers:
        server.close()


def test_sse_event_splits_lines_into_data_fields():
    assert sse_event("a\nb", event_id=3) == "id: 3\ndata: a\ndata: b\n\n"


def test_a_stream_starts_with_the_board_and_sends_each_change(live, dash_db, screen_keys):
    stream = EventStream(live.port, keyed("/api/v1/boards/strp/stream", screen_keys))
    assert stream.response.getheader("Content-Type").startswith("text/event-stream")
    first = stream.next_event().json()
    assert first["viewer"] == "festival:strp" and first["sections"][0]["cells"] == []
    add_opinions(dash_db, "strp", "aw-1", ["love", "meh"])
    second = stream.next_event().json()
    assert second["sections"][0]["cells"][0]["counts"]["love"] == 1
    stream.close()


def test_a_revoked_section_leaves_the_open_public_stream(live, dash_db):
    add_opinions(dash_db, "strp", "aw-1", ["love"])
    set_policy(dash_db, "strp", [permit("public", min_visitors=1)])
    stream = EventStream(live.port, "/api/v1/boards/public/stream")
    assert [s["festival"] for s in stream.next_event().json()["sections"]] == ["strp"]
    set_policy(dash_db, "strp", [])
    assert stream.next_event().json()["sections"] == []
    stream.close()


def test_the_page_stream_carries_the_rendered_board(live, dash_db, screen_keys):
    add_opinions(dash_db, "strp", "aw-2", ["like"])
    stream = EventStream(live.port, keyed("/boards/strp/events", screen_keys))
    html = stream.next_event().data
    assert 'data-artwork="aw-2"' in html and 'data-choice="like" data-count="1"' in html
    stream.close()


def test_streams_are_counted_and_capped(two_slots, screen_keys):
    live, streams = two_slots(0.2)
    first = EventStream(live.port, keyed("/api/v1/boards/strp/stream", screen_keys))
    second = EventStream(live.port, "/api/v1/boards/public/stream")
    first.next_event(), second.next_event()
    assert streams.open_streams == 2
    third = EventStream(live.port, keyed("/api/v1/boards/strp/stream", screen_keys))
    assert third.response.status == 503
    assert third.response.getheader("Retry-After") == "10"
    third.close()
    first.close()
    # The server notices the closed connection at the next keep-alive comment.
    assert wait_for(lambda: streams.open_streams == 1, timeout=10)
    second.close()


def test_one_computation_serves_every_watcher_of_a_board(live, dash_db, app, screen_keys):
    streams = [
        EventStream(live.port, keyed("/api/v1/boards/strp/stream", screen_keys)) for _ in range(5)
    ]
    for stream in streams:
        stream.next_event()
    add_opinions(dash_db, "strp", "aw-1", ["love"])
    ids = {stream.next_event().id for stream in streams}
    assert len(ids) == 1
    for stream in streams:
        stream.close()


def test_a_station_going_offline_reaches_the_open_page(live, dash_db, screen_keys):
    from tests.dashboard.opinions import set_station_state

    stream = EventStream(live.port, keyed("/boards/strp/events", screen_keys))
    assert "offline" not in stream.next_event().data
    set_station_state(dash_db, "strp", "st-01", "offline")
    assert "1 station offline (st-01)" in stream.next_event().data
    stream.close()


def test_a_client_leaving_frees_its_slot_long_before_the_keep_alive(two_slots, screen_keys):
    live, streams = two_slots(60)
    first = EventStream(live.port, keyed("/api/v1/boards/strp/stream", screen_keys))
    second = EventStream(live.port, keyed("/api/v1/boards/strp/stream", screen_keys))
    first.next_event(), second.next_event()
    assert streams.open_streams == 2
    first.close()
    # No write to the closed connection is due for a minute: the server notices anyway.
    assert wait_for(lambda: streams.open_streams == 1, timeout=3)
    third = EventStream(live.port, keyed("/api/v1/boards/strp/stream", screen_keys))
    assert third.response.status == 200 and third.next_event().json()
    third.close()
    second.close()


def test_streams_opening_together_share_one_computation(live, dash_db, monkeypatch, screen_keys):
    from concurrent.futures import ThreadPoolExecutor

    from dashboard import board_view

    renders = []
    real = board_view.board_view

    def counted(*args, **kwargs):
        renders.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(board_view, "board_view", counted)
    with ThreadPoolExecutor(16) as pool:
        opened = list(
            pool.map(
                lambda _: EventStream(live.port, keyed("/api/v1/boards/strp/stream", screen_keys)),
                range(16),
            )
        )
    assert len({stream.next_event().id for stream in opened}) == 1
    # The first stream computes the board; the polling thread may compute it once more.
    assert renders.count("strp") <= 2
    for stream in opened:
        stream.close()
