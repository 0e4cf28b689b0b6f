"""The SQL of the hub's counters (``hub_counters``), which ``/metrics`` shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlite_utils import Database

from storage import from_row


def add_counters(db: Database, counters: Mapping[tuple[str, str], float]) -> None:
    """Add to counters (inside the caller's transaction)."""
    db.conn.executemany(
        "INSERT INTO hub_counters (name, labels, value) VALUES (?, ?, ?) "
        "ON CONFLICT (name, labels) DO UPDATE SET value = value + excluded.value",
        [(name, labels, value) for (name, labels), value in counters.items() if value],
    )


@dataclass(frozen=True)
class StoredCounter:
    """One of the hub's counters: its name, its labels (a JSON object) and its value."""

    name: str
    labels: str
    value: float


def list_counters(db: Database) -> list[StoredCounter]:
    """Every counter, ordered by name and labels."""
    rows = db.conn.execute("SELECT name, labels, value FROM hub_counters ORDER BY name, labels")
    return [from_row(StoredCounter, row, value=float(row["value"])) for row in rows]
