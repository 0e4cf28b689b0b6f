"""An erasure carried out while a site's link is cut covers the taps its site broker held:
when the link returns they arrive, are accepted (ids remembered) and never stored or
counted; taps made after the erasure count."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.opinions import HubOpinions
from protocol import EraseRequest, Opinion, parse_key, topic_for
from storage import connect
from tests.faults.site import start_site
from tests.harness.mqtt import wait_for
from tests.hub.running import running_hub
from tests.hub.stream import StreamPublisher

pytestmark = pytest.mark.e2e

ERASED, OTHER = "e" * 64, "0" * 64


def tap(station, who: str, at: datetime, artwork: str = "aw-1", choice: str = "love") -> Opinion:
    return Opinion.build(
        id=str(uuid.uuid4()),
        festival=station.festival,
        station=station.station,
        artwork=artwork,
        visitor=who,
        choice=choice,
        tapped_at=at,
        seq=0,
        station_secret=parse_key(station.station_secret),
    )


def publish_direct(broker, station, kind: str, payload: bytes) -> None:
    """Publish at QoS 1 to the hub's broker with the station's account."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.username_pw_set(station.broker_username, station.broker_password)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        info = client.publish(topic_for(station.festival, station.station, kind), payload, qos=1)
        info.wait_for_publish(10)
        assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def facts(db_path):
    db = connect(db_path)
    try:
        taps = {row[0] for row in db.conn.execute("SELECT id FROM taps")}
        accepted = {row[0] for row in db.conn.execute("SELECT id FROM accepted_ids")}
        erasures = db.conn.execute("SELECT count(*) FROM erasures").fetchone()[0]
        cell = HubOpinions(db).festival_cell("strp", None)
        return taps, accepted, erasures, cell.visitors, dict(cell.counts)
    finally:
        db.close()


def test_taps_held_by_a_site_broker_across_an_erasure(
    db, registered, db_path, tmp_path, mosquitto_factory, broker_dir
):
    site = start_site(db, tmp_path, mosquitto_factory, broker_dir)
    st1, st2 = registered.st1, registered.st2
    now = datetime.now(UTC)
    requested = now - timedelta(seconds=30)
    first = tap(st1, ERASED, now - timedelta(minutes=3))
    held = [
        tap(st1, ERASED, now - timedelta(minutes=2), artwork="aw-2"),  # before requested_at
        tap(st1, ERASED, requested, choice="meh"),  # at requested_at
        tap(st1, OTHER, now - timedelta(minutes=2)),  # another visitor
    ]
    after = tap(st1, ERASED, requested + timedelta(seconds=1), artwork="aw-2", choice="like")
    passwd = site.hub_broker.directory / "passwd"
    accounts = passwd.read_text()
    with running_hub(db_path, site.hub_broker, site.hub_url):
        stream = StreamPublisher(site.site_broker, st1, [first.payload()], login=True).start()
        assert wait_for(lambda: first.id in facts(db_path)[0], 30), facts(db_path)
        stream.close()
        # The link goes down: the hub's broker no longer lets the site's bridge in.
        passwd.write_text(
            "".join(line for line in accounts.splitlines(True) if "tapshare-site-" not in line)
        )
        site.hub_broker.stop()
        site.hub_broker.start()
        stream = StreamPublisher(site.site_broker, st1, [t.payload() for t in held], login=True)
        stream.start()
        assert stream.done.wait(30)  # the site broker holds them
        # The visitor erases at the hub's own entrance (a station that reaches the hub).
        request = EraseRequest.build(
            id=str(uuid.uuid4()),
            festival="strp",
            station=st2.station,
            visitor=ERASED,
            requested_at=requested,
            seq=1,
            station_secret=parse_key(st2.station_secret),
        )
        publish_direct(site.hub_broker, st2, "erase", request.payload())
        assert wait_for(lambda: facts(db_path)[2] == 1, 30), facts(db_path)
        assert facts(db_path)[0] == set()
        later = StreamPublisher(site.site_broker, st1, [after.payload()], login=True).start()
        assert later.done.wait(30)
        # The link returns: what the site held arrives.
        passwd.write_text(accounts)
        site.hub_broker.stop()
        site.hub_broker.start()
        expected_taps = {held[2].id, after.id}
        assert wait_for(lambda: facts(db_path)[0] == expected_taps, 60), facts(db_path)
        assert wait_for(lambda: {t.id for t in held} <= facts(db_path)[1], 30)
        time.sleep(0.5)
        taps, accepted, erasures, visitors, counts = facts(db_path)
        assert taps == expected_taps and erasures == 1
        assert {first.id, after.id, request.id} | {t.id for t in held} <= accepted
        assert (visitors, counts) == (2, {"love": 1, "like": 1, "meh": 0, "dislike": 0})
        # A redelivery of a held tap changes nothing.
        publish_direct(site.hub_broker, st1, "opinion", held[0].payload())
        time.sleep(1.0)
        assert facts(db_path) == (taps, accepted, erasures, visitors, counts)
        stream.close()
        later.close()
    db2 = connect(db_path)
    try:
        found = dict(
            db2.conn.execute(
                "SELECT name, value FROM hub_counters WHERE name LIKE '%erased_on_arrival%' "
                "OR name LIKE '%duplicates%'"
            ).fetchall()
        )
    finally:
        db2.close()
    assert found["tapshare_hub_opinions_erased_on_arrival_total"] == 2
    assert found["tapshare_hub_duplicates_total"] >= 1
