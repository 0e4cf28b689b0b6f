"""Opinion counts as they stood at an instant (docs/policies.md, Counting: a delay D > 0),
kept up to date incrementally so that a delayed board costs in proportion to the taps since
the last read, not to every stored tap.

A :class:`_View` holds, for one festival of one database file, each (visitor, artwork)'s
latest tap among the taps numbered up to ``last_tap`` with ``tapped_us`` up to
``watermark``, the counts per (artwork, choice) of those latest taps, and the visitors.
A read at instant T takes the view with the largest watermark at or before T and, inside
one read transaction (so that the tap numbers and rows are one snapshot):

- moves the view on to T minus :data:`LAG_US`, with the festival's taps it lacks: those
  stored since ``last_tap`` (a station that was offline delivers taps with old times) and
  the older ones with ``tapped_us`` after the watermark;
- lays the taps between that and T over the view for this read only. Reads of one delay
  arrive with slightly different clocks from different threads; the lag lets a read that
  comes a little late still use the view.

Removing or changing stored taps (erasure, retention) is not applied to a view: it bumps
the festival's revision (a trigger, in the same transaction, whichever process does it),
and a view of an older revision is dropped and rebuilt from the taps. Tap numbers are
reused only after the highest numbered tap is removed, so a view also checks that its
``last_tap`` still holds the tap it saw.

Databases without a file (in memory) and connections already inside a transaction are
counted from the taps each time, by the recount of :mod:`hub.counts`.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import ChainMap, Counter, OrderedDict
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sqlite_utils import Database

from hub import counts
from hub.counts import TapRow
from storage import micros

#: How far behind a read's instant a view's watermark is kept (microseconds).
LAG_US: Final = 30_000_000
#: Views kept per process (least recently used ones go first).
MAX_VIEWS: Final = 16

#: A visitor's latest tap on an artwork: (tapped_us, seq, id, choice).
_Latest = tuple[int, int, str, str]
#: A database file: (path, device, inode), so that a file put in its place is another.
_Database = tuple[str, int, int]


@dataclass(frozen=True)
class DelayedCounts:
    """A festival's opinions as they stood at an instant."""

    #: (artwork, choice, n) with n > 0, ordered by artwork and choice.
    artwork_counts: list[tuple[str, str, int]]
    #: Distinct visitors with a tap at or before the instant.
    visitors: int


@dataclass
class _View:
    revision: int
    watermark: int
    last_tap: int
    last_tap_id: str | None
    latest: dict[tuple[str, str], _Latest] = field(default_factory=dict)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    visitors: set[str] = field(default_factory=set)


def _apply(
    latest: MutableMapping[tuple[str, str], _Latest],
    tallies: Counter[tuple[str, str]],
    rows: Iterable[TapRow],
) -> None:
    """Take taps into (visitor, artwork) -> latest tap, and the counts follow."""
    intern = sys.intern
    for visitor, artwork, tapped_us, seq, tap_id, choice in rows:
        key = (intern(visitor), intern(artwork))
        old = latest.get(key)
        if old is None:
            latest[key] = (tapped_us, seq, tap_id, intern(choice))
            tallies[(key[1], choice)] += 1
        elif (tapped_us, seq, tap_id) > old[:3]:
            latest[key] = (tapped_us, seq, tap_id, intern(choice))
            if old[3] != choice:
                tallies[(key[1], old[3])] -= 1
                tallies[(key[1], choice)] += 1


class _Views:
    """Every view of this process, least recently used first; thread-safe."""

    def __init__(self) -> None:
        self._views: OrderedDict[tuple[_Database, str, int], _View] = OrderedDict()
        self._locks: dict[tuple[_Database, str], threading.Lock] = {}
        self._lock = threading.Lock()
        self._serial = 0

    def lock(self, database: _Database, festival_id: str) -> threading.Lock:
        """The lock of one festival's views: one read moves them at a time."""
        with self._lock:
            return self._locks.setdefault((database, festival_id), threading.Lock())

    def usable(
        self, database: _Database, festival_id: str, marks: counts.TapMarks, at: int
    ) -> _View | None:
        """The festival's view with the largest watermark at or before ``at`` that the
        stored taps still agree with; views they no longer agree with are dropped."""
        with self._lock:
            best: tuple[tuple[_Database, str, int], _View] | None = None
            for key, view in list(self._views.items()):
                if key[:2] != (database, festival_id):
                    continue
                if view.revision != marks.revision or view.last_tap > marks.last_tap:
                    del self._views[key]
                elif view.watermark <= at and (best is None or view.watermark > best[1].watermark):
                    best = (key, view)
            if best is None:
                return None
            self._views.move_to_end(best[0])
            return best[1]

    def add(self, database: _Database, festival_id: str, view: _View) -> None:
        """Keep a new view, dropping the least recently used beyond :data:`MAX_VIEWS`."""
        with self._lock:
            self._serial += 1
            self._views[(database, festival_id, self._serial)] = view
            while len(self._views) > MAX_VIEWS:
                self._views.popitem(last=False)

    def drop(self, view: _View) -> None:
        """Forget one view."""
        with self._lock:
            for key, kept in list(self._views.items()):
                if kept is view:
                    del self._views[key]

    def clear(self) -> None:
        """Forget every view."""
        with self._lock:
            self._views.clear()


_VIEWS = _Views()


def _database(db: Database) -> _Database | None:
    """The database file (path, device, inode), or None for one without a file."""
    for _, name, path in db.conn.execute("PRAGMA database_list"):
        if name == "main" and path:
            try:
                found = os.stat(path)
            except OSError:
                return None
            return (path, found.st_dev, found.st_ino)
    return None


def counts_as_of(db: Database, festival_id: str, as_of: datetime) -> DelayedCounts:
    """The festival's counts as they stood at ``as_of``: exactly the recount of the stored
    taps (:func:`hub.counts.artwork_counts_as_of`), mostly from a kept view."""
    database = _database(db)
    if database is None or db.conn.in_transaction:
        return _recount(db, festival_id, as_of)
    at = micros(as_of)
    with _VIEWS.lock(database, festival_id):
        db.conn.execute("BEGIN")  # one snapshot for the marks and the taps
        try:
            marks = counts.tap_marks(db, festival_id)
            while True:
                view = _VIEWS.usable(database, festival_id, marks, at)
                if view is None or _still_holds(db, view):
                    break
                _VIEWS.drop(view)
            if view is None:
                view = _build(db, festival_id, marks, at - LAG_US)
                _VIEWS.add(database, festival_id, view)
            try:
                return _read(db, festival_id, view, marks, at)
            except BaseException:
                _VIEWS.drop(view)  # it may be half moved on
                raise
        finally:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")


def _still_holds(db: Database, view: _View) -> bool:
    """Whether the view's newest tap is still stored under its number: tap numbers are
    reused only after the highest numbered tap is removed (in any festival), and a tap
    stored under a reused number would be missed."""
    if not view.last_tap:
        return True
    return counts.tap_id(db, view.last_tap) == view.last_tap_id


def _build(db: Database, festival_id: str, marks: counts.TapMarks, watermark: int) -> _View:
    view = _View(marks.revision, watermark, marks.last_tap, marks.last_tap_id)
    _apply(view.latest, view.counts, counts.taps_up_to(db, festival_id, watermark))
    view.visitors.update(visitor for visitor, _ in view.latest)
    return view


def _read(
    db: Database, festival_id: str, view: _View, marks: counts.TapMarks, at: int
) -> DelayedCounts:
    """Move ``view`` on to ``at`` - LAG_US and count at ``at``."""
    rows = counts.taps_since(db, festival_id, view.last_tap, view.watermark, at)
    watermark = max(view.watermark, at - LAG_US)
    settled = [row for row in rows if row[2] <= watermark]
    _apply(view.latest, view.counts, settled)
    view.visitors.update(sys.intern(row[0]) for row in settled)
    view.watermark, view.last_tap, view.last_tap_id = watermark, marks.last_tap, marks.last_tap_id
    recent = [row for row in rows if row[2] > watermark]
    tallies = view.counts
    visitors = len(view.visitors)
    if recent:
        tallies = view.counts.copy()
        _apply(ChainMap({}, view.latest), tallies, recent)
        visitors += len({row[0] for row in recent} - view.visitors)
    return DelayedCounts(
        sorted((artwork, choice, n) for (artwork, choice), n in tallies.items() if n > 0),
        visitors,
    )


def _recount(db: Database, festival_id: str, as_of: datetime) -> DelayedCounts:
    return DelayedCounts(
        list(counts.artwork_counts_as_of(db, festival_id, as_of)),
        counts.festival_visitors_as_of(db, festival_id, as_of),
    )


def forget() -> None:
    """Forget every kept view (the next reads rebuild them from the taps)."""
    _VIEWS.clear()
