"""The board cache: one computation while nothing changes, a new one after any commit."""

from __future__ import annotations

import dashboard.database
from dashboard.cache import BoardCache
from tapshare.database import connect
from tests.dashboard.conftest import keyed


def test_boards_are_reused_until_a_commit(dash_db):
    cache = BoardCache(dash_db, max_age=3600)
    computed = []

    def compute():
        computed.append(1)
        return {"n": len(computed)}

    first = cache.get("strp", compute)
    assert cache.get("strp", compute) is first and len(computed) == 1
    assert cache.get("ddw", compute).body == {"n": 2}
    db = connect(dash_db)
    with db.conn:
        db.execute("insert into dashboard_settings (name, value) values ('x', 'y')")
    db.close()
    assert cache.get("strp", compute).body == {"n": 3}
    assert cache.get("strp", compute).json == b'{"n":3}'
    cache.close()


def test_a_zero_max_age_never_keeps_a_board(dash_db):
    cache = BoardCache(dash_db, max_age=0)
    computed = []
    cache.get("strp", lambda: {"n": computed.append(1) or len(computed)})
    cache.get("strp", lambda: {"n": computed.append(1) or len(computed)})
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
