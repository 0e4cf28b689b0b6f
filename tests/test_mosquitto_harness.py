"""The broker harness is real: it keeps persistent sessions across stop() and start()."""

import socket

import pytest

from tapshare.mosquitto import BrokerUnavailable, Mosquitto
from tests.harness.mqtt import Collector, publisher, wait_for


def test_broker_accepts_connections_and_carries_messages(mosquitto):
    collector = Collector(mosquitto).connect()
    client = publisher(mosquitto)
    client.publish("tapshare/v1/strp/st-01/opinion", b"hello", qos=1).wait_for_publish(5)
    assert wait_for(lambda: collector.payloads() == [b"hello"])
    client.disconnect()
    collector.disconnect()


def test_persistent_session_survives_restart(mosquitto):
    collector = Collector(mosquitto, client_id="hub-test", persistent=True).connect()
    collector.disconnect()  # offline now; the broker queues for its session

    client = publisher(mosquitto)
    infos = [
        client.publish("tapshare/v1/strp/st-01/opinion", str(number).encode(), qos=1)
        for number in range(50)
    ]
    for info in infos:
        info.wait_for_publish(5)  # acknowledged: the broker holds it for the session
    client.disconnect()

    mosquitto.stop()
    assert not mosquitto.running
    with pytest.raises(OSError):
        socket.create_connection((mosquitto.host, mosquitto.port), 0.5)
    mosquitto.start()

    collector = Collector(mosquitto, client_id="hub-test", persistent=True).connect()
    assert wait_for(lambda: len(collector.payloads()) == 50, 10)
    assert sorted(int(p) for p in collector.payloads()) == list(range(50))
    collector.disconnect()


def test_more_than_a_thousand_queued_messages_are_kept(mosquitto):
    collector = Collector(mosquitto, client_id="slow", persistent=True).connect()
    collector.disconnect()
    client = publisher(mosquitto)
    infos = [client.publish("tapshare/x", str(n).encode(), qos=1) for n in range(3000)]
    for info in infos:
        info.wait_for_publish(10)
    client.disconnect()
    collector = Collector(mosquitto, client_id="slow", persistent=True).connect()
    assert wait_for(lambda: len(collector.payloads()) == 3000, 20)
    collector.disconnect()


def test_password_file_and_acl(mosquitto_factory, tmp_path):
    import subprocess

    passwd = tmp_path / "passwd"
    passwd.write_text("")
    subprocess.run(["mosquitto_passwd", "-b", str(passwd), "alice", "secret"], check=True)
    acl = tmp_path / "acl"
    acl.write_text("user alice\ntopic readwrite tapshare/alice/#\n")
    broker = mosquitto_factory(password_file=passwd, acl_file=acl)

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    refused = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    refused.username_pw_set("alice", "wrong")
    codes = []
    refused.on_connect = lambda c, u, f, rc, p: codes.append(rc)
    refused.connect(broker.host, broker.port)
    refused.loop_start()
    assert wait_for(lambda: codes, 5)
    assert codes[0].is_failure
    refused.loop_stop()

    collector = Collector(broker, "tapshare/#", username="alice", password="secret").connect()
    client = publisher(broker, "alice", "secret")
    client.publish("tapshare/alice/ok", b"allowed", qos=1).wait_for_publish(5)
    client.publish("tapshare/bob/no", b"denied", qos=1).wait_for_publish(5)
    assert wait_for(lambda: b"allowed" in collector.payloads())
    assert b"denied" not in collector.payloads()
    client.disconnect()
    collector.disconnect()


def test_missing_mosquitto_is_a_clear_error():
    with pytest.raises(BrokerUnavailable, match="not on PATH"):
        Mosquitto(executable="mosquitto-that-does-not-exist")


def test_a_test_without_the_broker_marker_cannot_start_one():
    broker = Mosquitto()
    try:
        with pytest.raises(pytest.fail.Exception, match="mark it broker"):
            broker.start()
    finally:
        broker.close()
