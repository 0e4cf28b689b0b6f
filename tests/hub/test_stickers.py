"""Stickers: the registry, the web station, and one tap for one vote."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from hub import registry, registry_store, sdm, stickers
from hub.migrations import MIGRATIONS
from hub.registry import RegistryError
from hub.stickers import Refusal, TapRefused
from storage import connect
from tapshare.database import migrate

UID = bytes.fromhex("04aabbccddeeff")


@pytest.fixture
def fest(db):
    registry.add_festival(db, "strp", "STRP")
    registry.add_artwork(db, "strp", "aw-1", "Cloud")
    return db


def test_every_festival_has_a_web_station_that_never_gets_a_broker_account(fest):
    key = registry_store.station_key(fest, "strp", "web")
    assert key is not None and key.enabled
    assert registry_store.broker_station_accounts(fest) == []


def test_the_migration_gives_existing_festivals_a_web_station(db_path):
    db = connect(db_path)
    MIGRATIONS.apply(db, stop_before="0009_stickers")
    db.execute(
        "INSERT INTO festivals (id, name, choices, visitor_key, created_at) "
        "VALUES ('old', 'Old', '[\"love\"]', ?, '2026-01-01T00:00:00.000Z')",
        ("ab" * 32,),
    )
    db.conn.commit()
    assert registry_store.station_key(db, "old", "web") is None
    migrate(db_path)
    key = registry_store.station_key(db, "old", "web")
    assert key is not None and len(key.secret) == 64


def test_add_sticker_makes_random_keys(fest):
    one = stickers.add(fest, "strp", "s-1", "aw-1")
    two = stickers.add(fest, "strp", "s-2", "aw-1", "love")
    assert len(one.meta_read_key) == len(one.file_read_key) == 32
    assert len({one.meta_read_key, one.file_read_key, two.meta_read_key, two.file_read_key}) == 4
    assert (one.choice, two.choice) == (None, "love")
    flat = stickers.add(fest, "strp", "qr", "aw-1", static=True)
    assert flat.static and flat.meta_read_key is None and flat.file_read_key is None
    assert [s.id for s in stickers.list_stickers(fest, "strp")] == ["qr", "s-1", "s-2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope", "s-1", "aw-1"), "not registered"),
        (("strp", "S 1", "aw-1"), "not a valid id"),
        (("strp", "s-1", "aw-9"), "artwork 'aw-9' is not registered"),
        (("strp", "s-1", "aw-1", "wow"), "not one of the festival's"),
    ],
)
def test_bad_stickers_are_refused(fest, args, message):
    with pytest.raises(RegistryError, match=message):
        stickers.add(fest, *args)
    assert fest.conn.execute("SELECT count(*) FROM stickers").fetchone()[0] == 0


def test_a_sticker_id_is_unique_within_its_festival(fest):
    stickers.add(fest, "strp", "s-1", "aw-1")
    with pytest.raises(RegistryError, match="already registered"):
        stickers.add(fest, "strp", "s-1", "aw-1")


def _tap(sticker, counter, uid=UID):
    return sdm.make_tap(uid, counter, *sticker.keys())


def _accept(db, sticker, message, now=None):
    return stickers.accept_tap(db, "strp", sticker.id, *message, lambda s: s.id, now=now)


def _refusal(call):
    with pytest.raises(TapRefused) as caught:
        call()
    return caught.value.refusal


def test_a_tap_gives_one_vote(fest):
    sticker = stickers.add(fest, "strp", "s-1", "aw-1")
    first = _tap(sticker, 5)
    stickers.open_tap(fest, "strp", "s-1", *first)
    assert _accept(fest, sticker, first) == "s-1"
    assert _refusal(lambda: _accept(fest, sticker, first)) is Refusal.USED
    assert _refusal(lambda: stickers.open_tap(fest, "strp", "s-1", *first)) is Refusal.USED
    bound = stickers.get(fest, "strp", "s-1")
    assert (bound.uid, bound.last_counter) == (UID.hex(), 5)


def test_counters_must_rise_and_the_uid_is_bound(fest):
    sticker = stickers.add(fest, "strp", "s-1", "aw-1")
    older, newer = _tap(sticker, 7), _tap(sticker, 8)
    stickers.open_tap(fest, "strp", "s-1", *older)
    _accept(fest, sticker, newer)
    assert _refusal(lambda: _accept(fest, sticker, older)) is Refusal.USED
    other_chip = _tap(sticker, 9, uid=bytes.fromhex("04000000000001"))
    assert _refusal(lambda: _accept(fest, sticker, other_chip)) is Refusal.FORGED
    _accept(fest, sticker, _tap(sticker, 9))


def test_a_tap_is_good_for_ten_minutes_from_its_first_opening(fest):
    sticker = stickers.add(fest, "strp", "s-1", "aw-1")
    start = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
    message = _tap(sticker, 1)
    stickers.open_tap(fest, "strp", "s-1", *message, now=start)
    late = start + timedelta(minutes=10, seconds=1)
    assert _refusal(lambda: _accept(fest, sticker, message, late)) is Refusal.EXPIRED
    assert stickers.get(fest, "strp", "s-1").last_counter is None
    _accept(fest, sticker, message, start + timedelta(minutes=10))


def test_refusals_of_unknown_disabled_malformed_and_forged_taps(fest):
    sticker = stickers.add(fest, "strp", "s-1", "aw-1")
    message = _tap(sticker, 1)
    assert _refusal(lambda: stickers.open_tap(fest, "strp", "s-9", *message)) is Refusal.UNKNOWN
    assert _refusal(lambda: stickers.open_tap(fest, "strp", "s-1", "zz", message[1])) is (
        Refusal.MALFORMED
    )
    forged = (message[0], "0" * 16)
    assert _refusal(lambda: stickers.open_tap(fest, "strp", "s-1", *forged)) is Refusal.FORGED
    stickers.disable(fest, "strp", "s-1")
    assert _refusal(lambda: stickers.open_tap(fest, "strp", "s-1", *message)) is Refusal.UNKNOWN
    assert fest.conn.execute("SELECT count(*) FROM sticker_taps").fetchone()[0] == 0


def test_a_static_sticker_takes_no_parameters(fest):
    stickers.add(fest, "strp", "qr", "aw-1", static=True)
    stickers.open_tap(fest, "strp", "qr", None, None)
    assert stickers.accept_tap(fest, "strp", "qr", None, None, lambda s: 1) == 1
    assert stickers.accept_tap(fest, "strp", "qr", None, None, lambda s: 2) == 2
    refusal = _refusal(lambda: stickers.open_tap(fest, "strp", "qr", "00" * 16, "00" * 8))
    assert refusal is Refusal.MALFORMED


def test_a_failed_recording_leaves_the_tap_unused(fest):
    sticker = stickers.add(fest, "strp", "s-1", "aw-1")
    message = _tap(sticker, 3)

    def broken(_):
        raise OSError("disk full")

    with pytest.raises(OSError):
        stickers.accept_tap(fest, "strp", "s-1", *message, broken)
    assert stickers.get(fest, "strp", "s-1").last_counter is None
    assert _accept(fest, sticker, message) == "s-1"


def test_concurrent_votes_with_one_tap_record_one(db_path, fest):
    sticker = stickers.add(fest, "strp", "s-1", "aw-1")
    message = _tap(sticker, 11)
    recorded: list[int] = []
    refused: list[Refusal] = []
    barrier = threading.Barrier(8)

    def vote(n):
        db = connect(db_path)
        barrier.wait()
        try:
            stickers.accept_tap(db, "strp", "s-1", *message, lambda s: recorded.append(n))
        except TapRefused as exc:
            refused.append(exc.refusal)
        finally:
            db.close()

    threads = [threading.Thread(target=vote, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(recorded) == 1
    assert refused == [Refusal.USED] * 7


def test_simulated_taps_are_fresh_and_use_the_bound_uid(fest):
    sticker = stickers.add(fest, "strp", "s-1", "aw-1")
    first = stickers.simulated_tap(fest, "strp", "s-1")
    stickers.open_tap(fest, "strp", "s-1", *first)
    second = stickers.simulated_tap(fest, "strp", "s-1")
    _accept(fest, sticker, second)
    third = stickers.simulated_tap(fest, "strp", "s-1")
    _accept(fest, sticker, third)
    read = [sdm.read_tap(*m, *sticker.keys()) for m in (second, third)]
    assert [t.counter for t in read] == [2, 3]
    assert read[0].uid == read[1].uid
