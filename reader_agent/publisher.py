"""The MQTT side of a station: drain the outbox in order at QoS 1, report status.

The publisher hands messages from the outbox to paho in ``seq`` order, a window at a time,
and deletes each one when the broker's PUBACK arrives. While the connection is down it
hands over nothing more; paho keeps what it already holds and sends it again after the
reconnect (clean session off), so within a process nothing is sent twice, and after a
restart everything still in the outbox is sent again. The status is retained, published
``online`` on every connect, every ``status_interval`` seconds and on changes; the last
will says ``offline``.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import paho.mqtt.client as mqtt

from protocol.broker import BrokerURL
from protocol.messages import StationStatus
from protocol.mqtt import RECONNECT_MIN_DELAY, is_auth_failure, make_client
from protocol.topics import TopicKind, topic_for
from reader_agent.outbox import Outbox, OutboxError

log = logging.getLogger(__name__)

#: Messages handed to paho and not yet acknowledged, at most.
WINDOW = 100


class PublisherSettings(Protocol):
    """What the publisher needs to know of the station it publishes for (a station's
    settings, or the dashboard's for a festival's web station)."""

    @property
    def festival(self) -> str: ...
    @property
    def station(self) -> str: ...
    @property
    def broker(self) -> BrokerURL: ...
    @property
    def ca_file(self) -> Path | None: ...
    @property
    def status_interval(self) -> float: ...
    @property
    def reconnect_max_seconds(self) -> int: ...
    def client_id(self) -> str: ...


class Publisher:
    """Publishes the outbox and the station's status over one MQTT connection."""

    def __init__(
        self,
        settings: PublisherSettings,
        outbox: Outbox,
        status: Callable[[str], StationStatus],
        on_fatal: Callable[[str], None],
        window: int = WINDOW,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self._status = status
        self._on_fatal = on_fatal
        self._window = window
        self._status_topic = topic_for(settings.festival, settings.station, TopicKind.STATUS)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._acks: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._in_flight: dict[int, int] = {}  # paho mid -> outbox seq
        self._last_handed = -1
        self._connected = threading.Event()
        self._status_due = 0.0
        self._thread = threading.Thread(target=self._run, name="publisher", daemon=True)
        self.fatal: str | None = None
        self.client = make_client(
            settings.broker, settings.client_id(), persistent=True, ca_file=settings.ca_file
        )
        self.client.reconnect_delay_set(RECONNECT_MIN_DELAY, settings.reconnect_max_seconds)
        self.client.max_inflight_messages_set(window)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_connect_fail = self._on_connect_fail
        self._next_fail_log = 0.0

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        """Connect in the background (retrying with back-off) and start draining."""
        offline = self._status("offline")
        self.client.will_set(self._status_topic, offline.payload(), qos=1, retain=True)
        log.info("connecting to %s", self.settings.broker.redacted())
        self.client.connect_async(self.settings.broker.host, self.settings.broker.port, 30)
        self.client.loop_start()
        self._thread.start()

    def wake(self) -> None:
        """Something new is in the outbox, or the status changed: act now."""
        self._wake.set()

    def publish_status(self) -> None:
        """Send the status at the next turn of the loop instead of at its interval."""
        self._status_due = 0.0
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Say ``offline``, disconnect cleanly and stop the network loop."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self.connected:
            info = self.client.publish(
                self._status_topic, self._status("offline").payload(), qos=1, retain=True
            )
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(min(timeout, 2.0))
        self._settle_acks()
        self.client.disconnect()
        self.client.loop_stop()

    # paho callbacks, on paho's network thread

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, *_: Any) -> None:
        if reason.is_failure:
            if is_auth_failure(reason):
                self.fatal = (
                    f"the broker {self.settings.broker.redacted()} refused this station's "
                    f"credentials ({reason}); check broker in the station's settings"
                )
                log.error("%s", self.fatal)
                self._on_fatal(self.fatal)
            else:
                log.warning("the broker refused the connection: %s; retrying", reason)
            return
        log.info("connected to %s", self.settings.broker.redacted())
        self._next_fail_log = 0.0
        self._connected.set()
        self._status_due = 0.0
        self._wake.set()

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        # Said once a minute at most: a station may be out of reach for hours.
        now = time.monotonic()
        if now >= self._next_fail_log:
            self._next_fail_log = now + 60
            log.warning(
                "cannot reach the broker %s (network, address or TLS certificate); "
                "retrying, %d messages wait in the outbox",
                self.settings.broker.redacted(),
                len(self.outbox),
            )

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, *_: Any) -> None:
        if self._connected.is_set() and not self._stopping.is_set():
            log.warning(
                "lost the broker (%s); %d messages wait in the outbox", reason, len(self.outbox)
            )
        self._connected.clear()

    def _on_publish(self, client: Any, userdata: Any, mid: int, *_: Any) -> None:
        self._acks.put(mid)
        self._wake.set()

    # the publisher thread

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self._until_status())
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                self._settle_acks()
                if self.connected:
                    self._hand_over()
                    if time.monotonic() >= self._status_due:
                        self._send_status()
            except OutboxError as exc:
                log.error("%s", exc)
                self._stopping.wait(1.0)

    def _until_status(self) -> float:
        return max(0.05, min(1.0, self._status_due - time.monotonic()))

    def _settle_acks(self) -> None:
        done: list[int] = []
        while True:
            try:
                mid = self._acks.get_nowait()
            except queue.Empty:
                break
            seq = self._in_flight.pop(mid, None)
            if seq is not None:
                done.append(seq)
        self.outbox.delete(done)

    def _hand_over(self) -> None:
        room = self._window - len(self._in_flight)
        if room <= 0:
            return
        for message in self.outbox.pending(after=self._last_handed, limit=room):
            info = self.client.publish(message.topic, message.payload, qos=1)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                log.warning("paho would not take message seq %d: %s", message.seq, info.rc)
                return
            # Kept by paho even without a connection; it sends it after the reconnect.
            self._in_flight[info.mid] = message.seq
            self._last_handed = message.seq

    def _send_status(self) -> None:
        # Due time first: a change noticed while this status is built asks for another.
        self._status_due = time.monotonic() + self.settings.status_interval
        status = self._status("online")
        self.client.publish(self._status_topic, status.payload(), qos=1, retain=True)
