"""Open the one SQLite database of a hub and bring its schema up to date."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database, Migrations

from protocol import create_private


def migration_sets() -> list[Migrations]:
    """Every package's migrations, in the order they must run."""
    from consent.migrations import MIGRATIONS as consent
    from dashboard.migrations import MIGRATIONS as dashboard
    from hub.migrations import MIGRATIONS as hub

    return [hub, consent, dashboard]


def connect(path: Path | str) -> Database:
    """A connection in WAL mode with a busy timeout, for one thread; a new database is
    created readable by its owner only."""
    create_private(path)
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
    db = Database(conn)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    return db


def migrate(path: Path | str) -> list[str]:
    """Apply every pending migration; return the names of those applied."""
    db = connect(path)
    try:
        applied: list[str] = []
        for migrations in migration_sets():
            pending = [m.name for m in migrations.pending(db)]
            migrations.apply(db)
            applied += [f"{migrations.name}:{name}" for name in pending]
        return applied
    finally:
        db.close()
