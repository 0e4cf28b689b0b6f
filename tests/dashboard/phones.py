"""Phones at artworks in tests: a dashboard with web stations on a real broker and hub."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask

from dashboard import create_app
from dashboard.web_votes import WebVotes
from hub import stickers
from protocol.broker import parse_broker_url
from storage import connect
from tapshare.mosquitto import Mosquitto
from tests.dashboard.live import LiveServer

STICKERS = [("s-1", "aw-1", None), ("s-2", "aw-2", None), ("fixed", "aw-3", "love")]


def add_stickers(db_path: Path) -> None:
    """strp gets SDM stickers s-1 (Cloud), s-2 (Tide), fixed (Murmur, love) and static qr."""
    db = connect(db_path)
    for tag, artwork, choice in STICKERS:
        stickers.add(db, "strp", tag, artwork, choice)
    stickers.add(db, "strp", "qr", "aw-1", static=True)
    db.close()


def tap_path(db_path: Path, tag: str = "s-1", festival: str = "strp") -> str:
    """The path and query a fresh tap on the sticker opens."""
    db = connect(db_path)
    try:
        picc, cmac = stickers.simulated_tap(db, festival, tag)
    finally:
        db.close()
    return f"/t/{festival}/{tag}?picc_data={picc}&cmac={cmac}"


def tap_form(path: str) -> dict[str, str]:
    """The hidden fields a vote page's form sends back, from its tap's path."""
    query = urlsplit(path).query
    return dict(part.split("=", 1) for part in query.split("&")) if query else {}


@contextmanager
def phone_app(db_path: Path, broker: Mosquitto, url: str | None = None) -> Iterator[Flask]:
    """The dashboard with web stations publishing to ``broker``."""
    votes = WebVotes(db_path, parse_broker_url(url or broker.url), db_path.parent / "web-outbox")
    votes.start()
    app = create_app(db_path, poll_interval=0.05, web_votes=votes)
    try:
        yield app
    finally:
        app.extensions["tapshare_streams"].stop()
        votes.stop()


@contextmanager
def phone_site(db_path: Path, broker: Mosquitto) -> Iterator[LiveServer]:
    """The dashboard of ``phone_app`` served on a free port."""
    with phone_app(db_path, broker) as app:
        server = LiveServer(app)
        try:
            yield server
        finally:
            server.close()


def cookie_of(response, festival: str = "strp") -> str:
    """The visitor id a response sets."""
    found = re.search(
        rf"tapshare_visitor_{festival}=([^;]+)", " ".join(response.headers.getlist("Set-Cookie"))
    )
    assert found, response.headers
    return found.group(1)
