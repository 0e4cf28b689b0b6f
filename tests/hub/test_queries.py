"""Read helpers: station health, counters and dead letters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub import health_store, queries, write_path
from protocol import StationStatus, format_timestamp

NOW = datetime(2026, 5, 1, 21, 0, tzinfo=UTC)


def status(station, state="online", at=NOW, outbox=3, full=False):
    return StationStatus.model_validate(
        {
            "v": 1,
            "station": station,
            "state": state,
            "at": format_timestamp(at),
            "outbox": outbox,
            "outbox_full": full,
            "readers": [{"device": "tty:AMA0:pn532", "ok": True}, {"device": "usb", "ok": False}],
            "version": "0.1.0",
        }
    )


def health(db, now):
    return {h.station: h for h in queries.stations(db, "strp", now=now)}


def test_station_health_states(db, registered):
    assert {h.state for h in queries.stations(db, "strp")} == {"unknown"}
    write_path.write_batch(db, [write_path.StoreStatus("strp", status("st-01"), NOW, False)], {})
    found = health(db, NOW + timedelta(seconds=30))
    st1 = found["st-01"]
    assert (st1.state, st1.outbox, st1.outbox_full, st1.version) == ("online", 3, False, "0.1.0")
    assert st1.last_seen == format_timestamp(NOW)
    assert [r["ok"] for r in st1.readers] == [True, False]
    assert found["st-02"].state == "unknown"
    # Silent for longer than twice the 30 s status interval: offline.
    assert health(db, NOW + timedelta(seconds=61))["st-01"].state == "offline"
    # The last will says offline at once.
    write_path.write_batch(
        db,
        [
            write_path.StoreStatus(
                "strp", status("st-01", "offline"), NOW + timedelta(seconds=5), False
            )
        ],
        {},
    )
    assert health(db, NOW + timedelta(seconds=6))["st-01"].state == "offline"


def test_a_replayed_retained_status_does_not_override_a_newer_one(db, registered):
    later = NOW + timedelta(minutes=1)
    write_path.write_batch(
        db, [write_path.StoreStatus("strp", status("st-01", outbox=9, at=later), later, False)], {}
    )
    old = status("st-01", "offline", at=NOW, outbox=1)
    write_path.write_batch(
        db, [write_path.StoreStatus("strp", old, later + timedelta(seconds=1), True)], {}
    )
    st1 = health(db, later + timedelta(seconds=2))["st-01"]
    assert (st1.state, st1.outbox) == ("online", 9)


def test_counters_and_dead_letters(db, registered):
    rejection = write_path.StoreRejection(
        "tapshare/x", "unknown_topic", "unknown topic", b"\xff" * 3000, NOW
    )
    counters = {
        ("tapshare_hub_rejected_total", '{"reason":"unknown_topic"}'): 1.0,
        ("tapshare_hub_received_total", "{}"): 1.0,
    }
    write_path.write_batch(db, [rejection], counters)
    write_path.write_batch(db, [], counters)
    assert queries.counters(db) == [
        ("tapshare_hub_received_total", {}, 2.0),
        ("tapshare_hub_rejected_total", {"reason": "unknown_topic"}, 2.0),
    ]
    (letter,) = health_store.list_dead_letters(db, 10)
    assert (letter.topic, letter.reason, letter.size, len(letter.payload)) == (
        "tapshare/x",
        "unknown_topic",
        3000,
        2048,
    )
    assert letter.as_json()["payload_hex"] == "ff" * 2048
