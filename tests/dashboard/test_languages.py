"""Pages in the visitor's language: Dutch or English from ``Accept-Language``."""

from __future__ import annotations

import re

import pytest

from hub import registry
from tapshare.database import connect
from tests.dashboard.conftest import keyed, login

DUTCH = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def lang_of(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', html)
    assert found, "no <html lang>"
    return found.group(1)


@pytest.mark.parametrize(
    ("path", "dutch", "english"),
    [
        ("/", "Festivals", "Festivals"),
        ("/boards/public", "Openbaar bord", "Public board"),
        ("/festivals/strp", "Wie het kan zien", "Who can see it"),
        ("/organiser/login", "Inloggen voor organisatoren", "Organiser login"),
        ("/boards/strp", "Dit bord heeft een schermsleutel nodig", "This board needs a screen key"),
        ("/nowhere", "Op dit adres staat geen pagina.", "There is no page at this address."),
    ],
)
def test_public_pages_follow_accept_language(client, path, dutch, english):
    nl = client.get(path, headers=DUTCH).get_data(as_text=True)
    en = client.get(path, headers=ENGLISH).get_data(as_text=True)
    assert (lang_of(nl), lang_of(en)) == ("nl", "en")
    assert dutch in nl and english in en
    if dutch != english:
        assert english not in nl and dutch not in en


def test_the_organiser_pages_speak_dutch(client, dash_db, screen_keys):
    login(client)
    pages = {
        "/organiser/strp/": "Kunstwerken en stations",
        "/organiser/strp/policy": "Opslaan als nieuwe versie",
        "/organiser/strp/history": "Geschiedenis van het beleid",
        "/organiser/strp/access-log": "Niemand anders heeft je gegevens gelezen.",
        "/organiser/strp/receipts": "Toestemmingsbewijzen",
        "/organiser/strp/analyse": "De analyse tonen",
        "/organiser/strp/exports": "Export klaarmaken",
        "/organiser/strp/screens": "Een schermsleutel maken",
    }
    for path, words in pages.items():
        response = client.get(path, headers=DUTCH)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert lang_of(html) == "nl" and words in html, path
    board = client.get(keyed("/boards/strp", screen_keys), headers=DUTCH).get_data(as_text=True)
    assert lang_of(board) == "nl" and "Onze eigen bezoekers" in board


def test_the_api_keeps_english_messages_beside_stable_codes(client):
    body = client.get("/api/v1/boards/nowhere", headers=DUTCH).get_json()
    assert body["error"] == "not_found" and body["status"] == 404
    assert "festival" in body["message"] or "not found" in body["message"].lower()


def test_the_switch_keeps_the_choice_in_a_cookie_and_returns_to_the_page(client):
    page = client.get("/festivals/strp", headers=ENGLISH).get_data(as_text=True)
    switch = re.search(r'<a href="([^"]+)" lang="nl" hreflang="nl">Nederlands</a>', page)
    assert switch, "no switch to Dutch on the page"
    assert switch.group(1) == "/language/nl?next=/festivals/strp"
    response = client.get(switch.group(1))
    assert response.status_code == 303 and response.headers["Location"] == "/festivals/strp"
    assert "tapshare_lang=nl" in response.headers["Set-Cookie"]
    # The choice wins over the browser's Accept-Language, on every page.
    html = client.get("/festivals/strp", headers=ENGLISH).get_data(as_text=True)
    assert lang_of(html) == "nl" and "Wie het kan zien" in html
    assert '<a href="/language/en?next=/festivals/strp" lang="en" hreflang="en">English</a>' in html
    client.get("/language/en?next=/")
    assert lang_of(client.get("/", headers=DUTCH).get_data(as_text=True)) == "en"


def test_the_switch_keeps_the_query_and_never_leaves_the_site(client):
    page = client.get("/organiser/login?next=/organiser/strp/", headers=ENGLISH)
    assert "/language/nl?next=/organiser/login%3Fnext%3D/organiser/strp/" in page.get_data(
        as_text=True
    )
    # An unknown language changes nothing.
    response = client.get("/language/fr?next=/")
    assert response.status_code == 303 and "Set-Cookie" not in response.headers
    assert lang_of(client.get("/", headers=ENGLISH).get_data(as_text=True)) == "en"
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "", "x"):
        response = client.get("/language/nl", query_string={"next": target})
        assert response.headers["Location"] == "/", target


def test_pages_say_they_vary_by_language(client):
    vary = client.get("/", headers=DUTCH).headers["Vary"]
    assert "Accept-Language" in vary and "Cookie" in vary


def test_a_cookie_with_another_value_falls_back_to_accept_language(client):
    client.set_cookie("tapshare_lang", "<script>")
    assert lang_of(client.get("/", headers=DUTCH).get_data(as_text=True)) == "nl"
    assert (
        lang_of(client.get("/", headers={"Accept-Language": "fr, de"}).get_data(as_text=True))
        == "en"
    )


def test_dates_and_numbers_follow_the_language_and_the_festivals_time_zone(client, dash_db):
    from tests.dashboard.policies import permit, set_policy

    set_policy(dash_db, "strp", [permit("public")])
    login(client)
    english = client.get("/organiser/strp/history", headers=ENGLISH).get_data(as_text=True)
    dutch = client.get("/organiser/strp/history", headers=DUTCH).get_data(as_text=True)
    assert re.search(
        r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2} CES?T by test@example.org", english
    )
    assert re.search(
        r"\d{1,2} [a-z]{3}\.? \d{4}.{1,3}\d{2}:\d{2} CES?T door test@example.org", dutch
    )
    db = connect(dash_db)
    registry.set_festival(db, "strp", timezone="Europe/London")
    db.close()
    english = client.get("/organiser/strp/history", headers=ENGLISH).get_data(as_text=True)
    assert re.search(r"\d{2}:\d{2} (GMT|BST) by test@example.org", english)


def test_the_live_board_updates_in_the_readers_language(app, dash_db, screen_keys):
    from tests.dashboard.live import EventStream, LiveServer
    from tests.dashboard.opinions import set_station_state

    live = LiveServer(app)
    try:
        path = keyed("/boards/strp/events", screen_keys)
        dutch = EventStream(live.port, path, headers=DUTCH)
        english = EventStream(live.port, path, headers=ENGLISH)
        assert "Onze eigen bezoekers" in dutch.next_event().data
        assert "Our own visitors" in english.next_event().data
        set_station_state(dash_db, "strp", "st-01", "offline")
        assert "1 station offline (st-01): nieuwe meningen" in dutch.next_event().data
        assert "1 station offline (st-01): new opinions" in english.next_event().data
        dutch.close()
        english.close()
    finally:
        live.close()


def test_error_pages_speak_the_readers_language(client, dash_db):
    # A form without its security token, an organiser of another festival, a wrong method.
    page = client.post("/organiser/login", data={}, headers=DUTCH)
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and lang_of(html) == "nl"
    assert "400 Ongeldig verzoek" in html and "beveiligingstoken" in html
    login(client)
    forbidden = client.get("/organiser/ddw/", headers=DUTCH)
    assert forbidden.status_code == 403
    assert "Je beheert dit festival niet." in forbidden.get_data(as_text=True)
    english = client.get("/organiser/ddw/", headers=ENGLISH).get_data(as_text=True)
    assert "403 Forbidden" in english and "You do not manage this festival." in english
    wrong = client.delete("/", headers=DUTCH).get_data(as_text=True)
    assert "405 Methode niet toegestaan" in wrong
