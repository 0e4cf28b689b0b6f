"""Fixtures shared by every test folder: a real Mosquitto, a click runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tapshare.mosquitto import BrokerUnavailable, Mosquitto


@pytest.fixture
def mosquitto_factory() -> Iterator[Callable[..., Mosquitto]]:
    """Start brokers with options (password file, ACL, extra config); all stop at teardown.

    A missing ``mosquitto`` is a failure, not a skip: these tests are the proof that
    messages travel through a real broker.
    """
    brokers: list[Mosquitto] = []

    def start(**options: object) -> Mosquitto:
        try:
            broker = Mosquitto(**options)  # type: ignore[arg-type]
            brokers.append(broker)
            broker.start()
        except BrokerUnavailable as exc:
            pytest.fail(str(exc), pytrace=False)
        return broker

    yield start
    for broker in brokers:
        broker.close()


@pytest.fixture
def mosquitto(mosquitto_factory: Callable[..., Mosquitto]) -> Mosquitto:
    """A running Mosquitto on a free loopback port, anonymous, with persistence."""
    return mosquitto_factory()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tapshare.db"
