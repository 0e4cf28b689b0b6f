"""One way to make an MQTT client for tapshare's services, from a broker URL.

Stations and the hub both speak MQTT 3.1.1 with QoS 1 and a persistent session (clean
session off): every broker that tapshare may meet speaks it, including small embedded ones,
and the broker then keeps a disconnected client's queued messages.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from protocol.broker import BrokerURL

#: Reconnect back-off bounds in seconds (paho doubles the delay up to the maximum).
RECONNECT_MIN_DELAY = 1
RECONNECT_MAX_DELAY = 30


def make_client(
    url: BrokerURL,
    client_id: str,
    *,
    persistent: bool = True,
    ca_file: Path | None = None,
    manual_ack: bool = False,
) -> mqtt.Client:
    """A paho client (callback API 2, MQTT 3.1.1) set up for ``url``; not yet connected.

    ``persistent`` turns clean session off, so the broker keeps the client's subscriptions
    and queued QoS 1 messages while it is away. TLS is on for ``mqtts://`` URLs, verified
    against ``ca_file`` or the system's certificates.
    """
    client = mqtt.Client(
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
