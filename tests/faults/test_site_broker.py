"""A station publishes to its festival's site broker; the bridge carries every tap to the
hub's broker, and the hub stores each exactly once, also across a cut link."""

from __future__ import annotations

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.site_broker import CONFIG_NAME
from tapshare.cli import cli
from tests.faults.site import start_site, stored
from tests.harness.mqtt import wait_for
from tests.hub.running import running_hub
from tests.hub.stream import StreamPublisher, make_opinions

pytestmark = pytest.mark.e2e

COUNT = 3000


def test_taps_travel_station_site_broker_bridge_hub(
    db, registered, db_path, tmp_path, mosquitto_factory, broker_dir
):
    site = start_site(db, tmp_path, mosquitto_factory, broker_dir)
    payloads = make_opinions(registered.st1, COUNT)
    with running_hub(db_path, site.hub_broker, site.hub_url):
        stream = StreamPublisher(site.site_broker, registered.st1, payloads, login=True).start()
        try:
            stream.finish(lambda: stored(db_path)[0], COUNT)
            assert stored(db_path) == (COUNT + 1, COUNT + 1, 0)
        finally:
            stream.close()


def test_the_link_cut_and_restored_loses_and_duplicates_nothing(
    db, registered, db_path, tmp_path, mosquitto_factory, broker_dir
):
    site = start_site(db, tmp_path, mosquitto_factory, broker_dir)
    payloads = make_opinions(registered.st1, COUNT)
    with running_hub(db_path, site.hub_broker, site.hub_url):
        stream = StreamPublisher(site.site_broker, registered.st1, payloads[:1000], login=True)
        stream.start()
        assert wait_for(lambda: stored(db_path)[0] >= 1000, 60), stored(db_path)
        stream.close()
        # The internet link goes down: the hub's broker is unreachable for the site.
        site.hub_broker.stop()
        stream = StreamPublisher(site.site_broker, registered.st1, payloads[1000:], login=True)
        stream.start()
        try:
            # The site broker accepts every tap while the link is down, and keeps them.
            assert stream.done.wait(60)
            assert stored(db_path)[0] == 1000
            site.hub_broker.start()
            assert wait_for(lambda: stored(db_path)[0] >= COUNT, 60), stored(db_path)
            stream.settle(lambda: stored(db_path)[0])  # a redelivery would show by then
            assert stored(db_path) == (COUNT + 1, COUNT + 1, 0)
        finally:
            stream.close()


def connect_result(broker, station) -> int:
    """The reason code of the broker's answer to a station's login."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.username_pw_set(station.broker_username, station.broker_password)
    results: list[int] = []
    client.on_connect = lambda c, u, f, reason, p: results.append(reason.value)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        assert wait_for(lambda: bool(results), 10)
        return results[0]
    finally:
        client.disconnect()
        client.loop_stop()


def test_site_broker_admits_only_its_festivals_stations(
    db, registered, tmp_path, mosquitto_factory, broker_dir
):
    site = start_site(db, tmp_path, mosquitto_factory, broker_dir)
    assert connect_result(site.site_broker, registered.st1) == 0
    # dfest's station has an account on the hub's broker, not on strp's site broker.
    assert connect_result(site.hub_broker, registered.d1) == 0
    assert connect_result(site.site_broker, registered.d1) != 0
    acl = (tmp_path / "hub-conf" / "acl").read_text()
    assert "user tapshare-site-strp\ntopic write tapshare/v1/strp/#\n" in acl


def test_cli_writes_the_site_config_and_keeps_the_bridge_password(
    db, registered, db_path, tmp_path, runner
):
    base = ["--db", str(db_path), "--broker", "mqtt://hub.example.org:1883"]
    out = tmp_path / "site"
    site = [*base, "broker-config", "--site", "strp", "--out", str(out)]
    first = runner.invoke(cli, [*site, "--listen-port", "1884", "--max-queued", "5000"])
    assert first.exit_code == 0, first.output
    assert "the bridge has a new password" in first.output
    text = (out / CONFIG_NAME).read_text()
    for line in (
        "listener 1884",
        "address hub.example.org:1883",
        "cleansession false",
        "topic tapshare/v1/strp/# out 1",
        "max_queued_messages 5000",
        "remote_username tapshare-site-strp",
    ):
        assert f"\n{line}\n" in text, line
    assert (out / "passwd").read_text().count("\n") == 2  # strp's two stations
    assert "dfest" not in (out / "passwd").read_text() + (out / "acl").read_text()
    assert oct((out / CONFIG_NAME).stat().st_mode & 0o777) == "0o600"
    # A second run (a station added later) keeps the bridge's password.
    again = runner.invoke(cli, [*site, "--listen-port", "1884"])
    assert again.exit_code == 0, again.output
    assert "new password" not in again.output
    assert (out / CONFIG_NAME).read_text().split("remote_password")[1].split("\n")[0] == (
        text.split("remote_password")[1].split("\n")[0]
    )
    unknown = runner.invoke(cli, [*base, "broker-config", "--site", "nope", "--out", str(out)])
    assert unknown.exit_code == 2 and "not registered" in unknown.stderr
    misplaced = runner.invoke(cli, [*base, "broker-config", "--out", str(out), "--max-queued", "5"])
    assert misplaced.exit_code == 2 and "--max-queued needs --site" in misplaced.stderr


def test_the_site_broker_restarted_mid_stream_loses_and_duplicates_nothing(
    db, registered, db_path, tmp_path, mosquitto_factory, broker_dir
):
    site = start_site(db, tmp_path, mosquitto_factory, broker_dir)
    payloads = make_opinions(registered.st1, COUNT)
    with running_hub(db_path, site.hub_broker, site.hub_url):
        # The hub's broker is away first, so the site broker holds taps when it restarts.
        site.hub_broker.stop()
        stream = StreamPublisher(site.site_broker, registered.st1, payloads, login=True).start()
        try:
            assert wait_for(lambda: stream.sent >= COUNT // 2, 30)
            site.site_broker.restart()  # the bridge and its queue go down and come back
            site.hub_broker.start()
            stream.finish(lambda: stored(db_path)[0], COUNT)
            assert stored(db_path) == (COUNT + 1, COUNT + 1, 0)
        finally:
            stream.close()
