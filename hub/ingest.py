"""The ingest service: subscribe, validate, verify, deduplicate and store, losing nothing.

paho's network thread only puts each message on a queue. One writer (the thread that calls
:meth:`Hub.run`) takes every message waiting, decides for each (see :mod:`hub.validate`),
writes the batch in one transaction and only then acknowledges the messages to the broker
(``manual_ack``). A crash at any instant therefore leaves every unacknowledged message with
the broker, which delivers it again (persistent session, QoS 1); a message delivered again
after its batch was committed is recognised by its id and changes nothing.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode
from sqlite_utils import Database

from hub import metrics, store
from hub.lifecycle import apply_retention
from hub.migrations import MIGRATIONS
from hub.validate import Received, RegistryView, classify
from protocol import Rejected, parse_topic
from protocol.broker import BrokerURL
from protocol.mqtt import is_auth_failure, make_client
from protocol.topics import HUB_SUBSCRIPTION

log = logging.getLogger("tapshare.hub")

#: Most messages written in one transaction.
MAX_BATCH: Final = 2000
#: How often the hub logs a summary of what it did.
SUMMARY_INTERVAL_SECONDS: Final = 60.0
#: How often the hub removes taps older than their festival's retention (and at start).
RETENTION_INTERVAL_SECONDS: Final = 300.0
_RETRY_MIN, _RETRY_MAX = 0.1, 5.0


class BrokerAuthError(RuntimeError):
    """The broker refused the hub's username or password; retrying cannot help."""


@dataclass(frozen=True)
class _Delivery:
    received: Received
    mid: int
    qos: int
    # Which connection brought the message: acknowledgements only go back on it.
    connection: int


def open_database(path: Path | str, synchronous: str = "FULL") -> Database:
    """The hub's connection: WAL, a busy timeout, and (by default) a sync on each commit,
    so that what the broker is told is stored survives a power cut too."""
    if synchronous not in ("OFF", "NORMAL", "FULL"):
        raise ValueError("synchronous is OFF, NORMAL or FULL")
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
    db = Database(conn)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    return db


class Hub:
    """The ingest service for one database and one broker.

    ``run()`` blocks until ``stop()`` is called (from another thread or a signal handler)
    and raises :class:`BrokerAuthError` when the broker refuses the credentials.
    ``on_commit``, if given, is called in the writer thread after each committed batch with
    the batch's outcome and the items written.
    """

    def __init__(
        self,
        db_path: Path | str,
        broker_url: BrokerURL,
        client_id: str = "tapshare-hub",
        *,
        ca_file: Path | None = None,
        max_batch: int = MAX_BATCH,
        synchronous: str = "FULL",
        on_commit: Callable[[store.BatchOutcome, Sequence[store.StoreItem]], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        retention_interval: float = RETENTION_INTERVAL_SECONDS,
    ) -> None:
        self.db_path = Path(db_path)
        self.broker_url = broker_url
        self.client_id = client_id
        self.ca_file = ca_file
        self.max_batch = max_batch
        self.synchronous = synchronous
        self.on_commit = on_commit
        self.clock = clock
        self.retention_interval = retention_interval
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._stopping = threading.Event()
        self._queue: queue.SimpleQueue[_Delivery | None] = queue.SimpleQueue()
        self._connection = 0
        self._connection_lock = threading.Lock()
        self._auth_error: str | None = None
        self._pending = metrics.new_counters()
        self._totals: Counter[str] = Counter()
        self._client: mqtt.Client | None = None

    # -- paho callbacks (network thread) ---------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        with self._connection_lock:
            self._connection += 1
        if reason.is_failure:
            if is_auth_failure(reason):
                self._auth_error = (
                    f"the broker at {self.broker_url.redacted()} refused the hub's "
                    f"credentials ({reason}); check the username and password in --broker"
                )
                log.error("%s", self._auth_error)
                self.stop()
            else:
                log.warning("broker refused the connection: %s; retrying", reason)
            return
        # Subscribing on every connect restores the subscription whatever the broker kept.
        client.subscribe(HUB_SUBSCRIPTION, qos=1)
        self.connected.set()
        log.info(
            "connected to %s (session present: %s)",
            self.broker_url.redacted(),
            getattr(flags, "session_present", "?"),
        )

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any
    ) -> None:
        # The broker keeps messages for the hub's session from this moment on.
        self.subscribed.set()
        log.info("subscribed to %s", HUB_SUBSCRIPTION)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        with self._connection_lock:
            self._connection += 1
        self.connected.clear()
        self.subscribed.clear()
        if not self._stopping.is_set():
            log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        received = Received(
            topic=message.topic,
            payload=bytes(message.payload),
            received_at=self.clock(),
            retained=bool(message.retain),
        )
        self._queue.put(_Delivery(received, message.mid, message.qos, self._connection))

    # -- the writer -------------------------------------------------------------------------

    def run(self) -> None:
        """Connect, then store messages until :meth:`stop`; raise BrokerAuthError when the
        broker refuses the credentials."""
        db = open_database(self.db_path, self.synchronous)
        try:
            MIGRATIONS.apply(db)
            client = make_client(
                self.broker_url, self.client_id, persistent=True, ca_file=self.ca_file,
                manual_ack=True,
            )  # fmt: skip
            self._client = client
            client.on_connect = self._on_connect
            client.on_disconnect = self._on_disconnect
            client.on_message = self._on_message
            client.on_subscribe = self._on_subscribe
            client.connect_async(self.broker_url.host, self.broker_url.port, keepalive=30)
            client.loop_start()
            log.info(
                "hub started: database %s, broker %s", self.db_path, self.broker_url.redacted()
            )
            try:
                self._write_loop(db)
            finally:
                client.disconnect()
                client.loop_stop()
                self._flush_pending(db)
        finally:
            db.close()
        if self._auth_error is not None:
            raise BrokerAuthError(self._auth_error)
        log.info("hub stopped: %s", self._summary())

    def stop(self) -> None:
        """Ask :meth:`run` to return after the batch in hand (safe from any thread and from
        signal handlers). Messages not yet committed stay with the broker."""
        self._stopping.set()
        self._queue.put(None)

    def _retention(self, db: Database) -> None:
        # In the writer thread, between batches: it never competes with ingest for the lock.
        try:
            for item in apply_retention(db, self.clock()):
                if item.taps:
                    log.info(
                        "retention: festival %s: removed %d taps tapped before %s",
                        item.festival, item.taps, item.cutoff,
                    )  # fmt: skip
        except sqlite3.Error as exc:
            log.error("retention failed (%s); trying again in %.0f s", exc,
                      self.retention_interval)  # fmt: skip

    def _write_loop(self, db: Database) -> None:
        last_summary = time.monotonic()
        self._retention(db)
        last_retention = time.monotonic()
        while not self._stopping.is_set():
            try:
                first = self._queue.get(timeout=1.0)
            except queue.Empty:
                first = None
            if first is not None:
                batch = [first]
                while len(batch) < self.max_batch:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        break
                    batch.append(more)
                self._write(db, batch)
            if time.monotonic() - last_summary >= SUMMARY_INTERVAL_SECONDS:
                last_summary = time.monotonic()
                log.info("so far: %s", self._summary())
            if time.monotonic() - last_retention >= self.retention_interval:
                last_retention = time.monotonic()
                self._retention(db)

    def _write(self, db: Database, batch: list[_Delivery]) -> None:
        counters = self._pending
        registry = RegistryView(db)
        now = self.clock()
        items = []
        for delivery in batch:
            try:
                item = classify(registry, delivery.received, now)
            except Exception as exc:  # a bug must not stop the service: keep the message
                log.exception("could not process a message on %r", delivery.received.topic)
                item = store.StoreRejection(
                    delivery.received.topic, "bad_value", f"could not be processed: {exc!r}",
                    delivery.received.payload, delivery.received.received_at,
                )  # fmt: skip
            items.append(item)
            metrics.received(counters, _kind(delivery.received.topic))
        metrics.observe(counters, metrics.BATCH_SIZE, metrics.BATCH_SIZE_BUCKETS, len(batch))
        started = time.perf_counter()
        outcome = self._commit(db, items, counters)
        elapsed = time.perf_counter() - started
        # The commit's own duration can only be written with the next batch.
        self._pending = metrics.new_counters()
        metrics.observe(
            self._pending, metrics.COMMIT_SECONDS, metrics.COMMIT_SECONDS_BUCKETS, elapsed
        )
        self._acknowledge(batch)
        self._count(outcome, len(batch))
        if self.on_commit is not None:
            try:
                self.on_commit(outcome, items)
            except Exception:
                log.exception("on_commit callback failed")

    def _commit(
        self, db: Database, items: list[store.StoreItem], counters: metrics.Counters
    ) -> store.BatchOutcome:
        delay = _RETRY_MIN
        failures = 0
        while True:
            try:
                outcome = store.write_batch(db, items, counters, metrics.outcome)
            except sqlite3.Error as exc:
                # Disk full, database locked for too long, ...: nothing was written and
                # nothing acknowledged, so trying again later loses nothing. The broker
                # sends no more than its in-flight window meanwhile.
                failures += 1
                self._pending[(metrics.COMMIT_FAILURES, metrics.NO_LABELS)] += 1
                if _is_disk_full(exc):
                    log.error(
                        "the database's disk is full (%s): holding a batch of %d messages "
                        "unacknowledged, the broker keeps them; free space on the disk of %s; "
                        "retrying in %.1f s", exc, len(items), self.db_path, delay,
                    )  # fmt: skip
                else:
                    log.error("could not write a batch of %d (%s); retrying in %.1f s",
                              len(items), exc, delay)  # fmt: skip
                if self._stopping.wait(delay):
                    raise
                delay = min(delay * 2, _RETRY_MAX)
                continue
            if failures:
                log.warning("the batch of %d is written after %d failed attempts; resuming",
                            len(items), failures)  # fmt: skip
            return outcome

    def _acknowledge(self, batch: list[_Delivery]) -> None:
        client = self._client
        assert client is not None
        with self._connection_lock:
            for delivery in batch:
                # A message of an earlier connection is delivered again on this one (the
                # session keeps it); its old packet id may mean another message by now.
                if delivery.connection == self._connection and delivery.qos > 0:
                    client.ack(delivery.mid, delivery.qos)

    def _count(self, outcome: store.BatchOutcome, size: int) -> None:
        self._totals["received"] += size
        self._totals["stored"] += outcome.stored
        self._totals["duplicates"] += outcome.duplicates
        self._totals["rejected"] += sum(outcome.rejected.values())
        self._totals["erasures"] += outcome.erasures

    def _summary(self) -> str:
        t = self._totals
        return (
            f"{t['received']} received, {t['stored']} opinions stored, "
            f"{t['duplicates']} duplicates, {t['rejected']} rejected, {t['erasures']} erasures"
        )

    def _flush_pending(self, db: Database) -> None:
        if not self._pending:
            return
        try:
            with store.immediate(db):
                store.add_counters(db, self._pending)
            self._pending = metrics.new_counters()
        except sqlite3.Error as exc:
            log.warning("could not write the last counters: %s", exc)


def _is_disk_full(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_FULL or "disk is full" in str(exc)


def _kind(topic: str) -> str:
    try:
        return parse_topic(topic).kind.value
    except Rejected:
        return "other"
