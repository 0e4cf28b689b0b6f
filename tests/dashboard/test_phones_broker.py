"""The dashboard's broker account: tapshare-web publishes the web stations' topics and
nothing else, through a real Mosquitto with the ACL that broker-config writes."""

from __future__ import annotations

import pytest

from hub.broker_config import HUB_USERNAME, WEB_USERNAME, write_broker_config
from storage import connect
from tapshare.cli import cli
from tests.dashboard.phones import add_stickers, phone_app, tap_form, tap_path
from tests.harness.mqtt import Collector, publisher, wait_for
from tests.hub.running import running_hub

pytestmark = pytest.mark.e2e


def test_votes_reach_the_hub_through_the_web_account_and_nothing_else_does(
    dash_db, tmp_path, mosquitto_factory
):
    add_stickers(dash_db)
    db = connect(dash_db)
    written = write_broker_config(db, tmp_path / "broker")
    db.close()
    assert written.web_password and written.hub_password
    acl = written.acl_file.read_text()
    assert f"user {WEB_USERNAME}\ntopic write tapshare/v1/+/web/#" in acl
    assert "strp.web" not in acl and "strp.web:" not in written.password_file.read_text()
    broker = mosquitto_factory(password_file=written.password_file, acl_file=written.acl_file)
    hub_url = f"mqtt://{HUB_USERNAME}:{written.hub_password}@{broker.host}:{broker.port}"
    web_url = f"mqtt://{WEB_USERNAME}:{written.web_password}@{broker.host}:{broker.port}"
    reader = Collector(broker, username=WEB_USERNAME, password=written.web_password)
    reader.connect()
    spy = Collector(broker, username=HUB_USERNAME, password=written.hub_password)
    spy.connect()
    sneaky = publisher(broker, WEB_USERNAME, written.web_password)
    try:
        sneaky.publish("tapshare/v1/strp/st-01/opinion", b"{}", qos=1).wait_for_publish(5)
        with running_hub(dash_db, broker, hub_url), phone_app(dash_db, broker, web_url) as app:
            phone = app.test_client()
            path = tap_path(dash_db)
            phone.get(path)
            response = phone.post(path.split("?")[0], data={**tap_form(path), "choice": "love"})
            assert "Recorded" in response.get_data(as_text=True)
            check = connect(dash_db)
            assert wait_for(
                lambda: check.conn.execute("SELECT count(*) FROM taps").fetchone()[0] == 1, 10
            )
        topics = {m.topic for m in spy.messages}
        assert "tapshare/v1/strp/web/opinion" in topics
        assert "tapshare/v1/strp/st-01/opinion" not in topics
        assert reader.messages == []
    finally:
        sneaky.disconnect()
        sneaky.loop_stop()
        reader.disconnect()
        spy.disconnect()


def test_the_web_password_is_shown_once_and_rotated_on_request(runner, db_path, tmp_path):
    args = ["--db", str(db_path), "broker-config", "--out", str(tmp_path / "broker")]
    first = runner.invoke(cli, args)
    assert f"--broker mqtt://{WEB_USERNAME}:" in first.stdout
    again = runner.invoke(cli, args)
    assert WEB_USERNAME + ":" not in again.stdout
    rotated = runner.invoke(cli, [*args, "--rotate-web-password"])
    assert f"--broker mqtt://{WEB_USERNAME}:" in rotated.stdout
    assert f"--broker mqtt://{HUB_USERNAME}:" not in rotated.stdout
    site = runner.invoke(cli, [*args, "--site", "strp", "--rotate-web-password"])
    assert site.exit_code == 2
