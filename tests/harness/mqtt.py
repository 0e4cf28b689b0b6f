"""Small paho-mqtt helpers for tests: connect, publish and collect messages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tapshare.mosquitto import Mosquitto


def wait_for(condition: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Poll until ``condition()`` is true; return whether it became true in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class Collector:
    """A subscriber that records every message it receives."""

    def __init__(
        self,
        broker: Mosquitto,
        topic: str = "tapshare/#",
        *,
        client_id: str = "",
        persistent: bool = False,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.broker = broker
        self.topic = topic
        self.messages: list[mqtt.MQTTMessage] = []
        self._lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        self.persistent = persistent
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self.subscribed.set()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            client.subscribe(self.topic, qos=1)

    def _on_message(self, client, userdata, message) -> None:
        with self._lock:
            self.messages.append(message)

    def connect(self) -> Collector:
        properties = None
        if self.persistent:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = 3600
        self.client.connect(
            self.broker.host,
            self.broker.port,
            clean_start=not self.persistent,
            properties=properties,
        )
        self.client.loop_start()
        if not self.subscribed.wait(10):
            raise TimeoutError("subscription not acknowledged")
        return self

    def disconnect(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.subscribed.clear()

    def payloads(self) -> list[bytes]:
        with self._lock:
            return [bytes(m.payload) for m in self.messages]


def publisher(broker: Mosquitto, username: str | None = None, password: str | None = None):
    """A connected MQTT v5 client with its network loop running."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if username is not None:
        client.username_pw_set(username, password)
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client
