"""broker-config: a real Mosquitto with the written password file and ACL lets each
station publish only as itself, lets nobody read but the hub, and nobody else in."""

from __future__ import annotations

import subprocess
import sys
import threading

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub import registry, registry_store
from hub.broker_config import HUB_USERNAME, write_broker_config
from hub.ingest import BrokerAuthError, Hub
from protocol.broker import parse_broker_url
from protocol.mqtt import is_auth_failure
from tapshare.cli import cli
from tests.harness.mqtt import Collector, publisher, wait_for
from tests.hub.messages import opinion

pytestmark = pytest.mark.e2e


def connect_result(broker, username=None, password=None) -> str:
    """What the broker says to a client: "accepted" or "refused"."""
    result: list[int] = []
    done = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    if username is not None:
        client.username_pw_set(username, password)

    def on_connect(client, userdata, flags, reason, properties):
        result.append(
            "refused"
            if is_auth_failure(reason)
            else "accepted"
            if not reason.is_failure
            else str(reason)
        )
        done.set()

    client.on_connect = on_connect
    client.connect(broker.host, broker.port)
    client.loop_start()
    done.wait(10)
    client.disconnect()
    client.loop_stop()
    return result[0]


def test_station_can_publish_only_as_itself_and_read_nothing(
    db, registered, tmp_path, mosquitto_factory
):
    written = write_broker_config(db, tmp_path / "broker")
    assert written.hub_password and written.stations == 3
    assert (tmp_path / "broker" / "passwd").stat().st_mode & 0o077 == 0
    broker = mosquitto_factory(password_file=written.password_file, acl_file=written.acl_file)
    st1, st2 = registered.st1, registered.st2

    assert connect_result(broker) == "refused"  # anonymous
    assert connect_result(broker, st1.broker_username, "wrong") == "refused"
    assert connect_result(broker, st1.broker_username, st1.broker_password) == "accepted"

    hub_reader = Collector(broker, username=HUB_USERNAME, password=written.hub_password)
    hub_reader.connect()
    station_reader = Collector(broker, username=st2.broker_username, password=st2.broker_password)
    station_reader.connect()
    own = publisher(broker, st1.broker_username, st1.broker_password)
    hub_writer = publisher(broker, HUB_USERNAME, written.hub_password)
    try:
        forged = opinion(st2)  # st-01 tries to speak as st-02
        own.publish("tapshare/v1/strp/st-02/opinion", forged.payload(), qos=1).wait_for_publish(5)
        own.publish("tapshare/v1/dfest/d-01/status", b"{}", qos=1).wait_for_publish(5)
        hub_writer.publish("tapshare/v1/strp/st-01/opinion", b"{}", qos=1).wait_for_publish(5)
        marker = opinion(st1)
        own.publish("tapshare/v1/strp/st-01/opinion", marker.payload(), qos=1).wait_for_publish(5)
        assert wait_for(lambda: marker.payload() in hub_reader.payloads(), 10)
        assert hub_reader.payloads() == [marker.payload()]
        assert [m.topic for m in hub_reader.messages] == ["tapshare/v1/strp/st-01/opinion"]
        assert station_reader.payloads() == []
    finally:
        for client in (own, hub_writer):
            client.disconnect()
            client.loop_stop()
        hub_reader.disconnect()
        station_reader.disconnect()

    # The hub itself connects with its account; a wrong password stops it with an error.
    url = f"mqtt://{HUB_USERNAME}:{written.hub_password}@{broker.host}:{broker.port}"
    wrong = Hub(tmp_path / "hub.db", parse_broker_url(url.replace(written.hub_password, "nope")))
    with pytest.raises(BrokerAuthError, match="refused the hub's credentials"):
        wrong.run()


def test_disabled_station_is_shut_out_after_rewrite(db, registered, tmp_path, mosquitto_factory):
    registry.disable_station(db, "strp", "st-02")
    written = write_broker_config(db, tmp_path / "broker")
    acl = written.acl_file.read_text()
    assert "user strp.st-02" not in acl and "strp.st-02:" not in written.password_file.read_text()
    assert "topic write tapshare/v1/strp/st-01/#" in acl
    assert f"user {HUB_USERNAME}\ntopic read tapshare/#" in acl
    broker = mosquitto_factory(password_file=written.password_file, acl_file=written.acl_file)
    st2 = registered.st2
    assert connect_result(broker, st2.broker_username, st2.broker_password) == "refused"


def test_hub_password_is_shown_once_and_rotated_on_request(runner, db_path, tmp_path):
    out = tmp_path / "broker"
    args = ["--db", str(db_path), "broker-config", "--out", str(out)]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "shown only now" in first.stdout
    hub_line = (out / "passwd").read_text().splitlines()[0]
    assert hub_line.startswith(f"{HUB_USERNAME}:$7$")
    again = runner.invoke(cli, args)
    assert "shown only now" not in again.stdout
    assert (out / "passwd").read_text().splitlines()[0] == hub_line
    rotated = runner.invoke(cli, [*args, "--rotate-hub-password"])
    assert "shown only now" in rotated.stdout
    assert (out / "passwd").read_text().splitlines()[0] != hub_line
    password = rotated.stdout.split("shown only now; only its hash is kept): ")[1].split()[0]
    assert password not in (out / "passwd").read_text()
    assert (out / "tapshare.conf").read_text().count(str(out.resolve())) == 2


def test_broker_config_into_an_unwritable_place_is_exit_2(runner, db_path, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(
        cli, ["--db", str(db_path), "broker-config", "--out", str(blocker / "d")]
    )
    assert result.exit_code == 2
    assert "cannot write the broker configuration" in result.stderr


def test_hub_command_with_bad_credentials_is_exit_2(
    db, registered, tmp_path, mosquitto_factory, db_path
):
    written = write_broker_config(db, tmp_path / "broker")
    broker = mosquitto_factory(password_file=written.password_file, acl_file=written.acl_file)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tapshare",
            "--db",
            str(db_path),
            "--broker",
            f"mqtt://{HUB_USERNAME}:wrong@{broker.host}:{broker.port}",
            "hub",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith("tapshare: error: the broker at")
    assert "wrong" not in result.stderr
    assert registry_store.list_festivals(db)  # nothing lost
