"""Faults: the broker goes away, the station is killed and restarted, nothing is lost."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from protocol import parse_opinion
from tapshare.mosquitto import Mosquitto
from tests.harness.mqtt import Collector, wait_for
from tests.reader_agent.conftest import station_toml

OPINIONS = "tapshare/v1/strp/st-01/opinion"


def committed(outbox: Path) -> tuple[int, int]:
    """(taps committed so far, messages still waiting) as another process sees the outbox."""
    if not outbox.exists():
        return 0, 0
    with sqlite3.connect(outbox, timeout=10) as db:
        (next_seq,) = db.execute("SELECT value FROM counter WHERE name = 'next_seq'").fetchone()
        (waiting,) = db.execute("SELECT count(*) FROM messages").fetchone()
    return int(next_seq), int(waiting)


def start_station(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tapshare", "reader", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )


@pytest.mark.e2e
def test_outage_and_sigkill_lose_nothing_and_duplicate_nothing(
    mosquitto: Mosquitto, tmp_path: Path
):
    collector = Collector(mosquitto, OPINIONS, client_id="fault-watcher", persistent=True)
    collector.client.reconnect_delay_set(1, 1)
    collector.connect()
    outbox = tmp_path / "outbox.db"
    config = tmp_path / "station.toml"
    config.write_text(
        station_toml(
            mosquitto.url,
            outbox,
            [
                {
                    "device": "sim:rate=15,vary=0,visitors=100000,limit=40",
                    "artwork": "aw-1",
                    "choice": "like",
                }
            ],
            tap_guard_seconds=0,
            reconnect_max_seconds=1,
        )
    )
    log = tmp_path / "station.log"
    first = start_station(config, log)
    try:
        assert wait_for(lambda: len(collector.payloads()) >= 5, timeout=20), log.read_text()
        mosquitto.stop()
        # Taps go on while the broker is away; they wait in the outbox.
        assert wait_for(lambda: committed(outbox)[1] >= 10, timeout=20), log.read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at, _ = committed(outbox)

        second = start_station(config, log)
        assert wait_for(lambda: committed(outbox)[0] >= killed_at + 5, timeout=20)
        mosquitto.start()
        # The second run taps 40 more; all of both runs arrive.
        assert wait_for(lambda: committed(outbox) == (killed_at + 40, 0), timeout=30), (
            committed(outbox),
            log.read_text(),
        )
        total = killed_at + 40
        assert wait_for(lambda: len(collector.payloads()) >= total, timeout=20)
    finally:
        for process in (first, locals().get("second")):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(15)

    # A subscriber may get the broker's own redelivery (DUP) of a message it had not
    # acknowledged when the broker stopped; that is the broker's doing, not the station's.
    seen: set[bytes] = set()
    payloads = []
    for message in list(collector.messages):
        if message.dup and message.payload in seen:
            continue
        seen.add(message.payload)
        payloads.append(message.payload)
    seqs = [parse_opinion(p).seq for p in payloads]
    assert seqs == list(range(total)), seqs  # every tap exactly once, in seq order
    assert second.returncode == 0  # SIGTERM is a clean stop
    assert "SIGTERM received: stopping" in log.read_text()
