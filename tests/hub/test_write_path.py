"""The writer's fast path gives exactly what the plain definitions give (signatures, time
stamps, the text of ``received_at``), and the writer process answers in typed messages."""

from __future__ import annotations

import hmac
import multiprocessing
import time
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hub import write_path, writer
from hub.validate import Verifier, _instant
from protocol import Opinion, format_timestamp, parse_timestamp
from protocol.signing import verify_canonical
from tests.hub.messages import BASE, opinion

keys = st.binary(min_size=32, max_size=32)


@given(keys, st.binary(max_size=600))
def test_the_verifier_accepts_exactly_the_hmac(key, canonical):
    sig = hmac.digest(key, canonical, "sha256").hex()
    verifier = Verifier(key)
    assert verifier.verify(canonical, sig)
    assert verify_canonical(canonical, sig, key)
    wrong = ("0" if sig[0] != "0" else "1") + sig[1:]
    assert not verifier.verify(canonical, wrong)
    assert not verifier.verify(canonical + b" ", sig)


@given(keys, keys, st.binary(max_size=100))
def test_the_verifier_refuses_another_key(key, other, canonical):
    sig = hmac.digest(other, canonical, "sha256").hex()
    assert Verifier(key).verify(canonical, sig) == (key == other)


moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)
)


@given(moments, st.sampled_from(["", ".5", ".123", ".123456", ".123456789"]))
def test_instant_reads_what_parse_timestamp_reads(moment, fraction):
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"
    assert _instant(text) == parse_timestamp(text)


_OPINION = Opinion.build(
    id="0b2e4c1a-1f7e-4c8e-9d3b-5a6f7e8d9c0b",
    festival="strp",
    station="st-01",
    artwork="aw-1",
    visitor="ab" * 32,
    choice="love",
    tapped_at=BASE,
    seq=1,
    station_secret=bytes(32),
)


@given(st.lists(st.integers(min_value=0, max_value=5_000_000), min_size=1, max_size=50))
def test_received_texts_are_each_format_timestamp(offsets):
    items = [
        write_path.StoreOpinion(_OPINION, BASE + timedelta(microseconds=us), 0)
        for us in sorted(offsets)
    ]
    texts: dict[int, str] = {}
    assert [write_path._received_text(i.received_at, texts) for i in items] == [
        format_timestamp(i.received_at) for i in items
    ]


def test_the_writer_answers_in_typed_messages_with_its_cpu_time(db, registered, db_path):
    messages = [opinion(registered.st1, who=n, minute=n) for n in range(30)]
    frames = [
        ("tapshare/v1/strp/st-01/opinion", m.payload(), time.time(), False, 1) for m in messages
    ]
    frames.append(("tapshare/v1/strp/st-01/nonsense", b"{}", time.time(), False, 1))
    context = multiprocessing.get_context("spawn")
    conn, child = context.Pipe()
    settings = writer.WriterSettings(db_path, "FULL", 8, 3600.0)
    process = context.Process(target=writer.serve, args=(child, settings), daemon=True)
    process.start()
    child.close()
    try:
        ready = conn.recv()
        assert isinstance(ready, writer.Ready) and ready.cpu_seconds > 0
        conn.send(frames[:16])
        conn.send(frames[16:])
        answers = []
        while sum(a.count for a in answers if isinstance(a, writer.Committed)) < len(frames):
            answers.append(conn.recv())
        committed = [a for a in answers if isinstance(a, writer.Committed)]
        assert all(a.count <= 8 for a in committed)
        assert sum(a.outcome.stored for a in committed) == 30
        assert sum(sum(a.outcome.rejected.values()) for a in committed) == 1
        cpu = [ready.cpu_seconds] + [a.cpu_seconds for a in committed]
        assert cpu == sorted(cpu)
        conn.send(None)
        while not isinstance(answer := conn.recv(), writer.Stopped):
            assert isinstance(answer, writer.LogLine | writer.Committed)
    finally:
        process.join(30)
    assert process.exitcode == 0
    assert db.conn.execute("SELECT count(*) FROM taps").fetchone()[0] == 30


def test_taps_are_found_by_index_for_erasure_and_delayed_views(db):
    """Erasure finds a visitor's taps by (festival, visitor), and a delayed view reads a
    festival's taps up to an instant by (festival, tapped_us): neither scans the table."""
    from hub import counts

    def plan(sql: str, *params: object) -> str:
        rows = db.conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
        return " ".join(row[-1] for row in rows)

    assert plan("DELETE FROM taps WHERE festival = ? AND visitor = ?", "strp", "v") == (
        "SEARCH taps USING COVERING INDEX taps_by_visitor (festival=? AND visitor=?)"
    )
    assert plan(counts.TAPS_UP_TO, "strp", 5) == (
        "SEARCH taps USING INDEX taps_by_time (festival=? AND tapped_us<?)"
    )
