"""Fixtures shared by every test folder: a real Mosquitto, a click runner, a migrated
database with a small registry; and the markers that sort tests by what they start.

A test that uses a broker fixture is marked ``broker``, one that uses a browser fixture
``browser``, without saying so itself; ``scripts/test --quick`` leaves both out. A test that
starts a broker or a browser some other way (a subprocess, ``Mosquitto`` directly) carries
the marker in its module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from hub import registry
from hub.models import Festival, StationCredentials
from storage import connect
from tapshare.database import migrate
from tapshare.mosquitto import BrokerUnavailable, Mosquitto

# The fixtures that start a broker or a browser, and the marker each one implies.
MARKED_FIXTURES = {
    "mosquitto": "broker",
    "mosquitto_factory": "broker",
    "chromium": "browser",
    "browser_page": "browser",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            if fixture in MARKED_FIXTURES:
                item.add_marker(MARKED_FIXTURES[fixture])


@pytest.fixture(autouse=True)
def _a_broker_needs_the_marker(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that starts a Mosquitto without the ``broker`` marker, so that
    ``scripts/test --quick`` never starts one."""
    if request.node.get_closest_marker("broker") is not None:
        yield
        return
    start = Mosquitto.start

    def refuse(broker: Mosquitto, timeout: float = 10.0) -> None:
        pytest.fail(f"{request.node.nodeid} starts a broker: mark it broker", pytrace=False)

    Mosquitto.start = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        Mosquitto.start = start  # type: ignore[method-assign]


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


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    """A fresh database with every migration applied, in a temporary directory."""
    migrate(db_path)
    database = connect(db_path)
    yield database
    database.close()


class Registered:
    """Two festivals (strp with two artworks and two stations, dfest with one of each)."""

    def __init__(self, db: Database) -> None:
        self.strp: Festival = registry.add_festival(db, "strp", "STRP")
        self.dfest: Festival = registry.add_festival(db, "dfest", "Dutch Fest", ["yes", "no"])
        registry.add_artwork(db, "strp", "aw-1", "Cloud")
        registry.add_artwork(db, "strp", "aw-2", "Rain")
        registry.add_artwork(db, "dfest", "aw-1", "Sun")
        self.st1: StationCredentials = registry.add_station(db, "strp", "st-01")
        self.st2: StationCredentials = registry.add_station(db, "strp", "st-02")
        self.d1: StationCredentials = registry.add_station(db, "dfest", "d-01")


@pytest.fixture
def registered(db: Database) -> Registered:
    return Registered(db)
