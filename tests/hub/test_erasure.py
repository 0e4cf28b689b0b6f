"""Erasure covers late taps: a tap of the erased visitor in that festival, tapped at or
before ``requested_at`` but reaching the hub after the erasure, is accepted (its id is
remembered) and never stored or counted; the hub keeps no pseudonym to know it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub import write_path
from hub.opinions import HubOpinions
from tests.hub.messages import BASE, erase, opinion, visitor

NOW = BASE + timedelta(hours=1)


def write(db, *messages, markers=None):
    items = [
        write_path.StoreErase(m, NOW)
        if type(m).__name__ == "EraseRequest"
        else write_path.StoreOpinion(m, NOW)
        for m in messages
    ]
    return write_path.write_batch(db, items, {}, markers=markers)


def stored_ids(db) -> set[str]:
    return {row[0] for row in db.conn.execute("SELECT id FROM taps")}


def accepted(db, message_id: str) -> bool:
    found = db.conn.execute("SELECT 1 FROM accepted_ids WHERE id = ?", (message_id,))
    return found.fetchone() is not None


def visitors(db, festival: str) -> int:
    return HubOpinions(db).festival_cell(festival, None).visitors


@pytest.mark.parametrize(
    ("station", "who", "minute", "hidden"),
    [
        ("st1", 1, 4, True),  # before requested_at
        ("st2", 1, 5, True),  # at requested_at, through another station of the festival
        ("st1", 1, 5 + 0.001 / 60, False),  # a millisecond after
        ("st1", 1, 6, False),  # after
        ("st1", 2, 4, False),  # another visitor
        ("d1", 1, 4, False),  # the same pseudonym text in another festival
    ],
)
def test_a_tap_arriving_after_the_erasure(db, registered, station, who, minute, hidden):
    write(db, opinion(registered.st1, who=1, minute=1))
    assert write(db, erase(registered.st1, who=1, minute=5)).erasures == 1
    artwork = "aw-1"
    late = opinion(getattr(registered, station), who=who, minute=minute, artwork=artwork)
    if station == "d1":
        late = opinion(registered.d1, who=who, minute=minute, choice="yes")
    outcome = write(db, late)
    assert accepted(db, late.id)
    assert (late.id in stored_ids(db)) is not hidden
    assert (outcome.stored, outcome.hidden, outcome.duplicates) == (
        (0, 1, 0) if hidden else (1, 0, 0)
    )
    assert visitors(db, late.festival) == (0 if hidden else 1)
    # A redelivery changes nothing, whatever it was.
    again = write(db, late)
    assert (again.stored, again.hidden, again.duplicates) == (0, 0, 1)


def test_late_taps_in_the_same_batch_as_the_erasure_and_after_a_restart(db, registered):
    st = registered.st1
    before, after = opinion(st, who=1, minute=2), opinion(st, who=1, minute=9)
    outcome = write(db, erase(st, who=1, minute=5), before, after)
    assert (outcome.stored, outcome.hidden) == (1, 1)
    assert stored_ids(db) == {after.id}
    # A later erasure of the same visitor moves the marker on; an earlier one keeps it.
    write(db, erase(st, who=1, minute=10), erase(st, who=1, minute=3))
    late = opinion(st, who=1, minute=8, artwork="aw-2")
    assert write(db, late).hidden == 1  # loaded afresh from the database: still covered
    markers = write_path.load_markers(db)
    assert write(db, opinion(st, who=1, minute=11), markers=markers).stored == 1
    assert write(db, opinion(st, who=1, minute=10, artwork="aw-2"), markers=markers).hidden == 1


def test_markers_kept_by_the_writer_roll_back_with_a_failed_batch(db, registered):
    st = registered.st1
    markers = write_path.load_markers(db)
    db.conn.execute(
        "CREATE TRIGGER fail BEFORE INSERT ON erasures BEGIN SELECT RAISE(ABORT, 'x'); END"
    )
    with pytest.raises(Exception, match="x"):
        write(db, erase(st, who=1, minute=5), markers=markers)
    db.conn.execute("DROP TRIGGER fail")
    assert write(db, opinion(st, who=1, minute=4), markers=markers).stored == 1


def test_the_hub_keeps_a_keyed_hash_never_the_pseudonym(db, registered):
    write(db, erase(registered.st1, who=7, minute=5))
    everything = repr([tuple(r) for r in db.conn.execute("SELECT * FROM erasure_markers")])
    everything += repr([tuple(r) for r in db.conn.execute("SELECT * FROM erasures")])
    assert "erasure_markers" in {r[0] for r in db.conn.execute("SELECT name FROM sqlite_master")}
    assert visitor(7) not in everything
    assert db.conn.execute("SELECT count(*) FROM erasure_markers").fetchone()[0] == 1


def test_dead_letters_carrying_the_pseudonym_go_with_the_erasure(db, registered):
    st = registered.st1
    topic = "tapshare/v1/strp/st-01/opinion"
    mine = opinion(st, who=3).payload()
    rejections = [
        write_path.StoreRejection(topic, "bad_signature", "x", mine, NOW),
        write_path.StoreRejection(topic, "bad_value", "x", mine.upper(), NOW),
        write_path.StoreRejection(topic, "bad_value", "x", opinion(st, who=4).payload(), NOW),
        # The same pseudonym text under another festival is another visitor.
        write_path.StoreRejection(
            "tapshare/v1/dfest/d-01/opinion",
            "bad_value",
            "x",
            mine.replace(b'"strp"', b'"dfest"'),
            NOW,
        ),
    ]
    write_path.write_batch(db, rejections, {})
    write(db, erase(st, who=3, minute=5))
    left = [bytes(row[0]) for row in db.conn.execute("SELECT payload FROM dead_letters")]
    assert len(left) == 2
    assert not any(visitor(3).encode() in p and b'"strp"' in p for p in left)


def test_a_dead_letter_arriving_after_the_erasure_keeps_no_pseudonym(db, registered):
    st = registered.st1
    write(db, erase(st, who=3, minute=5))
    topic = "tapshare/v1/strp/st-01/opinion"
    later = [
        opinion(st, who=3, minute=9).payload().upper(),  # made after: still not kept
        opinion(st, who=4).payload(),
    ]
    write_path.write_batch(
        db, [write_path.StoreRejection(topic, "bad_value", "why", p, NOW) for p in later], {}
    )
    rows = db.conn.execute("SELECT payload, size, detail FROM dead_letters ORDER BY id").fetchall()
    assert [(bytes(r[0]), r[1]) for r in rows] == [(b"", len(later[0])), (later[1], len(later[1]))]
    assert rows[0][2] == "why (payload not kept: it names an erased visitor)"
    assert visitor(3) not in repr([tuple(r) for r in db.conn.execute("SELECT * FROM dead_letters")])
