"""Faults mid-stream: the hub or its writer process killed with SIGKILL, the broker
restarted. In each, every published opinion is stored exactly once."""

from __future__ import annotations

import os
import signal

import pytest

from hub.ingest import Hub, WriterError
from protocol.broker import parse_broker_url
from storage import connect
from tests.harness.mqtt import wait_for
from tests.hub.running import hub_process, hub_thread, running_hub
from tests.hub.stream import StreamPublisher, make_opinions

pytestmark = pytest.mark.e2e

COUNT = 20_000


def stored(db_path) -> tuple[int, int, int]:
    """(taps, distinct tap ids, accepted ids)."""
    db = connect(db_path)
    try:
        taps, ids, accepted = db.conn.execute(
            "SELECT (SELECT count(*) FROM taps), (SELECT count(DISTINCT id) FROM taps), "
            "(SELECT count(*) FROM accepted_ids)"
        ).fetchone()
        return taps, ids, accepted
    finally:
        db.close()


def test_sigkill_of_the_hub_mid_stream_loses_and_duplicates_nothing(
    db, registered, db_path, tmp_path, mosquitto
):
    payloads = make_opinions(registered.st1, COUNT)
    log_path = tmp_path / "hub.log"
    hub = hub_process(db_path, mosquitto.url, log_path)
    stream = StreamPublisher(mosquitto, registered.st1, payloads).start()
    try:
        assert wait_for(lambda: stored(db_path)[0] >= COUNT // 5, 60)
        hub.send_signal(signal.SIGKILL)
        hub.wait(10)
        at_kill = stored(db_path)[0]
        assert at_kill < COUNT, "the hub had stored everything before it was killed"
        hub = hub_process(db_path, mosquitto.url, log_path)
        stream.finish(lambda: stored(db_path)[0], COUNT)
        assert stored(db_path) == (COUNT + 1, COUNT + 1, COUNT + 1)
    finally:
        stream.close()
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(20) == 0, log_path.read_text()[-2000:]


def test_broker_restart_mid_stream_loses_and_duplicates_nothing(db, registered, db_path, mosquitto):
    payloads = make_opinions(registered.st1, COUNT)
    with running_hub(db_path, mosquitto):
        stream = StreamPublisher(mosquitto, registered.st1, payloads).start()
        try:
            assert wait_for(lambda: stored(db_path)[0] >= COUNT // 5, 60)
            mosquitto.restart()
            assert stored(db_path)[0] < COUNT, "everything was stored before the restart"
            stream.finish(lambda: stored(db_path)[0], COUNT)
            assert stored(db_path) == (COUNT + 1, COUNT + 1, COUNT + 1)
        finally:
            stream.close()


def test_the_hub_stops_when_its_writer_process_dies_and_loses_nothing(
    db, registered, db_path, mosquitto
):
    count = 5000
    payloads = make_opinions(registered.st1, count)
    hub = Hub(db_path, parse_broker_url(mosquitto.url), max_batch=100)
    thread, errors = hub_thread(hub)
    assert wait_for(hub.connected.is_set, 10)
    stream = StreamPublisher(mosquitto, registered.st1, payloads).start()
    try:
        assert wait_for(lambda: stored(db_path)[0] >= count // 5, 60)
        assert hub.writer_pid is not None
        os.kill(hub.writer_pid, signal.SIGKILL)
        # The hub does not carry on without its writer: it stops, and says why.
        thread.join(30)
        assert not thread.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], WriterError), errors
        assert "writer process ended unexpectedly" in str(errors[0])
        assert stored(db_path)[0] < count, "everything was stored before the writer died"
        # What it had not committed was not acknowledged: a new hub gets all of it.
        with running_hub(db_path, mosquitto):
            stream.finish(lambda: stored(db_path)[0], count)
            assert stored(db_path) == (count + 1, count + 1, count + 1)
    finally:
        stream.close()
        hub.stop()
        thread.join(15)


def test_the_writer_process_leaves_stopping_to_the_hub(db, registered, db_path, mosquitto):
    # A service manager's SIGTERM often reaches every process of the service at once.
    payloads = make_opinions(registered.st1, 50)
    with running_hub(db_path, mosquitto) as hub:
        stream = StreamPublisher(mosquitto, registered.st1, payloads[:1]).start()
        try:
            assert wait_for(lambda: stored(db_path)[0] >= 1, 30)  # the writer is up
        finally:
            stream.close()
        assert hub.writer_pid is not None
        os.kill(hub.writer_pid, signal.SIGTERM)
        stream = StreamPublisher(mosquitto, registered.st1, payloads[1:]).start()
        try:
            assert wait_for(lambda: stored(db_path)[0] >= 50, 30), stored(db_path)
        finally:
            stream.close()
