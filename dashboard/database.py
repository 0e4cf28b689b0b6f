"""One SQLite connection per request (on ``g``); background threads open their own with
:func:`storage.connect`."""

from __future__ import annotations

from flask import current_app, g
from sqlite_utils import Database

from storage import connect

__all__ = ["close_db", "get_db"]


def get_db() -> Database:
    """The request's connection, opened on first use and closed when the request ends."""
    if "db" not in g:
        g.db = connect(current_app.config["TAPSHARE_DB"])
    db: Database = g.db
    return db


def close_db(exc: BaseException | None = None) -> None:
    """Close the request's connection, if it opened one."""
    db = g.pop("db", None)
    if db is not None:
        db.close()
