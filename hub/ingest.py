"""The ingest service: subscribe, validate, verify, deduplicate and store, losing nothing.

Two processes share the work. This one owns the MQTT connection: paho's network thread
appends each message to a queue, and the thread that calls :meth:`Hub.run` sends what is
waiting, in chunks and in order, to the writer process (:mod:`hub.writer`), which decides
for each message (see :mod:`hub.validate`) and writes batches, one transaction each. After
each commit the writer answers how many of the oldest outstanding messages it committed,
and only then are they acknowledged to the broker (``manual_ack``), on the connection that
brought them. A crash of either process at any instant therefore leaves every
unacknowledged message with the broker, which delivers it again (persistent session,
QoS 1); a message delivered again after its batch was committed is recognised by its id
and changes nothing. If the writer process ends unexpectedly, :meth:`Hub.run` raises
:class:`WriterError` rather than carry on without it.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final, overload

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from hub import write_path, writer
from hub.migrations import MIGRATIONS
from hub.validate import Received
from hub.writer import (
    Committed,
    Delivery,
    LogLine,
    Opener,
    Ready,
    Stopped,
    WriterSettings,
    received,
)
from protocol.broker import BrokerURL
from protocol.mqtt import Client, is_auth_failure, make_client
from protocol.topics import HUB_SUBSCRIPTION
from storage import SYNCHRONOUS, connect

log = logging.getLogger("tapshare.hub")

__all__ = ["BrokerAuthError", "Hub", "WriterError"]

#: Most messages written in one transaction.
MAX_BATCH: Final = 4000
#: Most messages sent to the writer in one chunk.
MAX_CHUNK: Final = 500
#: Most messages received and not yet sent to the writer. When the queue is full, paho's
#: network thread waits for room and reads nothing more from the broker meanwhile, which
#: keeps QoS 1 messages (its in-flight window and queue); QoS 0 messages, which no window
#: limits, can therefore never pile up in the hub (docs/operator.md, "Running the hub").
MAX_QUEUED: Final = 10_000
#: Most messages sent to the writer and not yet committed (its batch and the next one).
MAX_OUTSTANDING: Final = 2 * MAX_BATCH
#: How often a network thread waiting for room looks whether the hub is stopping.
_PUT_WAIT_SECONDS: Final = 0.5
#: How often the hub logs a summary of what it did.
SUMMARY_INTERVAL_SECONDS: Final = 60.0
#: How often the hub removes taps older than their festival's retention (and at start).
RETENTION_INTERVAL_SECONDS: Final = 300.0
#: How long the hub waits for its writer to finish the batch in hand when stopping.
WRITER_STOP_SECONDS: Final = 60.0


class BrokerAuthError(RuntimeError):
    """The broker refused the hub's username or password; retrying cannot help."""


class WriterError(RuntimeError):
    """The writer process ended unexpectedly; what it had not committed stays with the
    broker, unacknowledged."""


class _Messages(Sequence[Received]):
    """A committed batch's messages, each made when it is asked for."""

    def __init__(self, batch: list[Delivery]) -> None:
        self._batch = batch

    def __len__(self) -> int:
        return len(self._batch)

    @overload
    def __getitem__(self, index: int) -> Received: ...
    @overload
    def __getitem__(self, index: slice) -> list[Received]: ...
    def __getitem__(self, index: int | slice) -> Received | list[Received]:
        if isinstance(index, slice):
            return [received(delivery.frame) for delivery in self._batch[index]]
        return received(self._batch[index].frame)


class Hub:
    """The ingest service for one database and one broker.

    ``run()`` blocks until ``stop()`` is called (from another thread or a signal handler),
    raises :class:`BrokerAuthError` when the broker refuses the credentials and
    :class:`WriterError` when the writer process ends unexpectedly. ``on_commit``, if
    given, is called in this process after each committed batch with the batch's outcome
    and the messages it committed, as received. ``opener`` opens the database in the
    writer process (a module-level function).
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
        on_commit: Callable[[write_path.BatchOutcome, Sequence[Received]], None] | None = None,
        retention_interval: float = RETENTION_INTERVAL_SECONDS,
        opener: Opener = connect,
    ) -> None:
        if synchronous not in SYNCHRONOUS:
            raise ValueError("synchronous is OFF, NORMAL or FULL")
        self.db_path = Path(db_path)
        self.broker_url = broker_url
        self.client_id = client_id
        self.ca_file = ca_file
        self.on_commit = on_commit
        self.settings = WriterSettings(
            self.db_path, synchronous, max_batch, retention_interval, opener
        )
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._stopping = threading.Event()
        # Received, not yet sent to the writer: paho's network thread appends, the thread
        # in run() takes from the left (a deque's ends are safe from two threads without a
        # lock). ``_arrived`` wakes that thread; ``_queue_room`` the network thread, when it
        # waits for room.
        self._queue: deque[Delivery] = deque()
        self._arrived = threading.Event()
        self._queue_room = threading.Condition()
        # Sent to the writer, not yet committed: oldest first, as the writer answers.
        self._outstanding: deque[Delivery] = deque()
        self._room = threading.Condition()
        self._connection = 0
        self._connection_lock = threading.Lock()
        self._auth_error: str | None = None
        self._writer_error: str | None = None
        self._totals: Counter[str] = Counter()
        self._client: Client | None = None
        self._writer: multiprocessing.process.BaseProcess | None = None
        self._writer_ready = threading.Event()
        # The writer's CPU seconds when it was ready and at its last commit.
        self._writer_cpu_ready = self._writer_cpu_last = 0.0

    @property
    def writer_pid(self) -> int | None:
        """The writer process's id while it runs."""
        return self._writer.pid if self._writer is not None else None

    @property
    def writer_cpu_seconds(self) -> float:
        """CPU time the writer process used from when it was ready to its last commit."""
        return self._writer_cpu_last - self._writer_cpu_ready

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
        frame = (
            message.topic,
            bytes(message.payload),
            time.time(),
            bool(message.retain),
            message.qos,
        )
        waiting = self._queue
        if len(waiting) >= MAX_QUEUED:
            with self._queue_room:
                while len(waiting) >= MAX_QUEUED:
                    # Stopping: it is not acknowledged, so the broker delivers it again.
                    if self._stopping.is_set():
                        return
                    self._queue_room.wait(_PUT_WAIT_SECONDS)
        waiting.append(Delivery(frame, message.mid, self._connection))
        # After the append: the forward thread clears the event before it looks (_forward).
        if not self._arrived.is_set():
            self._arrived.set()

    # -- running ----------------------------------------------------------------------------

    def run(self) -> None:
        """Connect, then store messages until :meth:`stop`; raise BrokerAuthError when the
        broker refuses the credentials, WriterError when the writer process ends."""
        db = connect(self.db_path, self.settings.synchronous)
        try:
            MIGRATIONS.apply(db)
        finally:
            db.close()
        context = multiprocessing.get_context("spawn")
        conn, child_conn = context.Pipe()
        process = context.Process(
            target=writer.serve,
            args=(child_conn, self.settings),
            name="tapshare-hub-writer",
            daemon=True,
        )
        process.start()
        child_conn.close()
        self._writer = process
        answers = threading.Thread(
            target=self._take_answers, args=(conn,), name="hub-answers", daemon=True
        )
        answers.start()
        # Take no message before the writer can store it (it has opened the database).
        while not self._writer_ready.wait(0.1) and not self._stopping.is_set():
            if not process.is_alive():
                self._writer_gone()
        try:
            if self._stopping.is_set():
                self._stop_writer(conn, process, answers)
            else:
                self._serve(conn, process, answers)
        finally:
            if process.is_alive():
                process.kill()
            process.join()
            conn.close()
        if self._auth_error is not None:
            raise BrokerAuthError(self._auth_error)
        if self._writer_error is not None:
            raise WriterError(self._writer_error)
        log.info("hub stopped: %s", self._summary())

    def _serve(
        self,
        conn: Connection,
        process: multiprocessing.process.BaseProcess,
        answers: threading.Thread,
    ) -> None:
        """Connect to the broker and forward what arrives until stopped."""
        client = make_client(
            self.broker_url,
            self.client_id,
            persistent=True,
            ca_file=self.ca_file,
            manual_ack=True,
        )
        self._client = client
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.connect_async(self.broker_url.host, self.broker_url.port, keepalive=30)
        client.loop_start()
        log.info("hub started: database %s, broker %s", self.db_path, self.broker_url.redacted())
        try:
            self._forward(conn)
        finally:
            self._stop_writer(conn, process, answers)
            client.disconnect()
            client.loop_stop()

    def stop(self) -> None:
        """Ask :meth:`run` to return after the batch in hand (safe from any thread and from
        signal handlers). Messages not yet committed stay with the broker."""
        self._stopping.set()
        self._arrived.set()
        # Never wait for these locks here (a signal handler may have interrupted a holder):
        # whoever waits on them looks at least every second.
        for condition in (self._room, self._queue_room):
            if condition.acquire(blocking=False):
                condition.notify_all()
                condition.release()

    def _forward(self, conn: Connection) -> None:
        """Send what arrives to the writer, in order, until stopped."""
        last_summary = time.monotonic()
        waiting = self._queue
        while not self._stopping.is_set():
            if not waiting:
                self._arrived.wait(1.0)
                # Cleared before looking: what is appended after this sets it again.
                self._arrived.clear()
            while waiting and not self._stopping.is_set():
                chunk = [waiting.popleft() for _ in range(min(len(waiting), MAX_CHUNK))]
                with self._queue_room:
                    self._queue_room.notify_all()
                # Only so much for the writer at a time: what it has not taken waits here.
                with self._room:
                    while not self._room.wait_for(self._has_room, timeout=1.0):
                        pass
                if self._stopping.is_set():
                    break
                # Outstanding before sent: the answer may come at once.
                self._outstanding.extend(chunk)
                try:
                    conn.send([delivery.frame for delivery in chunk])
                except OSError:
                    self._writer_gone()
            if time.monotonic() - last_summary >= SUMMARY_INTERVAL_SECONDS:
                last_summary = time.monotonic()
                log.info("so far: %s", self._summary())

    def _has_room(self) -> bool:
        return len(self._outstanding) < MAX_OUTSTANDING or self._stopping.is_set()

    def _stop_writer(
        self,
        conn: Connection,
        process: multiprocessing.process.BaseProcess,
        answers: threading.Thread,
    ) -> None:
        """Let the writer finish the batch in hand; its last answers are acknowledged."""
        with contextlib.suppress(OSError):
            conn.send(None)
        process.join(WRITER_STOP_SECONDS)
        answers.join(WRITER_STOP_SECONDS)

    def _take_answers(self, conn: Connection) -> None:
        """The writer's answers: acknowledge what it committed, log what it says."""
        while True:
            try:
                answer = conn.recv()
            except (EOFError, OSError):
                self._writer_gone()
                return
            match answer:
                case Committed(count, outcome, cpu_seconds):
                    self._writer_cpu_last = cpu_seconds
                    self._committed(count, outcome)
                case Ready(cpu_seconds):
                    self._writer_cpu_ready = self._writer_cpu_last = cpu_seconds
                    self._writer_ready.set()
                case LogLine(level, text):
                    log.log(level, "%s", text)
                case Stopped():
                    return

    def _writer_gone(self) -> None:
        if self._writer_error is None and not self._stopping.is_set():
            process = self._writer
            code = process.exitcode if process is not None else None
            self._writer_error = (
                f"the writer process ended unexpectedly (exit code {code}); messages it had "
                "not committed stay with the broker, unacknowledged"
            )
            log.error("%s; stopping", self._writer_error)
            self.stop()

    def _committed(self, n: int, outcome: write_path.BatchOutcome) -> None:
        batch = [self._outstanding.popleft() for _ in range(n)]
        with self._room:
            self._room.notify_all()
        self._acknowledge(batch)
        self._count(outcome, n)
        if self.on_commit is not None:
            messages = _Messages(batch)
            try:
                self.on_commit(outcome, messages)
            except Exception:
                log.exception("on_commit callback failed")

    def _acknowledge(self, batch: list[Delivery]) -> None:
        client = self._client
        assert client is not None
        with self._connection_lock:
            # A message of an earlier connection is delivered again on this one (the
            # session keeps it); its old packet id may mean another message by now. The
            # subscription is at QoS 1, so nothing comes at 2; QoS 0 needs no answer.
            connection = self._connection
            client.ack_all([d.mid for d in batch if d.connection == connection and d.qos == 1])

    def _count(self, outcome: write_path.BatchOutcome, size: int) -> None:
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
