"""Audience boards, computed once and served to many.

A board changes only when something is committed (an opinion, an erasure, a policy
version) or as the clock moves (delays, validity windows). So a board is kept until the
database reports a commit by anyone (``PRAGMA data_version``, see
:meth:`BoardCache._data_version`) or until it is ``max_age`` seconds old, whichever
comes first (then it is served a little longer, only while one request computes its
successor). Only ``display`` boards are kept: ``analyse`` and ``export`` reads are logged
one by one and never cached.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from dashboard.database import connect


@dataclass(frozen=True)
class CachedBoard:
    """A board as a JSON-ready dict and as its encoded JSON body."""

    body: dict[str, Any]
    json: bytes


@dataclass
class _Entry:
    version: int
    at: float
    board: CachedBoard


#: Connections that requests use to learn whether anything was committed.
PROBES = 4


@dataclass
class _Probe:
    lock: threading.Lock = field(default_factory=threading.Lock)
    db: Database | None = None
    seen: int | None = None


class BoardCache:
    """Boards by board id, valid until the next commit or ``max_age`` seconds."""

    def __init__(self, db_path: Path | str, max_age: float) -> None:
        self.db_path = db_path
        self.max_age = max_age
        self._watch: Database | None = None
        self._watch_lock = threading.Lock()
        self._watch_seen: int | None = None
        self._generation = 0
        self._probes = [_Probe() for _ in range(PROBES)]
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def _data_version(self) -> int:
        """A generation number that changes after every commit by any connection: a board
        tagged with the number current when its computation began is fresh while the
        number stays the same."""
        # Each request asks one of a few probe connections (whichever is free), so that
        # requests do not queue for one. A probe's data_version changes when anyone has
        # committed since that probe last looked; only then is the shared watching
        # connection asked, and the generation moves on once per commit it sees, however
        # many probes noticed the same commit.
        probe = next((p for p in self._probes if p.lock.acquire(blocking=False)), None)
        if probe is None:
            probe = self._probes[threading.get_ident() % len(self._probes)]
            probe.lock.acquire()
        try:
            if probe.db is None:
                probe.db = connect(self.db_path)
            version = int(probe.db.conn.execute("PRAGMA data_version").fetchone()[0])
            if version == probe.seen:
                return self._generation
            with self._watch_lock:
                if self._watch is None:
                    self._watch = connect(self.db_path)
                watched = int(self._watch.execute("PRAGMA data_version").fetchone()[0])
                if watched != self._watch_seen:
                    self._watch_seen = watched
                    self._generation += 1
                # Only now: had the watcher failed, the probe would look again next time.
                probe.seen = version
                return self._generation
        finally:
            probe.lock.release()

    def generation(self) -> int:
        """A number that changes after every commit to the database by anyone."""
        return self._data_version()

    def _lock_for(self, board_id: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(board_id, threading.Lock())

    def _fresh(self, board_id: str, version: int) -> CachedBoard | None:
        entry = self._entries.get(board_id)
        if entry and entry.version == version and time.monotonic() - entry.at < self.max_age:
            return entry.board
        return None

    def get(self, board_id: str, compute: Callable[[], dict[str, Any]]) -> CachedBoard:
        """The board, from the cache or computed by ``compute`` (once, however many
        requests ask at the same moment).

        After a commit everyone waits for the new board. When only the clock moved, one
        request recomputes while the others still get the board of a moment ago.
        """
        if self.max_age <= 0:
            body = compute()
            return CachedBoard(body, _encode(body))
        version = self._data_version()
        found = self._fresh(board_id, version)
        if found is not None:
            return found
        lock = self._lock_for(board_id)
        entry = self._entries.get(board_id)
        if entry is not None and entry.version == version:
            if not lock.acquire(blocking=False):
                return entry.board
        else:
            lock.acquire()
        try:
            found = self._fresh(board_id, version)
            if found is not None:
                return found
            started = time.monotonic()
            body = compute()
            board = CachedBoard(body, _encode(body))
            self._entries[board_id] = _Entry(version, started, board)
            return board
        finally:
            lock.release()

    def has(self, board_id: str) -> bool:
        """Whether a board with this id was computed (fresh or not)."""
        return board_id in self._entries

    def close(self) -> None:
        """Close the watching and probing connections."""
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
        for probe in self._probes:
            with probe.lock:
                if probe.db is not None:
                    probe.db.close()
                    probe.db = None
                probe.seen = None


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
