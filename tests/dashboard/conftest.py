"""A dashboard on a fresh, migrated database with three festivals and two organisers."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashboard import create_app
from dashboard.accounts import add_organiser
from dashboard.screens import add_screen, revoke_screen
from hub import registry
from storage import connect
from tapshare.database import migrate

PASSWORD = "correct horse battery"
OWNER = "owner@strp.example"
OTHER = "organiser@ddw.example"


@pytest.fixture(scope="session")
def dash_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The database of ``dash_db``, built once: hashing the organisers' passwords is slow."""
    db_path = tmp_path_factory.mktemp("dash-template") / "tapshare.db"
    migrate(db_path)
    db = connect(db_path)
    registry.add_festival(db, "strp", "STRP")
    registry.add_festival(db, "ddw", "Dutch Design Week", ["yes", "no"])
    registry.add_festival(db, "glow", "GLOW")
    for artwork, title in [("aw-1", "Cloud"), ("aw-2", "Tide"), ("aw-3", "Murmur")]:
        registry.add_artwork(db, "strp", artwork, title)
    registry.add_artwork(db, "ddw", "chair", "The Chair")
    registry.add_station(db, "strp", "st-01")
    registry.add_station(db, "strp", "st-02")
    registry.add_station(db, "ddw", "gate")
    add_organiser(db, "strp", OWNER, PASSWORD)
    add_organiser(db, "ddw", OTHER, PASSWORD)
    db.close()
    return db_path


@pytest.fixture
def dash_db(dash_db_template: Path, db_path: Path) -> Path:
    """The database: festivals strp (3 artworks, 2 stations), ddw (1 artwork) and glow,
    and an organiser each of strp and ddw; a fresh copy for each test."""
    source = sqlite3.connect(dash_db_template)
    target = sqlite3.connect(db_path)
    with target:
        source.backup(target)
    source.close()
    target.close()
    return db_path


@pytest.fixture
def screen_keys(dash_db: Path) -> dict[str, str]:
    """A screen key ("foyer") of each festival by festival id, and under "revoked" a key
    of strp that has been revoked."""
    db = connect(dash_db)
    keys = {festival: add_screen(db, festival, "foyer") for festival in ("strp", "ddw", "glow")}
    keys["revoked"] = add_screen(db, "strp", "lost")
    revoke_screen(db, "strp", "lost")
    db.close()
    return keys


def keyed(path: str, keys: dict[str, str]) -> str:
    """``path`` of a festival's board with that festival's screen key (the public board's
    path as it is)."""
    festival = path.removeprefix("/api/v1").removeprefix("/boards/").split("/")[0]
    return path if festival == "public" else f"{path}?key={keys[festival]}"


@pytest.fixture
def app(dash_db: Path) -> Iterator[Flask]:
    application = create_app(dash_db, poll_interval=0.05, heartbeat_interval=0.5)
    yield application
    application.extensions["tapshare_streams"].stop()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_of(html: str) -> str:
    """The CSRF token in a page's form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def login(client: FlaskClient, email: str = OWNER, password: str = PASSWORD) -> str:
    """Log in through the form; return the session's CSRF token."""
    token = csrf_of(client.get("/organiser/login").get_data(as_text=True))
    response = client.post(
        "/organiser/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get("/organiser/").headers.get("Location") or "/organiser/"
    return csrf_of(client.get(page, follow_redirects=True).get_data(as_text=True))
