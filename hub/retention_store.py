"""The SQL of retention: how long each festival keeps its taps, and the removal of what
is older (docs/operator.md, Retention). The removals run inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from protocol.topics import PREFIX
from storage import from_row, immediate


@dataclass(frozen=True)
class Retention:
    """How many days a festival keeps its taps."""

    festival: str
    days: int


def festival_retentions(db: Database) -> list[Retention]:
    """Every festival that keeps its taps for a limited time, ordered by id."""
    rows = db.conn.execute(
        "SELECT id AS festival, retain_days AS days FROM festivals WHERE retain_days > 0 "
        "ORDER BY id"
    )
    return [from_row(Retention, row) for row in rows]


def festival_retain_days(db: Database, festival_id: str) -> int:
    """How many days the festival keeps its taps (0: forever)."""
    row = db.conn.execute(
        "SELECT retain_days FROM festivals WHERE id = ?", (festival_id,)
    ).fetchone()
    return int(row["retain_days"]) if row else 0


def set_festival_retain_days(db: Database, festival_id: str, days: int) -> None:
    """Set how many days the festival keeps its taps (0: forever)."""
    with immediate(db):
        db.conn.execute("UPDATE festivals SET retain_days = ? WHERE id = ?", (days, festival_id))


def expire_current_opinions(db: Database, festival_id: str, cutoff_us: int) -> int:
    """Remove current opinions older than the cut-off (inside the caller's transaction);
    the counting triggers follow. A current opinion is its key's latest tap, so these are
    exactly the keys whose every tap is about to be removed."""
    return int(
        db.conn.execute(
            "DELETE FROM current_opinions WHERE festival = ? AND tapped_us < ?",
            (festival_id, cutoff_us),
        ).rowcount
    )


def expire_taps(db: Database, festival_id: str, cutoff_us: int, limit: int) -> int:
    """Remove up to ``limit`` taps older than the cut-off (inside the caller's
    transaction); their ids stay accepted, so a redelivery does not bring them back."""
    return int(
        db.conn.execute(
            "DELETE FROM taps WHERE tap_no IN (SELECT tap_no FROM taps "
            "WHERE festival = ? AND tapped_us < ? LIMIT ?)",
            (festival_id, cutoff_us, limit),
        ).rowcount
    )


def expire_accepted_ids(db: Database, festival_id: str, received_before: str) -> int:
    """Forget the ids of the festival's opinions received before a time (inside the
    caller's transaction); erase requests' ids are kept."""
    return int(
        db.conn.execute(
            "DELETE FROM accepted_ids WHERE festival = ? AND received_at < ?",
            (festival_id, received_before),
        ).rowcount
    )


def expire_dead_letters(db: Database, festival_id: str, received_before: str) -> int:
    """Remove the dead letters on the festival's topics received before a time (inside
    the caller's transaction)."""
    prefix = f"{PREFIX}/{festival_id}/"
    return int(
        db.conn.execute(
            "DELETE FROM dead_letters WHERE substr(topic, 1, ?) = ? AND received_at < ?",
            (len(prefix), prefix, received_before),
        ).rowcount
    )
