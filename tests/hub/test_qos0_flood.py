"""A compromised station floods the hub with QoS 0 opinions, which no in-flight window
limits: the hub holds a bounded number of messages (its queue, and what its writer has
not committed), refuses each QoS 0 message as a dead letter ``qos0``, and stores every
QoS 1 opinion exactly once."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.ingest import MAX_CHUNK, MAX_OUTSTANDING, MAX_QUEUED
from protocol import MAX_PAYLOAD_BYTES, Opinion, parse_key, topic_for
from storage import connect
from tests.harness.mqtt import wait_for
from tests.hub.running import running_hub
from tests.hub.stream import StreamPublisher, make_opinions

pytestmark = pytest.mark.e2e

FLOOD = 40_000
GOOD = 2_000


def padded_opinions(station, count: int) -> list[bytes]:
    """Valid signed opinions, padded with JSON whitespace to the largest allowed size."""
    key = parse_key(station.station_secret)
    start = datetime.now(UTC) - timedelta(minutes=30)
    payloads = []
    for n in range(count):
        body = Opinion.build(
            id=str(uuid.uuid4()),
            festival=station.festival,
            station=station.station,
            artwork="aw-1",
            visitor=f"{n + 10**6:064x}",
            choice="meh",
            tapped_at=start + timedelta(microseconds=n),
            seq=10**6 + n,
            station_secret=key,
        ).payload()
        payloads.append(body[:1] + b" " * (MAX_PAYLOAD_BYTES - len(body)) + body[1:])
    return payloads


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def counts(db_path) -> tuple[int, int, int]:
    db = connect(db_path)
    try:
        row = db.conn.execute(
            "SELECT (SELECT count(*) FROM taps), (SELECT count(DISTINCT id) FROM taps), "
            "(SELECT coalesce(sum(value), 0) FROM hub_counters "
            " WHERE name = 'tapshare_hub_rejected_total' AND labels = '{\"reason\":\"qos0\"}')"
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2])
    finally:
        db.close()


def test_a_qos0_flood_is_refused_within_bounded_memory(db, registered, db_path, mosquitto):
    flood = padded_opinions(registered.st1, FLOOD)
    good = make_opinions(registered.st2, GOOD)
    peaks = {"queued": 0, "outstanding": 0, "writer_kib": 0}
    with running_hub(db_path, mosquitto) as hub:
        assert wait_for(lambda: hub.writer_pid is not None, 10)
        writer_pid = hub.writer_pid
        assert writer_pid is not None
        base_kib = rss_kib(writer_pid)
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                peaks["queued"] = max(peaks["queued"], len(hub._queue))
                peaks["outstanding"] = max(peaks["outstanding"], len(hub._outstanding))
                peaks["writer_kib"] = max(peaks["writer_kib"], rss_kib(writer_pid) - base_kib)
                sampling.wait(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        attacker = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        attacker.connect(mosquitto.host, mosquitto.port)
        attacker.loop_start()
        stream = StreamPublisher(mosquitto, registered.st2, good).start()
        # The writer is held up for a while (a long write elsewhere, a slow disk): without a
        # bound, the flood would pile up in the hub meanwhile.
        blocker = connect(db_path)
        blocker.conn.execute("BEGIN IMMEDIATE")
        try:
            topic = topic_for("strp", "st-01", "opinion")
            infos = [attacker.publish(topic, payload, qos=0) for payload in flood]
            threading.Timer(3.0, blocker.conn.execute, ["ROLLBACK"]).start()
            assert wait_for(lambda: all(i.is_published() for i in infos), 120)
            assert stream.done.wait(120)
            assert wait_for(lambda: counts(db_path)[0] >= GOOD, 120), counts(db_path)
            # Every QoS 0 message the broker passed on is refused as it comes.
            assert wait_for(lambda: len(hub._queue) == 0 and not hub._outstanding, 120)
        finally:
            blocker.close()
            sampling.set()
            sampler.join()
            attacker.disconnect()
            attacker.loop_stop()
            stream.close()
    taps, distinct, refused = counts(db_path)
    assert (taps, distinct) == (GOOD, GOOD)  # no QoS 0 opinion stored, every QoS 1 one
    assert 0 < refused <= FLOOD
    assert peaks["queued"] <= MAX_QUEUED
    assert peaks["outstanding"] <= MAX_OUTSTANDING + MAX_CHUNK
    # What the writer holds is bounded too (a batch and the next, at most 2 KiB each).
    assert peaks["writer_kib"] < 64 * 1024, peaks
