"""The hub's SQLite database as every part of tapshare uses it: one function prepares each
connection (:func:`connect`), one tool makes a write transaction (:func:`immediate`), and
one format writes a time (:func:`now_text`; :func:`micros` where times are ordered as
integers).

Imported by the hub, the consent layer and the dashboard; imports nothing of ours but
:mod:`protocol`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, TypeVar

from sqlite_utils import Database

from protocol import create_private, format_timestamp, parse_timestamp

__all__ = [
    "BUSY_TIMEOUT",
    "SYNCHRONOUS",
    "connect",
    "from_row",
    "immediate",
    "micros",
    "now_text",
    "rewrite_times",
    "write_one",
]

#: How long a statement waits for another connection's write lock, in seconds.
BUSY_TIMEOUT: Final = 30.0
#: The ``synchronous`` levels a connection may take.
SYNCHRONOUS: Final = ("OFF", "NORMAL", "FULL")

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_T = TypeVar("_T")


def connect(path: Path | str, synchronous: str = "NORMAL") -> Database:
    """A connection to the database at ``path``, for any thread: WAL, foreign keys, a busy
    timeout and rows readable by column name (``sqlite3.Row``). A new database file is
    created readable by its owner only; ``":memory:"`` is a fresh database in memory.

    ``synchronous``: NORMAL (in WAL mode a commit survives a crash of the process without
    waiting for the disk; a power cut may lose the last ones, never corrupt) or FULL (a
    sync on each commit, for the hub's writer, which tells the broker what is stored).
    """
    if synchronous not in SYNCHRONOUS:
        raise ValueError("synchronous is OFF, NORMAL or FULL")
    if str(path) != ":memory:":
        create_private(path)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    return Database(conn)


@contextlib.contextmanager
def immediate(db: Database) -> Iterator[Database]:
    """A write transaction that takes the write lock at once (waiting up to the busy
    timeout), so that it never fails half-way on a lock held by another writer.

    A deferred transaction that reads and then writes can fail at once, without waiting,
    when another connection committed in between (WAL mode); taking the lock first makes
    concurrent writers wait their turn instead. Inside a transaction already open (an outer
    ``immediate``, or a caller's own) it joins that one as a savepoint: it commits nothing,
    and an error undoes only its own part before it passes on.
    """
    conn = db.conn
    nested = conn.in_transaction
    conn.execute("SAVEPOINT immediate" if nested else "BEGIN IMMEDIATE")
    try:
        yield db
        conn.execute("RELEASE immediate" if nested else "COMMIT")
    except BaseException:
        # An error that ended the whole transaction (a RAISE(ROLLBACK) trigger) took the
        # savepoint with it; a commit that fails (the disk is full) can leave the
        # transaction open: end it, so that the next attempt starts afresh.
        if conn.in_transaction:
            conn.execute("ROLLBACK TO immediate" if nested else "ROLLBACK")
            if nested:
                conn.execute("RELEASE immediate")
        raise


def write_one(db: Database, sql: str, parameters: Sequence[object]) -> bool:
    """Run one statement that changes at most one row, in a transaction of its own (or the
    caller's); whether it changed one."""
    with immediate(db):
        return db.conn.execute(sql, parameters).rowcount == 1


def from_row(kind: type[_T], row: sqlite3.Row, **converted: object) -> _T:
    """The dataclass ``kind`` made from the row's columns named as its fields; ``converted``
    gives the fields whose stored form needs reading (JSON, a flag, bytes)."""
    values = {
        name: converted[name] if name in converted else row[name]
        for name in (field.name for field in dataclasses.fields(kind))  # type: ignore[arg-type]
    }
    return kind(**values)


def now_text(moment: datetime | None = None) -> str:
    """A time as the database holds it: RFC 3339 UTC, milliseconds, ``Z``
    (``2026-05-01T20:00:00.000Z``), the one format, so that times compare as text."""
    return format_timestamp(moment or datetime.now(UTC))


def micros(moment: datetime) -> int:
    """An aware datetime as whole microseconds since the epoch (exact, for ordering)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def rewrite_times(db: Database, table: str, columns: Iterable[str]) -> int:
    """Write every time in ``columns`` of ``table`` in the one format of :func:`now_text`
    (a step of a migration, for rows written in an older one: to the second, or with
    microseconds); return how many values changed. A value that is not an RFC 3339 UTC
    time is left as it is."""
    changed = 0
    for column in columns:
        rows = db.conn.execute(
            f"SELECT rowid, {column} FROM {table} WHERE {column} IS NOT NULL"
        ).fetchall()
        updates = []
        for rowid, text in rows:
            try:
                written = now_text(parse_timestamp(text))
            except (TypeError, ValueError):
                continue
            if written != text:
                updates.append((written, rowid))
        db.conn.executemany(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", updates)
        changed += len(updates)
    return changed
