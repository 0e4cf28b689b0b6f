"""Audience boards, computed once and served to many: pages, the JSON API and the open
event streams alike.

A board changes only when something is committed (an opinion, an erasure, a policy
version) or as the clock moves (delays, validity windows). So a board is kept until the
generation of :class:`dashboard.commits.CommitWatcher` moves on or until it is ``max_age``
seconds old, whichever comes first (then it is served a little longer, only while one
request computes its successor). Only ``display`` boards are kept: ``analyse`` and
``export`` reads are logged one by one and never cached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from dashboard.commits import CommitWatcher

T = TypeVar("T")


@dataclass
class _Entry(Generic[T]):
    generation: int
    at: float
    board: T


class BoardCache(Generic[T]):
    """Boards by board id, valid until the next commit or ``max_age`` seconds."""

    def __init__(self, commits: CommitWatcher, max_age: float) -> None:
        self.commits = commits
        self.max_age = max_age
        self._entries: dict[str, _Entry[T]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def _lock_for(self, board_id: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(board_id, threading.Lock())

    def _fresh(self, board_id: str, generation: int, since: float | None) -> T | None:
        entry = self._entries.get(board_id)
        if (
            entry
            and entry.generation == generation
            and time.monotonic() - entry.at < self.max_age
            and (since is None or entry.at >= since)
        ):
            return entry.board
        return None

    def get(self, board_id: str, compute: Callable[[], T], *, since: float | None = None) -> T:
        """The board, from the cache or computed by ``compute`` (once, however many ask
        at the same moment); given ``since`` (a :func:`time.monotonic` moment), a board
        whose computation began before it is not served (the clock crossed a moment that
        changes boards).

        After a commit everyone waits for the new board. When only the clock moved, one
        request recomputes while the others still get the board of a moment ago.
        """
        if self.max_age <= 0:
            return compute()
        generation = self.commits.generation()
        found = self._fresh(board_id, generation, since)
        if found is not None:
            return found
        lock = self._lock_for(board_id)
        entry = self._entries.get(board_id)
        if entry is not None and entry.generation == generation and since is None:
            if not lock.acquire(blocking=False):
                return entry.board
        else:
            lock.acquire()
        try:
            found = self._fresh(board_id, generation, since)
            if found is not None:
                return found
            started = time.monotonic()
            board = compute()
            self._entries[board_id] = _Entry(generation, started, board)
            return board
        finally:
            lock.release()

    def has(self, board_id: str) -> bool:
        """Whether a board with this id was computed (fresh or not)."""
        return board_id in self._entries
