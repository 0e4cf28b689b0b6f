"""The hub's writer process: validate, verify, deduplicate and store what the hub received.

Validation and SQLite cost about as much CPU per message as receiving it with paho does,
so they run in a process of their own, beside the one that owns the MQTT connection (see
:mod:`hub.ingest`). The hub sends chunks of received messages through a pipe, in order;
the writer writes them in batches of up to ``max_batch``, one transaction each, and after
each commit answers how many of the oldest outstanding messages it committed. Only then
does the hub acknowledge them to the broker. Nothing the writer has not committed is ever
acknowledged, so whatever becomes of either process loses nothing.

Pipe traffic: the hub sends chunks of :data:`Frame` and finally ``None`` (stop after the
batch in hand). The writer answers :class:`Ready` once it has opened the database (the hub
connects to the broker only then), :class:`Committed` after each commit, :class:`LogLine`
for each log line (the hub logs it), and :class:`Stopped` last.
"""

from __future__ import annotations

import gc
import logging
import os
import resource
import signal
import sqlite3
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Final, NamedTuple

from sqlite_utils import Database

import storage
from hub import counter_store, metrics, write_path
from hub.erasure import Markers
from hub.lifecycle import apply_retention
from hub.validate import Received, RegistryView, classify
from protocol import Rejected, parse_topic
from storage import connect

log = logging.getLogger("tapshare.hub")

#: A message as it crosses the pipe: (topic, payload, received at in seconds since the
#: epoch, retained, QoS). A plain tuple: it pickles several times faster than a named one
#: or a :class:`Received` (whose time is a datetime), and the writer reads it in one place.
Frame = tuple[str, bytes, float, bool, int]


def received(frame: Frame) -> Received:
    """The message a frame carries."""
    topic, payload, at, retained, qos = frame
    return Received(topic, payload, datetime.fromtimestamp(at, UTC), retained, qos)


class Delivery(NamedTuple):
    """A message the hub received and has not acknowledged yet."""

    frame: Frame
    #: The packet id it came with, to acknowledge it.
    mid: int
    #: Which of the hub's connections brought it (a packet id means nothing on another).
    connection: int

    @property
    def qos(self) -> int:
        """The QoS it came at."""
        return self.frame[4]


@dataclass(frozen=True, slots=True)
class Ready:
    """The writer has opened the database; the CPU time it has used so far."""

    cpu_seconds: float


@dataclass(frozen=True, slots=True)
class Committed:
    """The oldest ``count`` outstanding messages are committed."""

    count: int
    outcome: write_path.BatchOutcome
    #: The writer's CPU time used so far (user and system, from ``getrusage``).
    cpu_seconds: float


@dataclass(frozen=True, slots=True)
class LogLine:
    """A line for the hub's log."""

    level: int
    text: str


@dataclass(frozen=True, slots=True)
class Stopped:
    """The writer has finished; nothing more comes."""


Answer = Ready | Committed | LogLine | Stopped
#: How the writer opens the database: called in the writer process with the path and the
#: ``synchronous`` setting. A module-level function, so that it can be named to a process.
Opener = Callable[[Path, str], Database]

_RETRY_MIN, _RETRY_MAX = 0.1, 5.0
#: How long the writer waits for messages before it looks at its schedule again.
_IDLE_SECONDS: Final = 1.0


@dataclass(frozen=True)
class WriterSettings:
    """What the writer process needs to know (sent to it when it starts)."""

    db_path: Path
    synchronous: str
    max_batch: int
    retention_interval: float
    opener: Opener = connect


class _Stopped(Exception):
    """The hub asked the writer to stop while it held a batch it could not write."""


class _ToHub(logging.Handler):
    """Hands the writer's log lines to the hub, which logs them as its own."""

    def __init__(self, conn: Connection) -> None:
        super().__init__()
        self.conn = conn

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            self.conn.send(LogLine(record.levelno, text))
        except Exception:  # the hub is gone: the next receive ends the writer
            pass


#: Allocations between two of the garbage collector's youngest collections in the writer
#: process (Python's default is 700).
GC_YOUNG_THRESHOLD: Final = 50_000


def fewer_collections() -> None:
    """Let the garbage collector run less often in the writer process.

    Messages make no reference cycles, yet every few hundred objects they allocate start a
    collection, which walks the thousands of messages held meanwhile, and every tenth of
    those the objects of the whole process. What exists once the process is set up is set
    aside (``gc.freeze``), and the youngest generation collected every
    :data:`GC_YOUNG_THRESHOLD` allocations.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def serve(conn: Connection, settings: WriterSettings) -> None:
    """The writer process's body: write what arrives until the hub says stop or goes."""
    # Ctrl-C reaches the whole process group, and a service manager's SIGTERM often every
    # process of the service: the hub decides when its writer stops (or its end does).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    log.handlers[:] = [_ToHub(conn)]
    log.setLevel(logging.INFO)
    log.propagate = False
    writer = _Writer(conn, settings)
    try:
        writer.run()
    except (EOFError, OSError):
        return  # the hub has gone; nothing uncommitted was acknowledged
    conn.send(Stopped())


class _Writer:
    def __init__(self, conn: Connection, settings: WriterSettings) -> None:
        self.conn = conn
        self.settings = settings
        # Filled by a thread of its own (_take), so that the hub's chunks keep coming while
        # a batch is written: otherwise the pipe holds only what its buffer takes, and the
        # next batch is no larger.
        self.inbox: deque[Frame] = deque()
        self.arrived = threading.Event()
        self.stopping = False
        #: Why the pipe ended, when the hub has gone.
        self.gone: BaseException | None = None
        self.pending = metrics.new_counters()
        self.parent = os.getppid()
        #: Every erasure marker, kept current by each batch (the writer alone erases).
        self.markers: Markers | None = None

    def run(self) -> None:
        db = self.settings.opener(self.settings.db_path, self.settings.synchronous)
        self.markers = write_path.load_markers(db)
        fewer_collections()
        self.conn.send(Ready(_cpu_seconds()))
        threading.Thread(target=self._take, name="writer-inbox", daemon=True).start()
        try:
            self._retention(db)
            last_retention = time.monotonic()
            while not self.stopping:
                self._receive(_IDLE_SECONDS)
                if self.inbox:
                    size = min(len(self.inbox), self.settings.max_batch)
                    batch = [self.inbox.popleft() for _ in range(size)]
                    try:
                        self._write(db, batch)
                    except _Stopped:
                        break
                if time.monotonic() - last_retention >= self.settings.retention_interval:
                    last_retention = time.monotonic()
                    self._retention(db)
            self._flush_pending(db)
        finally:
            db.close()

    def _take(self) -> None:
        """Take in the hub's chunks as they come (a thread of its own)."""
        try:
            while (chunk := self.conn.recv()) is not None:
                self.inbox.extend(chunk)
                self.arrived.set()
            self.stopping = True
        except (EOFError, OSError) as exc:
            self.gone = exc
        self.arrived.set()

    def _receive(self, timeout: float) -> None:
        """Wait up to ``timeout`` for messages when none wait; raise EOFError when the hub
        has gone."""
        if not self.inbox and not self.stopping and self.gone is None:
            self._wait_for_chunks(timeout)
        else:
            self._wait_for_chunks(0)

    def _wait_for_chunks(self, timeout: float) -> None:
        """Wait up to ``timeout`` for the inbox thread; raise EOFError when the hub has gone."""
        if timeout > 0:
            self.arrived.wait(timeout)
        # Cleared before the inbox is looked at: what arrives after this sets it again.
        self.arrived.clear()
        if self.gone is not None:
            raise EOFError("the hub has gone") from self.gone

    def _retention(self, db: Database) -> None:
        # Between batches: it never competes with ingest for the lock.
        try:
            for item in apply_retention(db, datetime.now(UTC)):
                if item.taps:
                    log.info(
                        "retention: festival %s: removed %d taps tapped before %s",
                        item.festival, item.taps, item.cutoff,
                    )  # fmt: skip
        except sqlite3.Error as exc:
            log.error("retention failed (%s); trying again in %.0f s", exc,
                      self.settings.retention_interval)  # fmt: skip

    def _write(self, db: Database, batch: list[Frame]) -> None:
        counters = self.pending
        registry = RegistryView(db)
        now = datetime.now(UTC)
        items = []
        topics: Counter[str] = Counter()
        for frame in batch:
            message = received(frame)
            try:
                item = classify(registry, message, now)
            except Exception as exc:  # a bug must not stop the service: keep the message
                log.exception("could not process a message on %r", message.topic)
                detail = f"could not be processed: {exc!r}"
                item = write_path.StoreRejection(
                    message.topic, "bad_value", detail, message.payload, message.received_at
                )
            items.append(item)
            topics[message.topic] += 1
        kinds: Counter[str] = Counter()
        for topic, n in topics.items():
            kinds[_kind(topic)] += n
        for kind, n in kinds.items():
            metrics.received(counters, kind, n)
        metrics.observe(counters, metrics.BATCH_SIZE, metrics.BATCH_SIZE_BUCKETS, len(batch))
        started = time.perf_counter()
        outcome = self._commit(db, items, counters)
        elapsed = time.perf_counter() - started
        # The commit's own duration can only be written with the next batch.
        self.pending = metrics.new_counters()
        metrics.observe(
            self.pending, metrics.COMMIT_SECONDS, metrics.COMMIT_SECONDS_BUCKETS, elapsed
        )
        self.conn.send(Committed(len(batch), outcome, _cpu_seconds()))

    def _commit(
        self, db: Database, items: list[write_path.StoreItem], counters: metrics.Counters
    ) -> write_path.BatchOutcome:
        delay = _RETRY_MIN
        failures = 0
        while True:
            try:
                outcome = write_path.write_batch(db, items, counters, metrics.outcome, self.markers)
            except sqlite3.Error as exc:
                # Disk full, database locked for too long, ...: nothing was written and
                # nothing acknowledged, so trying again later loses nothing. The broker
                # sends no more than its in-flight window meanwhile.
                failures += 1
                self.pending[(metrics.COMMIT_FAILURES, metrics.NO_LABELS)] += 1
                if _is_disk_full(exc):
                    log.error(
                        "the database's disk is full (%s): holding a batch of %d messages "
                        "unacknowledged, the broker keeps them; free space on the disk of %s; "
                        "retrying in %.1f s", exc, len(items), self.settings.db_path, delay,
                    )  # fmt: skip
                else:
                    log.error("could not write a batch of %d (%s); retrying in %.1f s",
                              len(items), exc, delay)  # fmt: skip
                self._wait(delay)
                delay = min(delay * 2, _RETRY_MAX)
                continue
            if failures:
                log.warning("the batch of %d is written after %d failed attempts; resuming",
                            len(items), failures)  # fmt: skip
            return outcome

    def _wait(self, delay: float) -> None:
        """Wait before another attempt, taking in what arrives; raise _Stopped when the hub
        says stop, EOFError when it has gone."""
        deadline = time.monotonic() + delay
        while (left := deadline - time.monotonic()) > 0:
            self._wait_for_chunks(left)
            if self.stopping:
                raise _Stopped
            if os.getppid() != self.parent:
                raise EOFError("the hub has gone")

    def _flush_pending(self, db: Database) -> None:
        if not self.pending:
            return
        try:
            with storage.immediate(db):
                counter_store.add_counters(db, self.pending)
            self.pending = metrics.new_counters()
        except sqlite3.Error as exc:
            log.warning("could not write the last counters: %s", exc)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _is_disk_full(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_FULL or "disk is full" in str(exc)


def _kind(topic: str) -> str:
    try:
        return parse_topic(topic).kind.value
    except Rejected:
        return "other"
