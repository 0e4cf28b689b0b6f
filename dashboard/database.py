"""One SQLite connection per request (on ``g``) and one for each background thread."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flask import current_app, g
from sqlite_utils import Database

from protocol import create_private


def connect(path: Path | str, *, readonly: bool = False) -> Database:
    """A connection with a busy timeout; WAL lets readers go on while the hub writes."""
    if readonly:
        conn = sqlite3.connect(
            f"file:{Path(path).resolve()}?mode=ro", uri=True, timeout=30, check_same_thread=False
        )
    else:
        create_private(path)
        conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
    db = Database(conn)
    db.execute("PRAGMA foreign_keys=ON")
    # As the hub's connections: in WAL mode a commit survives a crash of the process
    # without waiting for the disk (a power cut may lose the last ones, never corrupt).
    db.execute("PRAGMA synchronous=NORMAL")
    return db


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
