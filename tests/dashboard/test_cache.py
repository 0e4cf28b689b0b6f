"""The board cache: one computation while nothing changes, a new one after any commit."""

from __future__ import annotations

import time

import pytest

import dashboard.database
from dashboard.cache import BoardCache
from dashboard.commits import CommitWatcher
from storage import connect, immediate
from tests.dashboard.conftest import keyed


@pytest.fixture
def cache_of(dash_db):
    """Makes board caches of the test database that keep boards ``max_age`` seconds."""
    watchers = []

    def make(max_age):
        watchers.append(CommitWatcher(dash_db))
        return BoardCache(watchers[-1], max_age)

    yield make
    for watcher in watchers:
        watcher.close()


def counter():
    """A board computation that returns how often it ran."""
    computed = []

    def compute():
        computed.append(1)
        return {"n": len(computed)}

    return compute, computed


def test_boards_are_reused_until_a_commit(dash_db, cache_of):
    cache = cache_of(3600)
    compute, computed = counter()
    first = cache.get("strp", compute)
    assert cache.get("strp", compute) is first and len(computed) == 1
    assert cache.get("ddw", compute) == {"n": 2}
    db = connect(dash_db)
    with immediate(db):
        db.execute("insert into dashboard_settings (name, value) values ('x', 'y')")
    db.close()
    assert cache.get("strp", compute) == {"n": 3}
    assert cache.get("strp", compute) == {"n": 3}


def test_a_board_computed_before_a_moment_is_not_served_after_it(cache_of):
    cache = cache_of(3600)
    compute, _ = counter()
    cache.get("strp", compute)
    moment = time.monotonic()
    assert cache.get("strp", compute, since=moment) == {"n": 2}
    assert cache.get("strp", compute, since=moment) == {"n": 2}
    assert cache.get("strp", compute) == {"n": 2}


def test_a_zero_max_age_never_keeps_a_board(cache_of):
    cache = cache_of(0)
    compute, computed = counter()
    cache.get("strp", compute)
    cache.get("strp", compute)
    assert len(computed) == 2


def test_a_kept_board_is_served_without_a_connection_and_unknown_ids_still_fail(
    client, monkeypatch, screen_keys
):
    assert client.get(keyed("/api/v1/boards/strp", screen_keys)).status_code == 200
    # The key's first use is recorded (a commit, at most once a minute): the board and
    # the key are looked up once more after it.
    assert client.get(keyed("/api/v1/boards/strp", screen_keys)).status_code == 200
    opened = []
    real = dashboard.database.connect
    monkeypatch.setattr(
        dashboard.database, "connect", lambda *a, **k: opened.append(1) or real(*a, **k)
    )
    again = client.get(keyed("/api/v1/boards/strp", screen_keys))
    assert again.status_code == 200 and opened == []
    assert client.get("/api/v1/boards/nope").status_code == 404
    assert opened == [1]


def test_a_kept_public_board_is_titled_in_each_readers_language(client):
    dutch = client.get("/boards/public", headers={"Accept-Language": "nl"})
    english = client.get("/boards/public", headers={"Accept-Language": "en"})
    assert "<h1>Openbaar bord</h1>" in dutch.get_data(as_text=True)
    assert "<h1>Public board</h1>" in english.get_data(as_text=True)
