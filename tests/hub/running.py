"""Run the hub in a thread of the test, against a real broker."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hub.ingest import Hub
from protocol.broker import parse_broker_url
from tapshare.mosquitto import Mosquitto
from tests.harness.mqtt import wait_for


@contextmanager
def running_hub(
    db_path: Path, broker: Mosquitto, url: str | None = None, **options
) -> Iterator[Hub]:
    """A connected hub; at the end it is stopped, and must have kept running until then."""
    hub = Hub(db_path, parse_broker_url(url or broker.url), **options)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            hub.run()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, name="hub", daemon=True)
    thread.start()
    try:
        assert wait_for(hub.connected.is_set, 10), "the hub did not connect"
        yield hub
        assert thread.is_alive(), f"the hub stopped early: {errors}"
    finally:
        hub.stop()
        thread.join(15)
    assert not thread.is_alive()
    assert not errors, errors
