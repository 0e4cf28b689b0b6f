"""The durable outbox: every tap is committed here, with its ``seq``, before anything else.

One SQLite file in WAL mode. An append is one transaction with ``synchronous=FULL``: when
it returns, the message survives a crash or a power cut. Messages leave the outbox only
when the broker has acknowledged them. ``seq`` comes from a counter in the same file, so it
keeps increasing across restarts, whatever has been deleted.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from protocol import create_private

log = logging.getLogger(__name__)

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counter (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO counter (name, value) VALUES ('next_seq', 0);
"""


class OutboxFull(RuntimeError):
    """The outbox holds as many messages as it may; the tap is refused, nothing is lost."""


class OutboxError(RuntimeError):
    """The outbox file cannot be opened or written."""


@dataclass(frozen=True)
class Pending:
    """A message waiting in the outbox."""

    seq: int
    topic: str
    payload: bytes


class Outbox:
    """A bounded, durable queue of signed messages in publication order.

    Thread-safe: reader loops append, the publisher reads and deletes.
    """

    def __init__(self, path: Path, limit: int = 100_000) -> None:
        self.path = path
        self.limit = limit
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            create_private(path)  # pending taps: pseudonyms, signed
            self._db = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=10
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit waits until the write-ahead log is on the disk.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._count = int(self._db.execute("SELECT count(*) FROM messages").fetchone()[0])
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot open the outbox {path}: {exc}") from None

    def __len__(self) -> int:
        return self._count

    @property
    def full(self) -> bool:
        return self._count >= self.limit

    def append(self, topic: str, build: Callable[[int], bytes]) -> int:
        """Give the next ``seq`` to ``build``, store its payload durably, return the seq.

        ``build`` makes the signed payload for that seq; if it raises, nothing is stored
        and the seq is not used up. Raises OutboxFull when the outbox is at its limit.
        """
        with self._lock:
            if self._count >= self.limit:
                raise OutboxFull(f"the outbox holds {self._count} messages, its limit")
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    (seq,) = db.execute(
                        "SELECT value FROM counter WHERE name = 'next_seq'"
                    ).fetchone()
                    payload = build(seq)
                    db.execute(
                        "INSERT INTO messages (seq, topic, payload) VALUES (?, ?, ?)",
                        (seq, topic, payload),
                    )
                    db.execute("UPDATE counter SET value = ? WHERE name = 'next_seq'", (seq + 1,))
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise OutboxError(f"cannot write the outbox {self.path}: {exc}") from None
            self._count += 1
            return int(seq)

    def pending(self, after: int = -1, limit: int = 100) -> list[Pending]:
        """Up to ``limit`` messages with a seq above ``after``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, payload FROM messages WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
        return [Pending(int(seq), topic, bytes(payload)) for seq, topic, payload in rows]

    def delete(self, seqs: Iterable[int]) -> None:
        """Remove acknowledged messages."""
        batch = [(seq,) for seq in seqs]
        if not batch:
            return
        with self._lock:
            # A delete lost in a power cut only means a message is sent again, and the hub
            # stores an id once: no need to wait for the disk here.
            self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                cursor = self._db.executemany("DELETE FROM messages WHERE seq = ?", batch)
                self._db.execute("COMMIT")
            finally:
                self._db.execute("PRAGMA synchronous=FULL")
            self._count -= cursor.rowcount if cursor.rowcount >= 0 else len(batch)

    def next_seq(self) -> int:
        """The seq the next message will get."""
        with self._lock:
            (value,) = self._db.execute(
                "SELECT value FROM counter WHERE name = 'next_seq'"
            ).fetchone()
        return int(value)

    def close(self) -> None:
        with self._lock:
            self._db.close()
