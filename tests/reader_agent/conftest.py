"""Helpers for station tests: write a station.toml, run a station in-process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reader_agent.agent import Station
from reader_agent.settings import StationSettings, load_settings

SECRET = "5e" * 32
VISITOR_KEY = "a7" * 32


def station_toml(
    broker: str,
    outbox: Path,
    readers: list[dict[str, object]],
    **extra: object,
) -> str:
    """The text of a station.toml for festival strp, station st-01."""
    lines = [
        'festival = "strp"',
        'station = "st-01"',
        f'broker = "{broker}"',
        f'station_secret = "{SECRET}"',
        f'visitor_key = "{VISITOR_KEY}"',
        f'outbox = "{outbox}"',
    ]
    for key, value in extra.items():
        lines.append(f"{key} = {value!r}".replace("'", '"'))
    for reader in readers:
        lines.append("[[readers]]")
        for key, value in reader.items():
            lines.append(f"{key} = {value!r}".replace("'", '"'))
    return "\n".join(lines) + "\n"


@pytest.fixture
def write_settings(tmp_path: Path) -> Callable[..., StationSettings]:
    """Write a station.toml into the test's directory and load it."""

    def write(broker: str, readers: list[dict[str, object]], **extra: object) -> StationSettings:
        path = tmp_path / "station.toml"
        path.write_text(station_toml(broker, tmp_path / "outbox.db", readers, **extra))
        return load_settings(path)

    return write


@pytest.fixture
def run_station() -> Iterator[Callable[[StationSettings], Station]]:
    """Start stations in background threads; all are stopped at teardown."""
    running: list[tuple[Station, threading.Thread]] = []

    def start(settings: StationSettings) -> Station:
        station = Station(settings)
        thread = threading.Thread(target=station.run, daemon=True)
        thread.start()
        running.append((station, thread))
        return station

    yield start
    for station, thread in running:
        station.stop()
        thread.join(15)
