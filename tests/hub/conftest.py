"""Fixtures of the hub's tests: a migrated database with a small registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from hub import registry
from hub.models import Festival, StationCredentials
from tapshare.database import connect, migrate


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    """A fresh, migrated database in a temporary directory."""
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
