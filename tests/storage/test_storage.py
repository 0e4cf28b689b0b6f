"""The one connection setup, the one transaction tool and the one time format."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from consent.store import PolicyStore
from dashboard import accounts, screens
from storage import connect, immediate, now_text, rewrite_times
from tapshare.database import migrate


def test_every_connection_has_foreign_keys_wal_and_named_rows(tmp_path: Path) -> None:
    for synchronous, level in (("NORMAL", 1), ("FULL", 2)):
        db = connect(tmp_path / "hub.db", synchronous)
        try:
            pragma = db.conn.execute
            assert pragma("PRAGMA foreign_keys").fetchone()[0] == 1
            assert pragma("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert pragma("PRAGMA synchronous").fetchone()[0] == level
            assert pragma("PRAGMA busy_timeout").fetchone()[0] == 30_000
            assert pragma("SELECT 1 AS one").fetchone()["one"] == 1
        finally:
            db.close()


def test_an_unknown_synchronous_level_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="OFF, NORMAL or FULL"):
        connect(tmp_path / "hub.db", "EXTRA")
    assert not (tmp_path / "hub.db").exists()


def _table(db: Database) -> Database:
    db.conn.execute("CREATE TABLE t (x INTEGER)")
    return db


def _values(db: Database) -> list[int]:
    return [row["x"] for row in db.conn.execute("SELECT x FROM t ORDER BY x")]


def test_a_nested_immediate_commits_nothing_until_the_outer_one_ends(tmp_path: Path) -> None:
    db = _table(connect(tmp_path / "hub.db"))
    other = connect(tmp_path / "hub.db")
    with immediate(db):
        db.conn.execute("INSERT INTO t VALUES (1)")
        with immediate(db):
            db.conn.execute("INSERT INTO t VALUES (2)")
        assert db.conn.in_transaction
        assert _values(other) == []  # nothing committed by the inner one
    assert _values(other) == [1, 2]


def test_a_failing_nested_immediate_undoes_only_its_own_part(tmp_path: Path) -> None:
    db = _table(connect(tmp_path / "hub.db"))
    with immediate(db):
        db.conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(RuntimeError), immediate(db):
            db.conn.execute("INSERT INTO t VALUES (2)")
            raise RuntimeError("inner")
    assert _values(db) == [1]
    with pytest.raises(RuntimeError), immediate(db):
        db.conn.execute("INSERT INTO t VALUES (3)")
        raise RuntimeError("outer")
    assert _values(db) == [1] and not db.conn.in_transaction


def test_immediate_takes_the_write_lock_at_once(tmp_path: Path) -> None:
    db = _table(connect(tmp_path / "hub.db"))
    other = connect(tmp_path / "hub.db")
    other.conn.execute("PRAGMA busy_timeout = 50")
    entered = threading.Event()
    with immediate(db):
        entered.set()
        with pytest.raises(sqlite3.OperationalError, match="locked"), immediate(other):
            pass  # pragma: no cover - the lock is held
    assert entered.is_set() and not other.conn.in_transaction


def test_rewrite_times_brings_old_formats_to_the_one_and_leaves_the_rest(tmp_path: Path) -> None:
    db = connect(tmp_path / "hub.db")
    db.conn.execute("CREATE TABLE t (at TEXT)")
    old = ["2026-05-01T20:00:00Z", "2026-05-01T20:00:00.123456Z", "2026-05-01T20:00:00.5Z"]
    db.conn.executemany("INSERT INTO t VALUES (?)", [(v,) for v in [*old, "soon", None]])
    assert rewrite_times(db, "t", ["at"]) == 3
    assert [r["at"] for r in db.conn.execute("SELECT at FROM t ORDER BY rowid")] == [
        "2026-05-01T20:00:00.000Z",
        "2026-05-01T20:00:00.123Z",
        "2026-05-01T20:00:00.500Z",
        "soon",
        None,
    ]
    assert rewrite_times(db, "t", ["at"]) == 0


def _forget(db: Database, migration_set: str, name: str) -> None:
    with immediate(db):
        db.conn.execute(
            "DELETE FROM _sqlite_migrations WHERE migration_set = ? AND name = ?",
            (migration_set, name),
        )


def test_rows_in_the_old_formats_read_back_after_migrating(db_path: Path, registered) -> None:
    """Rows as the consent layer (to the second, or microseconds) and the dashboard
    (microseconds for accounts, seconds for screen keys) wrote them before there was one
    format; the numbered migrations rewrite them, and they read back as they were."""
    db = connect(db_path)
    version_at, read_at = "2026-05-01T20:00:00Z", "2026-05-01T20:10:00.250000Z"
    with immediate(db):
        db.conn.execute(
            "INSERT INTO consent_policy_versions VALUES ('strp', 1, ?, 'ann', 'why', ?)",
            ('{"rules": []}', version_at),
        )
        db.conn.execute(
            "INSERT INTO consent_access_log (festival, accessor, viewer, action, "
            "policy_version, at) VALUES ('strp', 'operator', 'operator', 'export', 1, ?)",
            (read_at,),
        )
    assert accounts.add_organiser(db, "strp", "ann@example.org", "a long passphrase")
    token = accounts.open_session(db, accounts.Organiser(1, "ann@example.org", ("strp",)))
    key = screens.add_screen(db, "strp", "foyer")
    screen_made = "2026-05-01T19:00:00Z"
    expires = "2999-01-01T00:00:00.000001Z"
    with immediate(db):
        db.conn.execute("UPDATE dashboard_sessions SET expires_at = ?", (expires,))
        db.conn.execute("UPDATE dashboard_screen_keys SET created_at = ?", (screen_made,))
    _forget(db, "consent", "0002_times_in_milliseconds")
    _forget(db, "dashboard", "0005_times_in_milliseconds")
    db.close()

    assert migrate(db_path) == [
        "consent:0002_times_in_milliseconds",
        "dashboard:0005_times_in_milliseconds",
    ]
    db = connect(db_path)
    store = PolicyStore(db)
    assert store.version("strp", 1).created_at == datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
    (record,) = store.access_log("strp")
    assert record.at == datetime(2026, 5, 1, 20, 10, 0, 250_000, tzinfo=UTC)
    assert accounts.session_organiser(db, token) is not None
    (screen,) = screens.screens(db, "strp")
    assert screen.created_at == "2026-05-01T19:00:00.000Z"
    assert screens.festival_of(db, screens.key_hash(key)) == "strp"
    texts = [
        db.conn.execute(sql).fetchone()[0]
        for sql in (
            "SELECT created_at FROM consent_policy_versions",
            "SELECT at FROM consent_access_log",
            "SELECT expires_at FROM dashboard_sessions",
            "SELECT created_at FROM dashboard_organisers",
        )
    ]
    assert texts[:3] == [
        "2026-05-01T20:00:00.000Z",
        "2026-05-01T20:10:00.250Z",
        "2999-01-01T00:00:00.000Z",
    ]
    assert len(texts[3]) == len(now_text()) and texts[3].endswith("Z")
    db.close()
