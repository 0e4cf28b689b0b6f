"""Counting (docs/policies.md): current opinions kept incrementally, and as they stood at
an instant."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub import write_path
from hub.opinions import HubOpinions
from tests.hub.messages import BASE, erase, opinion, visitor

NOW = datetime(2026, 5, 1, 21, 0, tzinfo=UTC)


def write(db, *messages):
    items = [
        write_path.StoreErase(m, NOW)
        if type(m).__name__ == "EraseRequest"
        else write_path.StoreOpinion(m, NOW)
        for m in messages
    ]
    return write_path.write_batch(db, items, {})


def cells(db, festival="strp", as_of=None):
    return {
        c.artwork: (c.visitors, dict(c.counts))
        for c in HubOpinions(db).artwork_cells(festival, as_of)
    }


ZERO = {"love": 0, "like": 0, "meh": 0, "dislike": 0}


def test_registry_facts(db, registered):
    source = HubOpinions(db)
    assert [(f.id, f.choices) for f in source.festivals()] == [
        ("dfest", ("yes", "no")),
        ("strp", ("love", "like", "meh", "dislike")),
    ]
    assert source.artwork_titles("strp") == {"aw-1": "Cloud", "aw-2": "Rain"}


def test_latest_tap_counts_and_zeros_are_present(db, registered):
    write(db, opinion(registered.st1, who=1, choice="love", minute=1))
    write(db, opinion(registered.st1, who=1, choice="meh", minute=2))
    write(db, opinion(registered.st2, who=2, choice="love", minute=1))
    assert cells(db) == {"aw-1": (2, {**ZERO, "love": 1, "meh": 1})}


def test_a_late_older_tap_does_not_override_a_newer_one(db, registered):
    write(db, opinion(registered.st1, who=1, choice="like", minute=5))
    outcome = write(db, opinion(registered.st1, who=1, choice="dislike", minute=1))
    assert outcome.stored == 1
    assert cells(db) == {"aw-1": (1, {**ZERO, "like": 1})}


def test_ties_break_by_seq_then_id(db, registered):
    st = registered.st1
    write(db, opinion(st, who=1, choice="love", seq=7), opinion(st, who=1, choice="meh", seq=3))
    assert cells(db)["aw-1"][1]["love"] == 1
    low = "00000000-0000-4000-8000-000000000001"
    high = "ffffffff-0000-4000-8000-000000000001"
    write(db, opinion(st, who=2, choice="like", seq=1, id=high))
    write(db, opinion(st, who=2, choice="dislike", seq=1, id=low))
    assert cells(db)["aw-1"][1] == {**ZERO, "love": 1, "like": 1}


def test_redelivered_id_changes_nothing(db, registered):
    first = opinion(registered.st1, who=1, choice="love")
    replay = opinion(registered.st1, who=1, choice="meh", minute=9, id=first.id)
    assert write(db, first).stored == 1
    outcome = write(db, replay, first)
    assert (outcome.stored, outcome.duplicates) == (0, 2)
    assert cells(db) == {"aw-1": (1, {**ZERO, "love": 1})}


def test_festival_cell_counts_a_visitor_once(db, registered):
    write(
        db,
        opinion(registered.st1, who=1, artwork="aw-1", choice="love"),
        opinion(registered.st1, who=1, artwork="aw-2", choice="love"),
        opinion(registered.st1, who=2, artwork="aw-2", choice="meh"),
    )
    cell = HubOpinions(db).festival_cell("strp", None)
    assert (cell.artwork, cell.visitors, dict(cell.counts)) == (
        None,
        2,
        {**ZERO, "love": 2, "meh": 1},
    )
    other = HubOpinions(db).festival_cell("dfest", None)
    assert (other.visitors, dict(other.counts)) == (0, {"yes": 0, "no": 0})


def test_erase_removes_a_visitors_taps_in_one_festival_only(db, registered):
    kept = opinion(registered.d1, who=1, choice="yes")
    gone = opinion(registered.st1, who=1, artwork="aw-2")
    write(db, opinion(registered.st1, who=1), gone, opinion(registered.st2, who=2), kept)
    outcome = write(db, erase(registered.st2, who=1))
    assert (outcome.erasures, outcome.taps_erased) == (1, 2)
    assert cells(db) == {"aw-1": (1, {**ZERO, "love": 1})}
    assert HubOpinions(db).festival_cell("strp", None).visitors == 1
    assert cells(db, "dfest") == {"aw-1": (1, {"yes": 1, "no": 0})}
    # The record keeps time, festival and count, never the pseudonym.
    record = [tuple(row) for row in db.conn.execute("SELECT * FROM erasures")]
    assert len(record) == 1 and record[0][-1] == 2
    assert visitor(1) not in repr(record)
    # A redelivered opinion does not bring the erased tap back.
    assert write(db, gone).duplicates == 1
    assert "aw-2" not in cells(db)
    assert cells(db, as_of=NOW) == cells(db)


def test_as_of_leaves_out_later_taps_then_picks_the_latest(db, registered):
    st = registered.st1
    write(
        db,
        opinion(st, who=1, choice="love", minute=0),
        opinion(st, who=1, choice="meh", minute=10),
        opinion(st, who=2, choice="like", minute=12),
        opinion(st, who=3, artwork="aw-2", choice="like", minute=5),
    )
    at_five = BASE + timedelta(minutes=5)
    assert cells(db, as_of=at_five) == {
        "aw-1": (1, {**ZERO, "love": 1}),
        "aw-2": (1, {**ZERO, "like": 1}),
    }
    assert cells(db, as_of=BASE - timedelta(seconds=1)) == {}
    assert HubOpinions(db).festival_cell("strp", at_five).visitors == 2
    assert cells(db, as_of=BASE + timedelta(hours=1)) == cells(db)


def _expected(taps, as_of=None):
    """Brute force docs/policies.md's counting from (artwork, who, choice, minute, seq, id)."""
    latest = {}
    for tap in taps:
        artwork, who, choice, minute, seq, id_ = tap
        if as_of is not None and minute > as_of:
            continue
        key = (artwork, who)
        if key not in latest or (minute, seq, id_) > latest[key][1:]:
            latest[key] = (choice, minute, seq, id_)
    result = {}
    for (artwork, _), (choice, *_rest) in latest.items():
        counts = result.setdefault(artwork, Counter())
        counts[choice] += 1
    visitors = len({who for (_, who) in latest})
    return (
        {a: (sum(c.values()), {**ZERO, **c}) for a, c in result.items()},
        visitors,
    )


_databases = itertools.count()
tap_lists = st.lists(
    st.tuples(
        st.sampled_from(["aw-1", "aw-2"]),
        st.integers(1, 4),
        st.sampled_from(["love", "like", "meh", "dislike"]),
        st.integers(0, 5),
        st.integers(0, 3),
    ),
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(taps=tap_lists, as_of=st.integers(0, 5), seed=st.integers(0, 1000))
def test_incremental_counts_match_a_recount_in_any_order(db_path, taps, as_of, seed):
    from hub import registry
    from storage import connect
    from tapshare.database import migrate

    path = db_path.with_name(f"prop-{next(_databases)}.db")
    migrate(path)
    db = connect(path)
    registry.add_festival(db, "strp", "STRP")
    st1 = registry.add_station(db, "strp", "st-01")
    numbered = [(*tap, f"{i:08x}-0000-4000-8000-000000000000") for i, tap in enumerate(taps)]
    messages = [
        opinion(st1, artwork=a, who=w, choice=c, minute=m, seq=s, id=i)
        for a, w, c, m, s, i in numbered
    ]
    random.Random(seed).shuffle(messages)
    for start in range(0, len(messages), 4):
        write(db, *messages[start : start + 4])
    expected_cells, expected_visitors = _expected(numbered)
    assert cells(db) == expected_cells
    assert HubOpinions(db).festival_cell("strp", None).visitors == expected_visitors
    past_cells, past_visitors = _expected(numbered, as_of)
    instant = BASE + timedelta(minutes=as_of)
    assert cells(db, as_of=instant) == past_cells
    assert HubOpinions(db).festival_cell("strp", instant).visitors == past_visitors
    db.close()


@pytest.mark.parametrize("as_of", [None, NOW])
def test_unknown_festival_has_no_cells(db, as_of):
    assert HubOpinions(db).artwork_cells("nope", as_of) == []
