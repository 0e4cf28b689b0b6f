"""Audience boards, computed once and served to many.

A board changes only when something is committed (an opinion, an erasure, a policy
version) or as the clock moves (delays, validity windows). So a board is kept until the
database reports a commit by anyone (``PRAGMA data_version`` on one watching connection)
or until it is ``max_age`` seconds old, whichever comes first (then it is served a little
longer, only while one request computes its successor). Only ``display`` boards are
kept: ``analyse`` and ``export`` reads are logged one by one and never cached.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
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


class BoardCache:
    """Boards by board id, valid until the next commit or ``max_age`` seconds."""

    def __init__(self, db_path: Path | str, max_age: float) -> None:
        self.db_path = db_path
        self.max_age = max_age
        self._watch: Database | None = None
        self._watch_lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def _data_version(self) -> int:
        # data_version is per connection, so every request asks the same one.
        with self._watch_lock:
            if self._watch is None:
                self._watch = connect(self.db_path)
            return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

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
        """Close the watching connection."""
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
