import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from protocol.broker import parse_broker_url
from protocol.mqtt import is_auth_failure, make_client
from tests.harness.mqtt import Collector, wait_for


def test_client_publishes_to_a_real_broker(mosquitto):
    collector = Collector(mosquitto).connect()
    client = make_client(parse_broker_url(mosquitto.url), "st-test")
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    client.publish("tapshare/v1/a/b/opinion", b"x", qos=1).wait_for_publish(5)
    assert wait_for(lambda: collector.payloads() == [b"x"])
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
