"""Processes killed without warning: the hub (SIGKILL of `tapshare hub`, behind a site
broker) and a station (SIGKILL of `tapshare reader` mid-publish, then restarted). Every
tap published is stored exactly once, and nothing else is."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.models import StationCredentials
from hub.registry import station_toml
from protocol.broker import parse_broker_url
from storage import connect
from tapshare.mosquitto import Mosquitto
from tests.faults.site import start_site, stored
from tests.harness.mqtt import wait_for
from tests.hub.running import hub_process, running_hub
from tests.hub.stream import StreamPublisher, make_opinions

pytestmark = pytest.mark.e2e

COUNT = 6000
PER_RUN = 150


def test_hub_sigkill_behind_a_site_broker(
    db, registered, db_path, tmp_path, mosquitto_factory, broker_dir
):
    site = start_site(db, tmp_path, mosquitto_factory, broker_dir)
    payloads = make_opinions(registered.st1, COUNT)
    log_path = tmp_path / "hub.log"
    hub = hub_process(db_path, site.hub_url, log_path)
    stream = StreamPublisher(site.site_broker, registered.st1, payloads, login=True).start()
    try:
        assert wait_for(lambda: stored(db_path)[0] >= COUNT // 5, 60), log_path.read_text()
        hub.send_signal(signal.SIGKILL)
        hub.wait(10)
        assert stored(db_path)[0] < COUNT, "the hub had stored everything before it was killed"
        hub = hub_process(db_path, site.hub_url, log_path)
        stream.finish(lambda: stored(db_path)[0], COUNT)
        assert stored(db_path) == (COUNT + 1, COUNT + 1, 0)
    finally:
        stream.close()
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(20) == 0, log_path.read_text()[-2000:]


def outbox_state(outbox: Path) -> tuple[int, int]:
    """(taps the station committed so far, messages still waiting in its outbox)."""
    if not outbox.exists():
        return 0, 0
    try:
        with sqlite3.connect(outbox, timeout=10) as conn:
            (next_seq,) = conn.execute(
                "SELECT value FROM counter WHERE name = 'next_seq'"
            ).fetchone()
            (waiting,) = conn.execute("SELECT count(*) FROM messages").fetchone()
    except (sqlite3.OperationalError, TypeError):
        return 0, 0  # not created yet
    return int(next_seq), int(waiting)


def write_station_config(
    path: Path, credentials: StationCredentials, broker: Mosquitto, outbox: Path
) -> None:
    text = station_toml(credentials, parse_broker_url(broker.url), str(outbox))
    text += (
        "tap_guard_seconds = 0\nreconnect_max_seconds = 1\n\n[[readers]]\n"
        f'device = "sim:rate=40,vary=0,visitors=100000,limit={PER_RUN}"\n'
        'artwork = "aw-1"\nchoice = "like"\n'
    )
    path.write_text(text)


def start_station(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "tapshare", "reader", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def test_station_sigkill_mid_publish_and_restart(db, registered, db_path, tmp_path, mosquitto):
    outbox = tmp_path / "outbox.db"
    config = tmp_path / "station.toml"
    write_station_config(config, registered.st1, mosquitto, outbox)
    log = tmp_path / "station.log"
    with running_hub(db_path, mosquitto):
        first = start_station(config, log)
        second = None
        try:
            assert wait_for(lambda: stored(db_path)[0] >= 30, 30), log.read_text()
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            killed_at, _ = outbox_state(outbox)
            assert 0 < killed_at < PER_RUN, killed_at
            second = start_station(config, log)
            total = killed_at + PER_RUN
            assert wait_for(lambda: outbox_state(outbox) == (total, 0), 30), (
                outbox_state(outbox),
                log.read_text()[-2000:],
            )
            assert wait_for(lambda: stored(db_path)[0] >= total, 30), stored(db_path)
            time.sleep(0.5)
            assert stored(db_path) == (total, total, 0)
            reader = connect(db_path)
            try:
                seqs = [row[0] for row in reader.conn.execute("SELECT seq FROM taps ORDER BY seq")]
            finally:
                reader.close()
            assert seqs == list(range(total))  # every tap of both runs, once
        finally:
            for process in (first, second):
                if process is not None and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(15)
