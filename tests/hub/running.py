"""Run the hub against a real broker: in a thread of the test, or as a `tapshare hub`
process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hub.ingest import Hub
from protocol.broker import parse_broker_url
from tapshare.mosquitto import Mosquitto
from tests.harness.mqtt import wait_for


def hub_thread(hub: Hub) -> tuple[threading.Thread, list[BaseException]]:
    """``hub`` running in a thread, and the list that gets what it ends with, if it raises."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            hub.run()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, name="hub", daemon=True)
    thread.start()
    return thread, errors


@contextmanager
def running_hub(
    db_path: Path, broker: Mosquitto, url: str | None = None, **options
) -> Iterator[Hub]:
    """A connected hub; at the end it is stopped, and must have kept running until then."""
    hub = Hub(db_path, parse_broker_url(url or broker.url), **options)
    thread, errors = hub_thread(hub)
    try:
        assert wait_for(hub.connected.is_set, 10), "the hub did not connect"
        yield hub
        assert thread.is_alive(), f"the hub stopped early: {errors}"
    finally:
        hub.stop()
        thread.join(15)
    assert not thread.is_alive()
    assert not errors, errors


def hub_process(db_path: Path, url: str, log_path: Path) -> subprocess.Popen[bytes]:
    """``tapshare hub`` on ``url``, once it says it has connected; it logs to ``log_path``."""
    connects = log_path.read_text().count("connected to") if log_path.exists() else 0
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tapshare", "--db", str(db_path), "--broker", url, "hub"],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    assert wait_for(lambda: log_path.read_text().count("connected to") > connects, 20), (
        log_path.read_text()
    )
    return process
