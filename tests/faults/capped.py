"""A hub database connection capped by SQLite's ``max_page_count``, for the writer process.

The hub opens its database in its writer process, so the cap is set there, from a file the
test writes next to the database, and lifted when the test removes that file."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlite_utils import Database

from storage import connect


def cap_file(db_path: Path) -> Path:
    """Where the test writes the page cap."""
    return Path(f"{db_path}.cap")


def capped_database(path: Path, synchronous: str) -> Database:
    """The hub's connection, at most the pages in the cap file while that file exists."""
    db = connect(path, synchronous)
    cap = cap_file(path)
    db.execute(f"PRAGMA max_page_count = {int(cap.read_text())}")

    def lift() -> None:
        while cap.exists():
            time.sleep(0.05)
        db.execute("PRAGMA max_page_count = 1000000")

    threading.Thread(target=lift, daemon=True).start()
    return db
