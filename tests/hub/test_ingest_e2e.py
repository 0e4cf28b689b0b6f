"""End to end: a plain MQTT client publishes valid and hostile messages through a real
Mosquitto; the hub stores exactly the valid ones and keeps each hostile one as a dead
letter with the right reason, and keeps running."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from hub import health_store, queries, registry
from hub.opinions import HubOpinions
from protocol import format_timestamp, parse_key, signed
from tests.harness.mqtt import publisher, wait_for
from tests.hub.messages import visitor
from tests.hub.running import running_hub

pytestmark = pytest.mark.e2e


def body(sender, **changes):
    now = datetime.now(UTC)
    message = {
        "v": 1,
        "id": str(uuid.uuid4()),
        "festival": sender.festival,
        "station": sender.station,
        "artwork": "aw-1",
        "visitor": visitor(1),
        "choice": "love",
        "tapped_at": format_timestamp(now),
        "seq": 1,
    }
    message.update(changes)
    return message


def sign(message, station):
    return signed(message, parse_key(station.station_secret))


def payload(message):
    return json.dumps(message, separators=(",", ":")).encode()


def topic(station_or_pair, kind="opinion"):
    festival, station = (
        station_or_pair
        if isinstance(station_or_pair, tuple)
        else (station_or_pair.festival, station_or_pair.station)
    )
    return f"tapshare/v1/{festival}/{station}/{kind}"


def test_valid_and_hostile_messages(db, registered, db_path, mosquitto):
    st1, st2, d1 = registered.st1, registered.st2, registered.d1
    spare = registry.add_station(db, "strp", "st-03")
    registry.disable_station(db, "strp", "st-03")
    valid = [
        sign(body(st1, visitor=visitor(1), choice="love"), st1),
        sign(body(st1, visitor=visitor(2), choice="meh", artwork="aw-2"), st1),
        sign(body(st2, visitor=visitor(3), choice="like", seq=5), st2),
        sign(body(st2, visitor=visitor(4), choice="dislike"), st2),
        sign(body(d1, visitor=visitor(1), choice="yes"), d1),
    ]
    first = valid[0]
    changed = {**first, "choice": "dislike"}
    random_key = "ab" * 32
    hostile = [
        # (topic, payload, reason)
        (topic(st1), payload(signed(body(st1), bytes.fromhex(random_key))), "bad_signature"),
        (topic(st1), payload(sign(body(st1), st2)), "bad_signature"),
        (topic(st2), payload(sign(body(st1), st1)), "topic_mismatch"),
        (topic(st1, "hello"), payload(sign(body(st1), st1)), "unknown_topic"),
        ("tapshare/v2/strp/st-01/opinion", payload(sign(body(st1), st1)), "unknown_topic"),
        ("tapshare/status", b"{}", "unknown_topic"),
        (
            topic(("strp", "d-01")),
            payload(signed(body(d1, festival="strp"), parse_key(d1.station_secret))),
            "foreign_station",
        ),
        (
            topic(("nofest", "st-01")),
            payload(sign(body(st1, festival="nofest"), st1)),
            "unknown_festival",
        ),
        (
            topic(("strp", "st-99")),
            payload(sign(body(st1, station="st-99"), st1)),
            "unknown_station",
        ),
        (topic(spare), payload(sign(body(spare), spare)), "station_disabled"),
        (topic(st1), payload(sign(body(st1, artwork="aw-9"), st1)), "unknown_artwork"),
        (topic(st1), payload(sign(body(st1, choice="yes"), st1)), "unknown_choice"),
        (topic(st1), payload(sign(body(st1, extra=1), st1)), "unknown_field"),
        (
            topic(st1),
            payload(
                sign(
                    body(
                        st1, tapped_at=format_timestamp(datetime.now(UTC) + timedelta(minutes=10))
                    ),
                    st1,
                )
            ),
            "future_timestamp",
        ),
        (topic(st1), payload(sign(body(st1, v=2), st1)), "bad_version"),
        (topic(st1), payload(sign(body(st1, seq=True), st1)), "bad_type"),
        (topic(st1), payload(sign(body(st1, seq=-1), st1)), "bad_seq"),
        (topic(st1), payload(sign(body(st1, id="not-a-uuid"), st1)), "bad_id"),
        (topic(st1), payload(sign(body(st1, visitor="ABC"), st1)), "bad_visitor"),
        (topic(st1), payload(sign(body(st1, tapped_at="yesterday"), st1)), "bad_timestamp"),
        (topic(st1), payload(body(st1)), "missing_signature"),
        (topic(st1), payload(sign(body(st1), st1)) + b" " * 2100, "oversize"),
        (topic(st1), b"not json at all", "not_json"),
        (topic(st1), b'{"v": 1, "id": "\xff\xfe"}', "not_utf8"),
        (topic(st1), b"[1, 2, 3]", "not_object"),
        # A replayed id with changed content and the old signature.
        (topic(st1), payload(changed), "bad_signature"),
        (topic(st1, "status"), b'{"v":1}', "missing_field"),
        (
            topic(st1, "status"),
            payload(
                {
                    "v": 1,
                    "station": "st-02",
                    "state": "online",
                    "at": first["tapped_at"],
                    "outbox": 0,
                    "readers": [],
                    "version": "1",
                }
            ),
            "topic_mismatch",
        ),
    ]
    # A replayed id with changed content, signed again by the station: a duplicate.
    resigned = sign(changed, st1)
    status = {
        "v": 1,
        "station": "st-01",
        "state": "online",
        "at": first["tapped_at"],
        "outbox": 2,
        "readers": [{"device": "usb:054c:06c3", "ok": True}],
        "version": "0.1.0",
    }

    with running_hub(db_path, mosquitto):
        client = publisher(mosquitto)
        sent = [(topic(registered_station(registered, m)), payload(m)) for m in valid]
        sent += [(t, p) for t, p, _ in hostile]
        sent += [(topic(st1), payload(first)), (topic(st1), payload(resigned))]
        sent += [(topic(st1, "status"), payload(status))]
        for t, p in sent:
            client.publish(t, p, qos=1).wait_for_publish(5)
        expected_dead = len(hostile)
        assert wait_for(lambda: len(health_store.list_dead_letters(db, 1000)) >= expected_dead, 15)
        assert wait_for(
            lambda: _counter(db, "tapshare_hub_messages_received_total") == len(sent), 15
        )

        letters = health_store.list_dead_letters(db, 1000)
        assert len(letters) == expected_dead
        got = sorted((letter.topic, letter.reason) for letter in letters)
        assert got == sorted((t, reason) for t, _, reason in hostile)
        assert _counter(db, "tapshare_hub_duplicates_total") == 2
        assert _counter(db, "tapshare_hub_opinions_stored_total") == len(valid)
        rejected = {
            labels["reason"]: value
            for name, labels, value in queries.counters(db)
            if name == "tapshare_hub_rejected_total"
        }
        assert sum(rejected.values()) == expected_dead
        assert rejected["bad_signature"] == 3

        source = HubOpinions(db)
        cells = {c.artwork: dict(c.counts) for c in source.artwork_cells("strp", None)}
        zero = dict.fromkeys(("love", "like", "meh", "dislike"), 0)
        assert cells == {
            "aw-1": {**zero, "love": 1, "like": 1, "dislike": 1},
            "aw-2": {**zero, "meh": 1},
        }
        assert source.festival_cell("strp", None).visitors == 4
        assert [dict(c.counts) for c in source.artwork_cells("dfest", None)] == [
            {"yes": 1, "no": 0}
        ]
        health = {h.station: h for h in queries.stations(db, "strp")}
        assert (health["st-01"].state, health["st-01"].outbox) == ("online", 2)

        # Still running: an erase request and one more opinion go through.
        erase = sign(
            {
                "v": 1,
                "id": str(uuid.uuid4()),
                "festival": "strp",
                "station": "st-02",
                "visitor": visitor(1),
                "requested_at": format_timestamp(datetime.now(UTC)),
                "seq": 9,
            },
            st2,
        )
        client.publish(topic(st2, "erase"), payload(erase), qos=1).wait_for_publish(5)
        late = sign(body(st1, visitor=visitor(7), choice="meh", artwork="aw-2"), st1)
        client.publish(topic(st1), payload(late), qos=1).wait_for_publish(5)
        assert wait_for(lambda: _counter(db, "tapshare_hub_opinions_stored_total") == 6, 10)
        assert _counter(db, "tapshare_hub_erasures_total") == 1
        cells = {c.artwork: dict(c.counts) for c in source.artwork_cells("strp", None)}
        assert cells["aw-1"] == {**zero, "like": 1, "dislike": 1}
        assert cells["aw-2"] == {**zero, "meh": 2}
        # The other festival's opinion of the same pseudonym stays.
        assert source.festival_cell("dfest", None).visitors == 1
        client.disconnect()
        client.loop_stop()


def registered_station(registered, message):
    return {
        ("strp", "st-01"): registered.st1,
        ("strp", "st-02"): registered.st2,
        ("dfest", "d-01"): registered.d1,
    }[(message["festival"], message["station"])]


def _counter(db, name):
    return sum(value for n, _, value in queries.counters(db) if n == name)
