"""Artworks, stations, organisers and stickers managed from the organiser area: the same
validation as the command line, a new station's file once, a new sticker's keys once, and
another festival's organiser refused even with a valid token of their own."""

from __future__ import annotations

import base64
import html
import re
import tomllib

from dashboard.accounts import festival_organisers
from hub import registry_store, stickers
from hub.passwords import check_password
from storage import connect
from tests.dashboard.conftest import OTHER, OWNER, PASSWORD, csrf_of, login


def _db(app):
    return connect(app.config["TAPSHARE_DB"])


def test_an_artwork_is_added_with_the_registrys_checks(app, client):
    token = login(client)
    bad = client.post(
        "/organiser/strp/artworks", data={"csrf_token": token, "artwork": "Bad Id", "title": "X"}
    )
    assert bad.status_code == 400
    page = html.unescape(bad.get_data(as_text=True))
    assert "artwork id" in page and 'value="Bad Id"' in page  # what was typed stays
    twice = client.post(
        "/organiser/strp/artworks", data={"csrf_token": token, "artwork": "aw-1", "title": "X"}
    )
    assert twice.status_code == 400 and "already registered" in twice.get_data(as_text=True)
    added = client.post(
        "/organiser/strp/artworks",
        data={"csrf_token": token, "artwork": "lantern", "title": "Lantern"},
        follow_redirects=True,
    )
    assert added.status_code == 200
    assert "Artwork Lantern (lantern) added." in added.get_data(as_text=True)
    db = _db(app)
    assert [a.id for a in registry_store.list_artworks(db, "strp")] == [
        "aw-1",
        "aw-2",
        "aw-3",
        "lantern",
    ]
    db.close()


def _download(page: str) -> str:
    found = re.search(r'href="data:application/toml;base64,([^"]+)" download="station.toml"', page)
    assert found, "no download link"
    return base64.b64decode(found.group(1)).decode()


def test_a_new_stations_file_is_offered_once(app, client):
    token = login(client)
    response = client.post(
        "/organiser/strp/stations", data={"csrf_token": token, "station": "hall"}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    text = _download(page)
    settings = tomllib.loads(text)
    assert (settings["festival"], settings["station"]) == ("strp", "hall")
    assert settings["choices"] == ["love", "like", "meh", "dislike"]
    assert settings["broker"].startswith("mqtt://strp.hall:")
    assert '# artwork = "aw-1"' in text  # the commented readers example, as on the CLI
    password = settings["broker"].split(":")[2].split("@")[0]
    assert text in html.unescape(page)  # shown on the page too
    db = _db(app)
    stored = db.execute(
        "SELECT broker_password_hash FROM stations WHERE festival = 'strp' AND id = 'hall'"
    ).fetchone()[0]
    assert password not in stored and check_password(password, stored)
    db.close()
    # Never again: no page shows the password, and the same form again is refused.
    for url in ("/organiser/strp/", "/organiser/strp/stickers", "/organiser/strp/organisers"):
        assert password not in client.get(url).get_data(as_text=True)
    again = client.post("/organiser/strp/stations", data={"csrf_token": token, "station": "hall"})
    assert again.status_code == 400 and "already registered" in again.get_data(as_text=True)
    assert "data:application/toml" not in again.get_data(as_text=True)


def test_a_station_is_disabled_and_the_web_station_is_not_offered(app, client):
    token = login(client)
    page = client.get("/organiser/strp/").get_data(as_text=True)
    offered = re.search(r'id="disable-station".*?</form>', page, re.S)
    assert offered and 'value="st-01"' in offered.group(0)
    assert 'value="web"' not in offered.group(0)
    response = client.post(
        "/organiser/strp/stations/disable",
        data={"csrf_token": token, "station": "st-01"},
        follow_redirects=True,
    )
    assert "Station st-01 disabled" in response.get_data(as_text=True)
    unknown = client.post(
        "/organiser/strp/stations/disable", data={"csrf_token": token, "station": "gate"}
    )  # ddw's station: not strp's
    assert unknown.status_code == 400 and "not registered" in unknown.get_data(as_text=True)
    db = _db(app)
    assert registry_store.station_key(db, "strp", "st-01").enabled is False
    assert registry_store.station_key(db, "ddw", "gate").enabled is True
    db.close()


def test_an_organiser_with_a_password_made_for_them_logs_in_and_manages_only_strp(app, client):
    token = login(client)
    response = client.post(
        "/organiser/strp/organisers",
        data={
            "csrf_token": token,
            "do": "add",
            "email": "New@strp.example",
            "make_password": "yes",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    password = re.search(r'<code class="address secret">([^<]+)</code>', page).group(1)
    assert "shown only this once" in page
    assert password not in client.get("/organiser/strp/organisers").get_data(as_text=True)
    newcomer = app.test_client()
    login(newcomer, "new@strp.example", html.unescape(password))
    assert newcomer.get("/organiser/strp/").status_code == 200
    assert newcomer.get("/organiser/ddw/").status_code == 403


def test_an_organiser_types_their_own_password_and_accounts_keep_theirs(app, client):
    token = login(client)
    weak = client.post(
        "/organiser/strp/organisers",
        data={"csrf_token": token, "do": "add", "email": "ann@strp.example", "password": "short"},
    )
    assert weak.status_code == 400 and "at least 10 characters" in weak.get_data(as_text=True)
    # ddw's organiser has an account: strp's organiser cannot attach it without its password.
    taken = client.post(
        "/organiser/strp/organisers",
        data={"csrf_token": token, "do": "add", "email": OTHER, "password": "a guess of mine"},
    )
    assert taken.status_code == 400 and "already has an account" in taken.get_data(as_text=True)
    typed = client.post(
        "/organiser/strp/organisers",
        data={"csrf_token": token, "do": "add", "email": OTHER, "password": PASSWORD},
    )
    assert typed.status_code == 200
    assert "already had an account and now manages this festival too" in typed.get_data(
        as_text=True
    )
    db = _db(app)
    assert [e for e, _ in festival_organisers(db, "strp")] == [OTHER, OWNER]
    db.close()


def test_removing_an_organiser_ends_their_access_at_once(app, client):
    token = login(client)
    last = client.post(
        "/organiser/strp/organisers", data={"csrf_token": token, "do": "remove", "email": OWNER}
    )
    assert last.status_code == 400 and "only organiser" in last.get_data(as_text=True)
    client.post(
        "/organiser/strp/organisers",
        data={"csrf_token": token, "do": "add", "email": OTHER, "password": PASSWORD},
    )
    other = app.test_client()
    login(other, OTHER)
    assert other.get("/organiser/strp/").status_code == 200
    removed = client.post(
        "/organiser/strp/organisers",
        data={"csrf_token": token, "do": "remove", "email": OTHER},
        follow_redirects=True,
    )
    assert f"{OTHER} no longer manages this festival." in removed.get_data(as_text=True)
    assert other.get("/organiser/strp/").status_code == 403  # the open session, at once
    assert other.get("/organiser/ddw/").status_code == 200  # their own festival stays
    # ddw's organiser cannot remove strp's, even with a valid token of their own session.
    other_token = csrf_of(other.get("/organiser/ddw/").get_data(as_text=True))
    refused = other.post(
        "/organiser/strp/organisers",
        data={"csrf_token": other_token, "do": "remove", "email": OWNER},
    )
    assert refused.status_code == 403


def test_stickers_are_listed_added_with_their_keys_once_and_disabled(app, client):
    token = login(client)
    response = client.post(
        "/organiser/strp/stickers",
        data={"csrf_token": token, "do": "add", "tag": "cloud-1", "artwork": "aw-1"},
    )
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    db = _db(app)
    sticker = stickers.get(db, "strp", "cloud-1")
    assert sticker is not None and sticker.meta_read_key in page and sticker.file_read_key in page
    assert "http://localhost/t/strp/cloud-1?picc_data=" + "0" * 32 in page
    listing = client.get("/organiser/strp/stickers").get_data(as_text=True)
    assert "cloud-1" in listing and "Cloud" in listing
    assert sticker.meta_read_key not in listing and sticker.file_read_key not in listing
    bad_choice = client.post(
        "/organiser/strp/stickers",
        data={"csrf_token": token, "do": "add", "tag": "x", "artwork": "aw-1", "choice": "yes"},
    )
    assert bad_choice.status_code == 400
    assert "not one of the festival's" in html.unescape(bad_choice.get_data(as_text=True))
    elsewhere = client.post(
        "/organiser/strp/stickers",
        data={"csrf_token": token, "do": "add", "tag": "y", "artwork": "chair"},
    )  # ddw's artwork
    assert elsewhere.status_code == 400
    static = client.post(
        "/organiser/strp/stickers",
        data={"csrf_token": token, "do": "add", "tag": "qr", "artwork": "aw-2", "static": "yes"},
    )
    assert "http://localhost/t/strp/qr</code>" in static.get_data(as_text=True)
    disabled = client.post(
        "/organiser/strp/stickers",
        data={"csrf_token": token, "do": "disable", "tag": "cloud-1"},
        follow_redirects=True,
    )
    assert "Sticker cloud-1 disabled" in disabled.get_data(as_text=True)
    assert [(s.id, s.enabled) for s in stickers.list_stickers(db, "strp")] == [
        ("cloud-1", False),
        ("qr", True),
    ]
    db.close()


def test_many_station_adds_at_once_each_get_their_own_file(app):
    """The same form posted from several sessions at once: one station, one file."""
    from concurrent.futures import ThreadPoolExecutor

    clients = [app.test_client() for _ in range(4)]
    tokens = [login(c) for c in clients]

    def post(pair):
        c, token = pair
        return c.post("/organiser/strp/stations", data={"csrf_token": token, "station": "twin"})

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(r.status_code for r in pool.map(post, zip(clients, tokens, strict=True)))
    assert statuses == [200, 400, 400, 400]
    db = _db(app)
    assert [s.id for s in registry_store.list_stations(db, "strp")].count("twin") == 1
    db.close()


def test_the_owner_alone_is_listed(app, client):
    login(client)
    page = client.get("/organiser/strp/organisers").get_data(as_text=True)
    assert f"{OWNER} (you)" in page and OTHER not in page


def test_a_form_replayed_after_logout_changes_nothing(app, client):
    token = login(client)
    client.post("/organiser/logout", data={"csrf_token": token})
    forms = {
        "/organiser/strp/stations": {"station": "replay"},
        "/organiser/strp/artworks": {"artwork": "replay", "title": "Replay"},
        "/organiser/strp/organisers": {"do": "add", "email": "r@x.example", "make_password": "yes"},
        "/organiser/strp/stickers": {"do": "add", "tag": "replay", "artwork": "aw-1"},
    }
    for url, form in forms.items():
        response = client.post(url, data={**form, "csrf_token": token})
        assert response.status_code in (302, 400), url
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/organiser/login"), url
    db = _db(app)
    assert "replay" not in [s.id for s in registry_store.list_stations(db, "strp")]
    assert "replay" not in [a.id for a in registry_store.list_artworks(db, "strp")]
    assert stickers.list_stickers(db, "strp") == []
    assert [e for e, _ in festival_organisers(db, "strp")] == [OWNER]
    db.close()
