"""Fixtures of the fault suite: directories a broker running as its own user can reach."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def broker_dir() -> Iterator[Callable[[], Path]]:
    """Make directories directly under the system's temporary directory (pytest's own is
    private to its user, and Mosquitto run as root drops to the mosquitto user)."""
    made: list[Path] = []

    def make() -> Path:
        made.append(Path(tempfile.mkdtemp(prefix="tapshare-faults-")))
        return made[-1]

    yield make
    for path in made:
        shutil.rmtree(path, ignore_errors=True)
