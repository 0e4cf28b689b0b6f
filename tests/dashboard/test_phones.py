"""The vote page and the visitor's page, against a real broker and hub."""

from __future__ import annotations

import threading
import time

import pytest

from dashboard.web_votes import web_pseudonym
from hub import registry_store, stickers
from storage import connect, immediate
from tests.dashboard.phones import add_stickers, cookie_of, phone_app, tap_form, tap_path
from tests.harness.mqtt import wait_for
from tests.hub.running import running_hub

pytestmark = pytest.mark.e2e


@pytest.fixture
def phone_db(dash_db):
    add_stickers(dash_db)
    return dash_db


@pytest.fixture
def live(phone_db, mosquitto):
    with running_hub(phone_db, mosquitto), phone_app(phone_db, mosquitto) as app:
        yield app


@pytest.fixture
def phone(live):
    return live.test_client()


def web_taps(db_path):
    db = connect(db_path)
    try:
        rows = db.conn.execute(
            "SELECT artwork, visitor, choice FROM taps WHERE station = 'web' ORDER BY tap_no"
        )
        return [tuple(row) for row in rows]
    finally:
        db.close()


def vote(client, db_path, tag="s-1", choice="like", **headers):
    path = tap_path(db_path, tag)
    opened = client.get(path, headers=headers)
    assert opened.status_code == 200, opened.get_data(as_text=True)
    return path, client.post(path.split("?")[0], data={**tap_form(path), "choice": choice})


def test_a_tap_opens_the_vote_page_and_sets_the_visitor_cookie(phone, phone_db):
    response = phone.get(tap_path(phone_db))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Cloud" in html and "STRP" in html
    for choice in ("love", "like", "meh", "dislike"):
        assert f'name="choice" value="{choice}"' in html
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script" not in html


def test_a_vote_is_recorded_as_an_opinion_of_the_web_station(phone, phone_db):
    path, response = vote(phone, phone_db)
    assert response.status_code == 200
    assert "Recorded: Like it." in response.get_data(as_text=True)
    assert wait_for(lambda: len(web_taps(phone_db)) == 1, 5)
    visitor_id = cookie_of(response)
    key = registry_store.get_festival(connect(phone_db), "strp").visitor_key
    assert web_taps(phone_db) == [("aw-1", web_pseudonym(visitor_id, key), "like")]
    again = phone.post(path.split("?")[0], data={**tap_form(path), "choice": "love"})
    assert again.status_code == 409
    assert phone.get(path).status_code == 409
    time.sleep(0.3)
    assert len(web_taps(phone_db)) == 1


def test_a_new_tap_replaces_the_visitors_opinion_and_another_browser_is_another_visitor(
    live, phone_db
):
    first, second = live.test_client(), live.test_client()
    vote(first, phone_db, choice="like")
    vote(first, phone_db, choice="meh")
    vote(second, phone_db, choice="love")
    assert wait_for(lambda: len(web_taps(phone_db)) == 3, 5)
    board = registry_store.get_festival(connect(phone_db), "strp")
    assert board is not None
    db = connect(phone_db)
    counts = dict(
        db.conn.execute(
            "SELECT choice, n FROM opinion_counts WHERE festival = 'strp' AND artwork = 'aw-1'"
        ).fetchall()
    )
    assert {k: v for k, v in counts.items() if v} == {"meh": 1, "love": 1}


def test_a_sticker_with_a_fixed_choice_asks_only_to_confirm_it(phone, phone_db):
    path = tap_path(phone_db, "fixed")
    html = phone.get(path).get_data(as_text=True)
    assert html.count('name="choice"') == 1 and "Confirm: Love it" in html
    wrong = phone.post(path.split("?")[0], data={**tap_form(path), "choice": "meh"})
    assert wrong.status_code == 400
    right = phone.post(path.split("?")[0], data={**tap_form(path), "choice": "love"})
    assert right.status_code == 200
    assert wait_for(lambda: web_taps(phone_db) and web_taps(phone_db)[0][2] == "love", 5)


def test_a_static_sticker_needs_no_tap(phone, phone_db):
    assert phone.get("/t/strp/qr").status_code == 200
    assert phone.post("/t/strp/qr", data={"choice": "love"}).status_code == 200
    assert phone.get("/t/strp/qr?picc_data=" + "0" * 32 + "&cmac=" + "0" * 16).status_code == 400


@pytest.mark.parametrize(
    ("path", "status", "english", "dutch"),
    [
        ("/t/strp/nope?picc_data=00&cmac=00", 404, "not in use", "niet in gebruik"),
        ("/t/nofest/s-1", 404, "not in use", "niet in gebruik"),
        ("/t/strp/s-1", 400, "incomplete", "onvolledig"),
        ("/t/strp/s-1?picc_data=xyz&cmac=00", 400, "incomplete", "onvolledig"),
        (
            f"/t/strp/s-1?picc_data={'A' * 32}&cmac={'B' * 16}",
            403,
            "could not be checked",
            "niet worden gecontroleerd",
        ),
    ],
)
def test_refusals_have_their_own_status_and_page_in_both_languages(
    phone, path, status, english, dutch
):
    response = phone.get(path, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert response.status_code == status
    assert english in response.get_data(as_text=True)
    dutch_page = phone.get(path, headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"})
    assert dutch_page.status_code == status
    html = dutch_page.get_data(as_text=True)
    assert dutch in html and '<html lang="nl">' in html


def test_a_disabled_sticker_is_refused(phone, phone_db):
    path = tap_path(phone_db)
    stickers.disable(connect(phone_db), "strp", "s-1")
    assert phone.get(path).status_code == 404


def test_a_tap_older_than_ten_minutes_is_gone(phone, phone_db):
    path = tap_path(phone_db)
    assert phone.get(path).status_code == 200
    db = connect(phone_db)
    with immediate(db):
        db.conn.execute("UPDATE sticker_taps SET opened_us = opened_us - 601 * 1000000")
    response = phone.post(path.split("?")[0], data={**tap_form(path), "choice": "like"})
    assert response.status_code == 410
    assert "too old" in response.get_data(as_text=True)
    assert phone.get(path, headers={"Accept-Language": "nl"}).status_code == 410


def test_concurrent_votes_with_one_tap_record_one(live, phone_db):
    path = tap_path(phone_db)
    action, form = path.split("?")[0], {**tap_form(path), "choice": "love"}
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def post():
        client = live.test_client()
        barrier.wait()
        statuses.append(client.post(action, data=form).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * 5
    time.sleep(0.5)
    assert len(web_taps(phone_db)) == 1


def test_the_visitors_page_lists_and_erases(phone, phone_db):
    vote(phone, phone_db, "s-1", "like")
    vote(phone, phone_db, "s-2", "meh")
    assert wait_for(lambda: len(web_taps(phone_db)) == 2, 5)
    page = phone.get("/my/strp").get_data(as_text=True)
    assert "Cloud" in page and "Tide" in page and "Like it" in page and "Meh" in page
    assert "ISO/IEC TS 27560" in page and "Who can see your opinions" in page
    token = page.split('name="csrf" value="')[1].split('"')[0]
    assert phone.post("/my/strp/erase", data={"csrf": "x" * 64}).status_code == 403
    assert phone.post("/my/strp/erase").status_code == 403
    erased = phone.post("/my/strp/erase", data={"csrf": token})
    assert erased.status_code == 200 and "is recorded" in erased.get_data(as_text=True)
    assert wait_for(lambda: web_taps(phone_db) == [], 5)
    assert "no opinions" in phone.get("/my/strp").get_data(as_text=True)


def test_another_browser_cannot_erase_with_a_token_it_copied(live, phone_db):
    owner, other = live.test_client(), live.test_client()
    vote(owner, phone_db)
    assert wait_for(lambda: len(web_taps(phone_db)) == 1, 5)
    token = owner.get("/my/strp").get_data(as_text=True).split('name="csrf" value="')[1][:64]
    vote(other, phone_db, "s-2")
    assert other.post("/my/strp/erase", data={"csrf": token}).status_code == 403
    assert wait_for(lambda: len(web_taps(phone_db)) == 2, 5)


def test_cookies_are_secure_over_https(phone, phone_db):
    response = phone.get(tap_path(phone_db), base_url="https://festival.example")
    assert "Secure" in response.headers["Set-Cookie"]


def test_without_a_broker_the_vote_pages_answer_503(client, dash_db):
    add_stickers(dash_db)
    path = tap_path(dash_db)
    for response in (
        client.get(path),
        client.post(path.split("?")[0], data={**tap_form(path), "choice": "like"}),
        client.post("/my/strp/erase", data={"csrf": "x"}),
    ):
        assert response.status_code == 503
        assert "not set up" in response.get_data(as_text=True)
    db = connect(dash_db)
    assert db.conn.execute("SELECT count(*) FROM sticker_taps").fetchone()[0] == 0
    assert client.get("/my/strp").status_code == 200


def test_a_vote_while_the_broker_is_down_is_kept_and_counted_when_it_is_back(phone_db, mosquitto):
    with running_hub(phone_db, mosquitto), phone_app(phone_db, mosquitto) as app:
        phone = app.test_client()
        path = tap_path(phone_db)
        assert phone.get(path).status_code == 200
        mosquitto.stop()
        response = phone.post(path.split("?")[0], data={**tap_form(path), "choice": "love"})
        assert response.status_code == 200
        assert "kept and will be counted shortly" in response.get_data(as_text=True)
        assert web_taps(phone_db) == []
        mosquitto.start()
        assert wait_for(lambda: len(web_taps(phone_db)) == 1, 20)


def test_a_tap_works_only_at_its_own_sticker_and_festival(phone, phone_db, dash_db):
    path = tap_path(phone_db, "s-1")
    query = path.split("?")[1]
    # Another sticker of the festival: the message does not verify under its keys.
    assert phone.get(f"/t/strp/s-2?{query}").status_code == 403
    # Another festival has no such sticker.
    assert phone.get(f"/t/ddw/s-1?{query}").status_code == 404
    form = {**tap_form(path), "choice": "yes"}
    assert phone.post("/t/ddw/s-1", data=form).status_code == 404
    assert phone.post("/t/strp/s-2", data={**form, "choice": "love"}).status_code == 403
    # The tap is still good where it belongs.
    assert phone.get(path).status_code == 200
    time.sleep(0.3)
    assert web_taps(phone_db) == []


def test_a_visitor_cookie_of_one_festival_means_nothing_at_another(phone, phone_db):
    vote(phone, phone_db)
    assert wait_for(lambda: len(web_taps(phone_db)) == 1, 5)
    assert "no opinions" in phone.get("/my/ddw").get_data(as_text=True)
    assert phone.post("/my/ddw/erase", data={"csrf": "0" * 64}).status_code == 403
