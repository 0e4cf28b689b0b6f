"""Bring the schema of the hub's one SQLite database up to date (connections:
:func:`storage.connect`)."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Migrations

from storage import connect


def migration_sets() -> list[Migrations]:
    """Every package's migrations, in the order they must run."""
    from consent.migrations import MIGRATIONS as consent
    from dashboard.migrations import MIGRATIONS as dashboard
    from hub.migrations import MIGRATIONS as hub

    return [hub, consent, dashboard]


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
