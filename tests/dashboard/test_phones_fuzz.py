"""Bad input on the vote and visitor pages: every query parameter, cookie and form field
fuzzed. Never a 500, nothing stored but valid votes, no vote counted twice."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import connect
from tests.dashboard.phones import add_stickers, phone_app, tap_form, tap_path
from tests.harness.mqtt import wait_for
from tests.hub.running import running_hub

pytestmark = pytest.mark.e2e

# 308: the router normalising a path with an encoded slash, before any page.
ALLOWED = {200, 308, 400, 403, 404, 405, 409, 410}
hexish = st.text(alphabet="0123456789abcdefABCDEF", min_size=0, max_size=40)
values = st.one_of(
    st.none(), st.text(max_size=60), hexish, st.sampled_from(["0" * 32, "0" * 16, "", " "])
)
tags = st.one_of(
    st.sampled_from(["s-1", "s-2", "fixed", "qr", "nope", "S-1", "-x", "a" * 64]),
    st.text(min_size=1, max_size=20),
)
festivals = st.sampled_from(["strp", "ddw", "nope", "STRP", "public"])
choices = st.one_of(st.none(), st.sampled_from(["love", "like", "yes", "LOVE", ""]), st.text())
cookies = st.one_of(st.none(), st.text(max_size=60), st.just("A" * 43), st.just("A" * 42 + "="))
requests = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET", "POST"]),
        "page": st.sampled_from(["vote", "my", "erase"]),
        "festival": festivals,
        "tag": tags,
        "picc_data": values,
        "cmac": values,
        "choice": choices,
        "csrf": values,
        "extra": st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=2),
        "cookie": cookies,
    }
)


def _fields(case):
    fields = {k: case[k] for k in ("picc_data", "cmac", "choice", "csrf") if case[k] is not None}
    return {**case["extra"], **fields}


def _is_valid_vote(case) -> bool:
    # Only a static sticker can take a vote without a fresh tap.
    return (
        case["method"] == "POST"
        and case["page"] == "vote"
        and case["festival"] == "strp"
        and case["tag"] == "qr"
        and "picc_data" not in _fields(case)
        and "cmac" not in _fields(case)
        and _fields(case).get("choice") in ("love", "like", "meh", "dislike")
    )


def web_taps(db_path) -> int:
    db = connect(db_path)
    try:
        return int(db.conn.execute("SELECT count(*) FROM taps WHERE station = 'web'").fetchone()[0])
    finally:
        db.close()


def test_fuzzed_requests_never_fail_and_store_only_valid_votes(dash_db, mosquitto):
    add_stickers(dash_db)
    expected = 0
    with running_hub(dash_db, mosquitto), phone_app(dash_db, mosquitto) as app:
        # A tap already used is part of the bad input too.
        used = tap_path(dash_db, "s-2")
        client = app.test_client()
        client.get(used)
        client.post(used.split("?")[0], data={**tap_form(used), "choice": "like"})
        expected += 1

        @settings(
            max_examples=200,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(requests, st.booleans())
        def check(case, replay):
            nonlocal expected
            client = app.test_client()
            if case["cookie"] is not None:
                client.set_cookie("tapshare_visitor_strp", case["cookie"])
            festival, tag = quote(case["festival"], safe=""), quote(case["tag"], safe="")
            path = {
                "vote": f"/t/{festival}/{tag}",
                "my": f"/my/{festival}",
                "erase": f"/my/{festival}/erase",
            }[case["page"]]
            fields = _fields(case)
            if replay and case["page"] == "vote":
                path, fields = used.split("?")[0], {**tap_form(used), **fields}
            if case["method"] == "GET":
                response = client.get(path + "?" + urlencode(fields))
            else:
                response = client.post(path, data=fields)
            assert response.status_code in ALLOWED, (case, response.status_code)
            if response.status_code == 200 and case["method"] == "POST" and case["page"] == "vote":
                assert _is_valid_vote(case) and not replay, case
                expected += 1

        check()
        assert wait_for(lambda: web_taps(dash_db) == expected, 10), (web_taps(dash_db), expected)
    db = connect(dash_db)
    # No fuzzed message opened a tap or used one up: only the one real vote did.
    assert db.conn.execute("SELECT count(*) FROM sticker_taps").fetchone()[0] == 0
    rows = db.conn.execute(
        "SELECT id, last_counter IS NOT NULL FROM stickers WHERE static = 0 ORDER BY id"
    )
    assert [tuple(row) for row in rows] == [("fixed", 0), ("s-1", 0), ("s-2", 1)]
