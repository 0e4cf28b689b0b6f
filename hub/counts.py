"""The SQL of opinion counts (docs/policies.md, Counting), read by :mod:`hub.opinions` and
:mod:`hub.delayed` only.

Current counts come from the tables that ingest's triggers keep up to date. Counts as they
stood at an instant come either from a recount of the stored taps (:func:`artwork_counts_as_of`,
:func:`festival_visitors_as_of`: the definition, kept as the reference) or from the taps
that changed since a delayed view was last brought up to date (:func:`taps_since`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlite_utils import Database

from storage import micros


class ArtworkCount(NamedTuple):
    """How many current opinions of one choice an artwork has (a tuple, so that the
    delayed views' own ``(artwork, choice, n)`` counts compare equal to it)."""

    artwork: str
    choice: str
    n: int


#: A stored tap as the delayed view applies it (positional: the delayed views read
#: millions of them):
#: (visitor, artwork, tapped_us, seq, id, choice).
TapRow = tuple[str, str, int, int, str, str]
_TAP_COLUMNS = "visitor, artwork, tapped_us, seq, id, choice"


def current_artwork_counts(db: Database, festival_id: str) -> list[ArtworkCount]:
    """The counts of the festival's current opinions, n > 0, by artwork."""
    rows = db.conn.execute(
        "SELECT artwork, choice, n FROM opinion_counts WHERE festival = ? AND n > 0 "
        "ORDER BY artwork, choice",
        (festival_id,),
    )
    return [ArtworkCount(row["artwork"], row["choice"], int(row["n"])) for row in rows]


def current_festival_visitors(db: Database, festival_id: str) -> int:
    """How many distinct visitors have at least one current opinion in the festival."""
    row = db.conn.execute(
        "SELECT visitors FROM festival_totals WHERE festival = ?", (festival_id,)
    ).fetchone()
    return int(row["visitors"]) if row else 0


_LATEST_AS_OF = (
    "SELECT artwork, visitor, choice, row_number() OVER ("
    "PARTITION BY visitor, artwork ORDER BY tapped_us DESC, seq DESC, id DESC) AS r "
    "FROM taps WHERE festival = ? AND tapped_us <= ?"
)


def artwork_counts_as_of(db: Database, festival_id: str, as_of: datetime) -> list[ArtworkCount]:
    """The counts of the opinions current at ``as_of``, recounted from the stored taps."""
    rows = db.conn.execute(
        f"SELECT artwork, choice, count(*) AS n FROM ({_LATEST_AS_OF}) WHERE r = 1 "
        "GROUP BY artwork, choice ORDER BY artwork, choice",
        (festival_id, micros(as_of)),
    )
    return [ArtworkCount(row["artwork"], row["choice"], int(row["n"])) for row in rows]


def festival_visitors_as_of(db: Database, festival_id: str, as_of: datetime) -> int:
    """How many distinct visitors had a tap at or before ``as_of`` in the festival."""
    row = db.conn.execute(
        "SELECT count(DISTINCT visitor) AS visitors FROM taps "
        "WHERE festival = ? AND tapped_us <= ?",
        (festival_id, micros(as_of)),
    ).fetchone()
    return int(row["visitors"])


# -- what a delayed view needs (inside one read transaction) ------------------------------


@dataclass(frozen=True)
class TapMarks:
    """Where the stored taps stand: whether a delayed view built earlier still holds."""

    #: How many of the festival's stored taps were ever removed or changed (a trigger
    #: counts them in the same transaction as the change).
    revision: int
    #: The highest tap number (0: no taps), and the id of that tap.
    last_tap: int
    last_tap_id: str | None


def tap_marks(db: Database, festival_id: str) -> TapMarks:
    """The festival's revision and the newest stored tap of any festival."""
    row = db.conn.execute(
        "SELECT revision FROM tap_revisions WHERE festival = ?", (festival_id,)
    ).fetchone()
    revision = int(row["revision"]) if row else 0
    last = db.conn.execute("SELECT tap_no, id FROM taps ORDER BY tap_no DESC LIMIT 1").fetchone()
    if last is None:
        return TapMarks(revision, 0, None)
    return TapMarks(revision, int(last["tap_no"]), last["id"])


def tap_id(db: Database, tap_no: int) -> str | None:
    """The id of the tap with this number, or None when there is none."""
    row = db.conn.execute("SELECT id FROM taps WHERE tap_no = ?", (tap_no,)).fetchone()
    return str(row["id"]) if row else None


# In time order, by the (festival, tapped_us) index: taps are mostly stored in the order
# they were tapped, so the rows it finds are read nearly in the table's order.
TAPS_UP_TO = f"SELECT {_TAP_COLUMNS} FROM taps WHERE festival = ? AND tapped_us <= ?"


def taps_up_to(db: Database, festival_id: str, until_us: int) -> Iterable[TapRow]:
    """Every stored tap of the festival with ``tapped_us`` at or before ``until_us``."""
    return db.conn.execute(TAPS_UP_TO, (festival_id, until_us))


# A range of tap numbers: "+" keeps the planner off the (festival, tapped_us) index, which
# would read every tap of the festival up to the instant.
STORED_SINCE = (
    f"SELECT {_TAP_COLUMNS} FROM taps WHERE tap_no > ? AND +festival = ? AND +tapped_us <= ?"
)
# A range of (festival, tapped_us), from the retention index.
TAPPED_SINCE = (
    f"SELECT {_TAP_COLUMNS} FROM taps "
    "WHERE festival = ? AND tapped_us > ? AND tapped_us <= ? AND tap_no <= ?"
)


def taps_since(
    db: Database, festival_id: str, last_tap: int, after_us: int, until_us: int
) -> list[TapRow]:
    """The festival's taps with ``tapped_us`` at or before ``until_us`` that a view of the
    taps numbered up to ``last_tap`` with ``tapped_us`` up to ``after_us`` lacks: those
    stored since (late ones included, whatever their time) and the older ones tapped after
    ``after_us``."""
    rows = db.conn.execute(STORED_SINCE, (last_tap, festival_id, until_us)).fetchall()
    if until_us > after_us:
        rows += db.conn.execute(
            TAPPED_SINCE, (festival_id, after_us, until_us, last_tap)
        ).fetchall()
    return rows
