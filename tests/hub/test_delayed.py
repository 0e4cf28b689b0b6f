"""Delayed counts (docs/policies.md, Counting, with a delay): the incrementally kept views
of hub.delayed give exactly the recount of the stored taps (hub.counts), whatever happens in
between."""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from hub import counts, delayed, lifecycle, registry, write_path
from hub.models import StationCredentials
from storage import connect
from tapshare.database import migrate
from tests.hub.messages import BASE, erase, opinion

FESTIVALS = ("strp", "dfest")


def recount(db: Database, festival: str, as_of: datetime) -> delayed.DelayedCounts:
    """The reference: every stored tap, counted afresh."""
    return delayed.DelayedCounts(
        counts.artwork_counts_as_of(db, festival, as_of),
        counts.festival_visitors_as_of(db, festival, as_of),
    )


def at(minute: float) -> datetime:
    return BASE + timedelta(minutes=minute)


class Hub:
    """A migrated database file: the hub writes through one connection, boards read
    through another (as the hub and the dashboard do)."""

    def __init__(self, path: Path) -> None:
        migrate(path)
        self.path = path
        self.writer = connect(path)
        self.reader = connect(path)
        self.stations: dict[str, StationCredentials] = {}
        for festival in FESTIVALS:
            registry.add_festival(self.writer, festival, festival.upper())
            for artwork in ("aw-1", "aw-2"):
                registry.add_artwork(self.writer, festival, artwork, artwork)
            self.stations[festival] = registry.add_station(self.writer, festival, "st-01")
            registry.set_festival(self.writer, festival, retain_days=1)

    def write(self, *messages: object) -> write_path.BatchOutcome:
        items = [
            write_path.StoreErase(m, BASE)  # type: ignore[arg-type]
            if type(m).__name__ == "EraseRequest"
            else write_path.StoreOpinion(m, BASE)  # type: ignore[arg-type]
            for m in messages
        ]
        return write_path.write_batch(self.writer, items, {})

    def tap(self, festival: str, **fields: object) -> write_path.BatchOutcome:
        return self.write(opinion(self.stations[festival], **fields))  # type: ignore[arg-type]

    def erase(self, festival: str, who: int) -> write_path.BatchOutcome:
        return self.write(erase(self.stations[festival], who=who))

    def expire(self, cutoff_minute: float) -> None:
        """Retention with the cut-off at BASE + ``cutoff_minute``."""
        lifecycle.apply_retention(self.writer, at(cutoff_minute) + timedelta(days=1))

    def check(self, festival: str, as_of: datetime) -> delayed.DelayedCounts:
        found = delayed.counts_as_of(self.reader, festival, as_of)
        assert found == recount(self.reader, festival, as_of)
        assert not self.reader.conn.in_transaction
        return found

    def close(self) -> None:
        self.writer.close()
        self.reader.close()


@pytest.fixture
def hub(db_path: Path):
    delayed.forget()
    opened = Hub(db_path)
    yield opened
    opened.close()


# -- an interleaving of everything, against the recount ------------------------------------

_databases = itertools.count()
MINUTES = st.sampled_from([0, 1, 2, 3, 5, 8, 13])
SECONDS = st.sampled_from([0, 0, 10, 29, 30, 31, 50])
tap_op = st.tuples(
    st.just("tap"),
    st.sampled_from(FESTIVALS),
    st.sampled_from(["aw-1", "aw-2"]),
    st.integers(1, 3),  # visitor
    st.sampled_from(["love", "like", "meh"]),
    st.sampled_from([0, 1, 5]),  # few instants, so that ties happen
    st.sampled_from([0, 31]),
    st.integers(0, 1),  # seq: small, so that ties happen and the id decides
    st.integers(0, 255),  # the id, in no particular order (a known one is a redelivery)
)
operations = st.lists(
    st.tuples(
        st.one_of(
            tap_op,
            tap_op,
            st.tuples(st.just("erase"), st.sampled_from(FESTIVALS), st.integers(1, 3)),
            st.tuples(st.just("expire"), MINUTES),
            st.tuples(st.just("read")),
        ),
        # Each step ends with a read at an instant that moves back and forth.
        st.sampled_from(FESTIVALS),
        MINUTES,
        SECONDS,
    ),
    min_size=1,
    max_size=40,
)


@pytest.mark.slow
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=operations)
def test_every_interleaving_reads_exactly_the_recount(db_path, steps):
    delayed.forget()
    hub = Hub(db_path.with_name(f"delayed-{next(_databases)}.db"))
    try:
        for op, read_festival, read_minute, read_second in steps:
            if op[0] == "tap":
                _, festival, artwork, who, choice, minute, second, seq, number = op
                hub.tap(
                    festival,
                    artwork=artwork,
                    who=who,
                    choice=choice,
                    minute=minute + second / 60,
                    seq=seq,
                    id=f"{number:08x}-0000-4000-8000-000000000000",
                )
            elif op[0] == "erase":
                hub.erase(op[1], op[2])
            elif op[0] == "expire":
                hub.expire(op[1])
            hub.check(read_festival, at(read_minute + read_second / 60))
        # Every instant at the end, in decreasing and then increasing order.
        instants = [at(m + s / 60) for m in (0, 2, 5, 13, 20) for s in (0, 31)]
        for instant in [*reversed(instants), *instants]:
            for festival in FESTIVALS:
                hub.check(festival, instant)
    finally:
        hub.close()


# -- the cases one by one ------------------------------------------------------------------


def test_reads_move_a_view_on_rather_than_rebuild_it(hub):
    hub.tap("strp", who=1, choice="love", minute=0)
    first = hub.check("strp", at(10))
    assert first == delayed.DelayedCounts([("aw-1", "love", 1)], 1)
    views = dict(delayed._VIEWS._views)
    assert len(views) == 1
    hub.tap("strp", who=2, choice="meh", minute=5)
    hub.tap("strp", who=1, choice="like", minute=11)  # after the instant: left out
    later = hub.check("strp", at(10) + timedelta(seconds=1))
    assert later == delayed.DelayedCounts([("aw-1", "love", 1), ("aw-1", "meh", 1)], 2)
    assert dict(delayed._VIEWS._views) == views  # the same view, moved on


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_a_tie_on_time_and_seq_goes_to_the_larger_id(hub, order):
    ids = ["00000000-0000-4000-8000-000000000001", "ffffffff-0000-4000-8000-000000000001"]
    choices = ["love", "meh"]
    hub.tap("strp", who=1, choice=choices[order[0]], minute=0, seq=1, id=ids[order[0]])
    hub.check("strp", at(10))
    hub.tap("strp", who=1, choice=choices[order[1]], minute=0, seq=1, id=ids[order[1]])
    assert hub.check("strp", at(10)).artwork_counts == [("aw-1", "meh", 1)]


def test_a_late_tap_from_an_offline_station_counts(hub):
    hub.tap("strp", who=1, choice="love", minute=0)
    hub.check("strp", at(60))
    hub.tap("strp", who=1, choice="meh", minute=1)  # stored now, tapped long ago
    assert hub.check("strp", at(60)).artwork_counts == [("aw-1", "meh", 1)]


def test_an_erasure_through_another_connection_is_seen(hub):
    hub.tap("strp", who=1, choice="love", minute=0)
    hub.tap("strp", who=2, choice="meh", minute=1)
    assert hub.check("strp", at(30)).visitors == 2
    assert hub.erase("strp", who=1).taps_erased == 1
    assert hub.check("strp", at(30)) == delayed.DelayedCounts([("aw-1", "meh", 1)], 1)


def test_retention_in_another_process_is_seen(hub):
    hub.tap("strp", who=1, choice="love", minute=0)
    hub.tap("strp", who=2, choice="meh", minute=10)
    assert hub.check("strp", at(30)).visitors == 2
    now = at(5) + timedelta(days=1)
    script = (
        "import sys\nfrom datetime import datetime\nfrom hub import lifecycle\n"
        "from storage import connect\n"
        "db = connect(sys.argv[1])\n"
        "print(sum(e.taps for e in lifecycle.apply_retention(db, datetime.fromisoformat("
        "sys.argv[2]))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(hub.path), now.isoformat()],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.stdout.strip() == "1"
    assert hub.check("strp", at(30)) == delayed.DelayedCounts([("aw-1", "meh", 1)], 1)


def test_a_reused_tap_number_is_not_missed(hub):
    # The other festival's tap is the newest; erasing it frees its number, and the next
    # tap stored (a late one, tapped before the view's watermark) gets the same number.
    hub.tap("strp", who=1, choice="love", minute=0)
    hub.tap("dfest", who=1, choice="yes", minute=0)
    hub.check("strp", at(30))
    hub.erase("dfest", who=1)
    hub.tap("strp", who=2, choice="meh", minute=1)
    assert hub.check("strp", at(30)).visitors == 2


def test_decreasing_instants_and_several_delays(hub):
    for minute in range(0, 60, 3):
        hub.tap("strp", who=minute % 5, choice=("love", "meh")[minute % 2], minute=minute)
    for minute in (59, 45, 44.99, 10, 50, 0, 59, 30):
        hub.check("strp", at(minute))
    assert len(delayed._VIEWS._views) <= delayed.MAX_VIEWS


def test_inside_a_transaction_the_recount_answers_and_no_view_keeps_it(hub):
    hub.tap("strp", who=1, choice="love", minute=0)
    hub.check("strp", at(30))
    conn = hub.reader.conn
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO taps (id, festival, station, artwork, visitor, choice, tapped_at, "
        "tapped_us, seq, received_at) SELECT 'uncommitted', festival, station, artwork, "
        "'v', choice, tapped_at, tapped_us, seq, received_at FROM taps"
    )
    inside = delayed.counts_as_of(hub.reader, "strp", at(30))
    assert inside.visitors == 2
    conn.execute("ROLLBACK")
    assert hub.check("strp", at(30)).visitors == 1


def test_a_database_in_memory_is_recounted(hub):
    memory = connect(":memory:")
    from tapshare.database import migration_sets

    for migrations in migration_sets():
        migrations.apply(memory)
    assert delayed.counts_as_of(memory, "strp", at(0)) == delayed.DelayedCounts([], 0)
    assert not delayed._VIEWS._views


def test_the_two_queries_of_a_read_are_range_scans(hub):
    def plan(sql: str, *params: object) -> str:
        rows = hub.reader.conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
        return " ".join(row[-1] for row in rows)

    assert plan(counts.STORED_SINCE, 5, "strp", 9) == (
        "SEARCH taps USING INTEGER PRIMARY KEY (rowid>?)"
    )
    assert plan(counts.TAPPED_SINCE, "strp", 1, 9, 5) == (
        "SEARCH taps USING INDEX taps_by_time (festival=? AND tapped_us>? AND tapped_us<?)"
    )
