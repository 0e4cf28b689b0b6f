"""A stream of many signed opinions, published at QoS 1 until the broker has them all."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hub.models import StationCredentials
from protocol import Opinion, parse_key, topic_for
from tapshare.mosquitto import Mosquitto
from tests.harness.mqtt import wait_for


def make_opinions(
    station: StationCredentials, count: int, artworks=("aw-1", "aw-2"), first: int = 0
) -> list[bytes]:
    """``count`` distinct signed opinions of ``station`` as payloads, numbered (visitor,
    ``seq``) from ``first`` on."""
    key = parse_key(station.station_secret)
    start = datetime.now(UTC) - timedelta(hours=1)
    return [
        Opinion.build(
            id=str(uuid.uuid4()),
            festival=station.festival,
            station=station.station,
            artwork=artworks[n % len(artworks)],
            visitor=f"{n:064x}",
            choice="love",
            tapped_at=start + timedelta(milliseconds=n),
            seq=n,
            station_secret=key,
        ).payload()
        for n in range(first, first + count)
    ]


class StreamPublisher:
    """Publishes payloads at QoS 1 with a persistent session, as a station would: what the
    broker has not acknowledged is sent again (same id) until it has."""

    def __init__(
        self,
        broker: Mosquitto,
        station: StationCredentials,
        payloads: list[bytes],
        *,
        login: bool = False,
    ):
        self.station = station
        self.topic = topic_for(station.festival, station.station, "opinion")
        self.payloads = payloads
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"stream-{uuid.uuid4().hex[:8]}",
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        self.client.max_inflight_messages_set(100)
        self.client.reconnect_delay_set(0.1, 1)
        if login:
            self.client.username_pw_set(station.broker_username, station.broker_password)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.sent = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.done = threading.Event()

    def start(self) -> StreamPublisher:
        self.thread.start()
        return self

    def _run(self) -> None:
        infos = []
        for payload in self.payloads:
            infos.append(self.client.publish(self.topic, payload, qos=1))
            self.sent += 1
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            missing = [i for i, info in enumerate(infos) if not _published(info)]
            if not missing:
                break
            time.sleep(3)
            if [i for i in missing if not _published(infos[i])] == missing:
                # Nothing moved: hand the broker those again (the hub drops duplicates).
                for i in missing:
                    infos[i] = self.client.publish(self.topic, self.payloads[i], qos=1)
        self.done.set()

    def settle(self, stored: Callable[[], int], timeout: float = 60) -> None:
        """Publish one last opinion on this session and wait until ``stored()`` counts it.

        A broker hands a session's messages on in order (and a bridge keeps that order), so
        once the last one is stored every message before it, a redelivery included, has
        been handled: what a duplicate would change has changed by then. The last opinion
        is one more stored tap.
        """
        before = stored()
        (payload,) = make_opinions(self.station, 1, first=10**6)  # beyond every stream
        self.client.publish(self.topic, payload, qos=1)
        assert wait_for(lambda: stored() > before, timeout), "the last opinion was not stored"

    def finish(self, stored: Callable[[], int], count: int, timeout: float = 120) -> None:
        """Wait until the broker has every payload and ``stored()`` has reached ``count``,
        then :meth:`settle`: what is stored after this is final."""
        assert self.done.wait(timeout), f"the broker did not take all {count} payloads"
        assert wait_for(lambda: stored() >= count, timeout), f"{stored()} of {count} stored"
        self.settle(stored, timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _published(info: mqtt.MQTTMessageInfo) -> bool:
    # paho refuses (rather than queues) a message published while it cannot send it.
    try:
        return info.is_published()
    except (ValueError, RuntimeError):
        return False
