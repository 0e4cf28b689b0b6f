"""One way to make an MQTT client for tapshare's services, from a broker URL.

Stations and the hub both speak MQTT 3.1.1 with QoS 1 and a persistent session (clean
session off): every broker that tapshare may meet speaks it, including small embedded ones,
and the broker then keeps a disconnected client's queued messages.

Their clients read the broker's stream in large pieces (:class:`BufferedSocket`), and a
subscriber that acknowledges by hand acknowledges a whole batch in one write
(:meth:`Client.ack_all`).
"""

from __future__ import annotations

import socket
import ssl
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, cast

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from protocol.broker import BrokerURL

#: Reconnect back-off bounds in seconds (paho doubles the delay up to the maximum).
RECONNECT_MIN_DELAY = 1
RECONNECT_MAX_DELAY = 30
#: How much a client reads from the broker at once.
READ_SIZE: Final = 65536
#: A PUBACK of MQTT 3.1.1 [MQTT-3.4.1]: the packet type (4) with no flags, the remaining
#: length (2), then the packet identifier of the message it acknowledges.
_PUBACK: Final = struct.Struct("!BBH")
_PUBACK_TYPE: Final = 0x40


class BufferedSocket:
    """A client's connection to the broker, read in large pieces.

    paho reads each packet with three or four small reads (its first byte, its length, its
    body), each a system call after a wait in ``select``; a subscriber taking thousands of
    messages a second spends as much on those as on handling the messages. This serves
    paho's reads from what one read of :data:`READ_SIZE` brought, and tells paho through
    ``pending()`` (which it asks before waiting in ``select``, as it does of a TLS
    connection) that bytes are waiting. Writes go straight to the socket.
    """

    def __init__(self, sock: socket.socket) -> None:
        #: A TCP socket or a TLS one (an ``ssl.SSLSocket`` is a ``socket.socket``).
        self._sock = sock
        self._buffer = bytearray()

    def recv(self, size: int) -> bytes:
        buffer = self._buffer
        if not buffer:
            data = self._sock.recv(READ_SIZE)  # raises BlockingIOError when nothing waits
            if len(data) <= size:
                return data
            buffer += data
        piece = bytes(buffer[:size])
        del buffer[:size]
        return piece

    def pending(self) -> int:
        """Bytes read from the broker and not yet taken (with a TLS layer's own)."""
        inner = self._sock.pending() if isinstance(self._sock, ssl.SSLSocket) else 0
        return len(self._buffer) + inner

    def send(self, data: bytes) -> int:
        return self._sock.send(data)

    def fileno(self) -> int:
        return self._sock.fileno()

    def setblocking(self, flag: bool) -> None:
        self._sock.setblocking(flag)

    def close(self) -> None:
        self._buffer.clear()
        self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class Client(mqtt.Client):
    """paho's client on a :class:`BufferedSocket`: each round of its loop reads every
    packet that one read brought; :meth:`ack_all` acknowledges many messages at once."""

    def _create_socket(self) -> Any:
        # tapshare's brokers are reached over TCP, with or without TLS: a socket.
        return BufferedSocket(cast(socket.socket, super()._create_socket()))

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        rc = super().loop_read(max_packets)
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
            sock = self.socket()
            if not isinstance(sock, BufferedSocket) or not sock.pending():
                break
            rc = super().loop_read(max_packets)
        return rc

    def ack_all(self, mids: Iterable[int]) -> None:
        """Acknowledge these QoS 1 messages (a ``manual_ack`` client) in one write.

        paho's :meth:`ack` queues one 4-byte packet per message, wakes the client's loop
        with a system call each time, and the loop then sends each packet with a system
        call of its own; a subscriber acknowledging thousands of messages a second spends
        more on that than on reading them. The PUBACKs here go out as one piece, in order,
        through the same queue (whatever paho queues meanwhile goes before or after them,
        never inside). Only messages of the connection in use may be acknowledged: on a
        later one their packet ids mean other messages (and the session delivers them
        again); what is still queued when the connection drops is not sent.
        """
        if not self._manual_ack:
            return
        packet = b"".join([_PUBACK.pack(_PUBACK_TYPE, 2, mid) for mid in mids])
        if packet:
            self._packet_queue(_PUBACK_TYPE, packet, 0, 1)


def make_client(
    url: BrokerURL,
    client_id: str,
    *,
    persistent: bool = True,
    ca_file: Path | None = None,
    manual_ack: bool = False,
) -> Client:
    """A paho client (callback API 2, MQTT 3.1.1) set up for ``url``; not yet connected.

    ``persistent`` turns clean session off, so the broker keeps the client's subscriptions
    and queued QoS 1 messages while it is away. TLS is on for ``mqtts://`` URLs, verified
    against ``ca_file`` or the system's certificates.
    """
    client = Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=not persistent,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    if url.username is not None:
        client.username_pw_set(url.username, url.password)
    if url.tls:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        client.tls_set_context(context)
    elif ca_file is not None:
        raise ValueError("a CA file is only used with an mqtts:// broker URL")
    client.reconnect_delay_set(RECONNECT_MIN_DELAY, RECONNECT_MAX_DELAY)
    return client


def is_auth_failure(reason_code: ReasonCode | int) -> bool:
    """Whether a CONNACK refused the client's credentials (no point in retrying)."""
    value = reason_code.value if isinstance(reason_code, ReasonCode) else int(reason_code)
    # MQTT 3.1.1 return codes 4 and 5, and their MQTT 5 reason codes 134 and 135.
    return value in (4, 5, 134, 135)
