import socket
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from protocol.broker import parse_broker_url
from protocol.mqtt import BufferedSocket, is_auth_failure, make_client
from tests.harness.mqtt import Collector, wait_for


def test_client_publishes_to_a_real_broker(mosquitto):
    collector = Collector(mosquitto).connect()
    client = make_client(parse_broker_url(mosquitto.url), "st-test")
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    client.publish("tapshare/v1/a/b/opinion", b"x", qos=1).wait_for_publish(5)
    assert wait_for(lambda: collector.payloads() == [b"x"])
    # The connection is read and written in large pieces (paho makes it in _create_socket).
    assert isinstance(client.socket(), BufferedSocket)
    client.disconnect()
    client.loop_stop()
    collector.disconnect()


def test_auth_failures_are_recognised():
    assert is_auth_failure(ReasonCode(PacketTypes.CONNACK, identifier=134))
    assert is_auth_failure(5)
    assert not is_auth_failure(ReasonCode(PacketTypes.CONNACK, identifier=0))


def test_ca_file_needs_tls(tmp_path):
    with pytest.raises(ValueError, match="mqtts"):
        make_client(parse_broker_url("mqtt://h"), "x", ca_file=tmp_path / "ca.pem")
    client = make_client(parse_broker_url("mqtts://u:p@h"), "x")
    assert isinstance(client, mqtt.Client)


# -- reading and writing the broker's stream in large pieces ---------------------------------


def _pair() -> tuple[socket.socket, BufferedSocket]:
    near, far = socket.socketpair()
    near.setblocking(False)
    return far, BufferedSocket(near)


def test_small_reads_are_served_from_one_read_of_the_socket():
    far, sock = _pair()
    far.sendall(b"\x30\x05hello\x40\x02\x00\x01")
    assert sock.recv(1) == b"\x30"
    assert sock.pending() == 10
    assert sock.recv(1) == b"\x05"
    assert sock.recv(5) == b"hello"
    assert sock.recv(100) == b"\x40\x02\x00\x01"  # no more than there is
    assert sock.pending() == 0
    with pytest.raises(BlockingIOError):  # paho's sign that nothing waits
        sock.recv(1)
    far.close()
    assert sock.recv(1) == b""  # the broker closed the connection
    sock.close()


def test_acknowledgements_reach_the_broker(mosquitto):
    """A persistent subscriber that acknowledges by hand all but 4 of 600 messages gets
    exactly those 4 again when it comes back: every acknowledgement was sent, none lost in
    the client's buffer, and none sent for a message not acknowledged."""
    held = {5, 77, 300, 599}
    url = parse_broker_url(mosquitto.url)
    publisher = make_client(url, "st-acks")
    publisher.connect(mosquitto.host, mosquitto.port)
    publisher.loop_start()

    def subscriber(ack: Callable[[int], bool]) -> tuple[mqtt.Client, list[int]]:
        got: list[int] = []
        subscribed = threading.Event()
        client = make_client(url, "hub-acks", manual_ack=True)
        client.on_connect = lambda c, *a: c.subscribe("tapshare/#", qos=1)
        client.on_subscribe = lambda *a: subscribed.set()

        def on_message(c: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
            n = int(message.payload)
            got.append(n)
            if ack(n):
                c.ack(message.mid, message.qos)

        client.on_message = on_message
        client.connect(mosquitto.host, mosquitto.port)
        client.loop_start()
        assert subscribed.wait(10)
        return client, got

    client, got = subscriber(lambda n: n not in held)
    for n in range(600):
        publisher.publish("tapshare/v1/a/b/opinion", str(n).encode(), qos=1)
    assert wait_for(lambda: len(got) == 600, 30)
    assert got == list(range(600))
    time.sleep(0.5)
    client.disconnect()
    client.loop_stop()
    again, got_again = subscriber(lambda n: True)
    assert wait_for(lambda: len(got_again) >= len(held), 30)
    time.sleep(0.5)
    assert sorted(got_again) == sorted(held)
    again.disconnect()
    again.loop_stop()
    publisher.disconnect()
    publisher.loop_stop()


def test_acknowledgements_of_a_batch_go_in_one_write(mosquitto):
    """ack_all, called from another thread as the hub does after each commit, acknowledges
    every message it names in one write and nothing else: of 600 messages, the 4 left out
    come again, and only they."""
    held = {0, 150, 451, 599}
    url = parse_broker_url(mosquitto.url)
    publisher = make_client(url, "st-batch")
    publisher.connect(mosquitto.host, mosquitto.port)
    publisher.loop_start()

    def subscriber() -> tuple[mqtt.Client, list[tuple[int, int]]]:
        got: list[tuple[int, int]] = []
        subscribed = threading.Event()
        client = make_client(url, "hub-batch", manual_ack=True)
        client.on_connect = lambda c, *a: c.subscribe("tapshare/#", qos=1)
        client.on_subscribe = lambda *a: subscribed.set()
        client.on_message = lambda c, u, m: got.append((int(m.payload), m.mid))
        client.connect(mosquitto.host, mosquitto.port)
        client.loop_start()
        assert subscribed.wait(10)
        return client, got

    client, got = subscriber()
    sent: list[bytes] = []
    sock = client.socket()
    assert isinstance(sock, BufferedSocket)
    real_send = sock.send
    sock.send = lambda data: sent.append(data) or real_send(data)  # type: ignore[method-assign]
    for n in range(600):
        publisher.publish("tapshare/v1/a/b/opinion", str(n).encode(), qos=1)
    acked = 0
    deadline = time.monotonic() + 30
    # The broker sends no more than its in-flight window (20) until messages are acked.
    while acked < 600 and time.monotonic() < deadline:
        batch = got[acked:]
        if batch:
            client.ack_all([mid for n, mid in batch if n not in held])
            acked += len(batch)
        time.sleep(0.01)
    assert [n for n, _ in got] == list(range(600))
    assert wait_for(lambda: sum(len(data) for data in sent) >= 4 * 596, 10)
    # Each write is whole PUBACKs (type 4, length 2), and there were fewer writes than acks.
    assert all(len(data) % 4 == 0 and data[::4] == b"\x40" * (len(data) // 4) for data in sent)
    assert len(sent) < 596
    client.disconnect()
    client.loop_stop()
    again, got_again = subscriber()
    assert wait_for(lambda: len(got_again) >= len(held), 30)
    time.sleep(0.5)
    assert sorted(n for n, _ in got_again) == sorted(held)
    again.ack_all([mid for _, mid in got_again])
    again.disconnect()
    again.loop_stop()
    publisher.disconnect()
    publisher.loop_stop()


def test_ack_all_sends_nothing_without_manual_acknowledgement():
    client = make_client(parse_broker_url("mqtt://h"), "x")
    client.ack_all([1, 2, 3])
    assert not client.want_write()
