"""The outbox: durable appends with a seq that survives restarts, bounded, ordered."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from reader_agent.outbox import Outbox, OutboxError, OutboxFull


def payload(seq: int) -> bytes:
    return f'{{"seq":{seq}}}'.encode()


def test_append_gives_increasing_seqs_that_survive_a_restart(tmp_path: Path):
    outbox = Outbox(tmp_path / "outbox.db")
    assert [outbox.append("t", payload) for _ in range(3)] == [0, 1, 2]
    outbox.delete([0, 1, 2])
    assert len(outbox) == 0
    outbox.close()
    # Deleted messages do not give their seqs back.
    again = Outbox(tmp_path / "outbox.db")
    assert again.next_seq() == 3
    assert again.append("t", payload) == 3
    assert [m.payload for m in again.pending()] == [b'{"seq":3}']


def test_pending_is_in_seq_order_and_pages(tmp_path: Path):
    outbox = Outbox(tmp_path / "outbox.db")
    for _ in range(5):
        outbox.append("topic/a", payload)
    assert [m.seq for m in outbox.pending(limit=2)] == [0, 1]
    assert [m.seq for m in outbox.pending(after=1, limit=10)] == [2, 3, 4]
    outbox.delete([3])
    assert [m.seq for m in outbox.pending()] == [0, 1, 2, 4]
    assert len(outbox) == 4


def test_a_failing_build_stores_nothing_and_keeps_the_seq(tmp_path: Path):
    outbox = Outbox(tmp_path / "outbox.db")

    def broken(seq: int) -> bytes:
        raise ValueError("cannot sign")

    with pytest.raises(ValueError):
        outbox.append("t", broken)
    assert len(outbox) == 0
    assert outbox.append("t", payload) == 0


def test_a_full_outbox_refuses_without_losing_anything(tmp_path: Path):
    outbox = Outbox(tmp_path / "outbox.db", limit=10)
    for _ in range(10):
        outbox.append("t", payload)
    assert outbox.full
    with pytest.raises(OutboxFull):
        outbox.append("t", payload)
    assert [m.seq for m in outbox.pending(limit=100)] == list(range(10))
    outbox.delete([0])
    assert outbox.append("t", payload) == 10


def test_appends_are_committed_in_wal_mode(tmp_path: Path):
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.append("t", payload)
    # Another connection (another process after a crash) sees the committed row.
    other = sqlite3.connect(tmp_path / "outbox.db")
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert other.execute("SELECT count(*) FROM messages").fetchone()[0] == 1


def test_an_unusable_file_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "outbox.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError, match="cannot open the outbox"):
        Outbox(path)
