"""Every organiser route, walked as nobody, as another festival's organiser and as the
owner: only the owner gets through; forms without a valid CSRF token fail. Every board
route, walked with every kind of screen key and login: a festival's board opens only for
its own screen keys and organisers, the public board for everyone."""

from __future__ import annotations

import pytest
from flask import Flask

from dashboard.screens import screens
from tests.dashboard.conftest import OTHER, OWNER, PASSWORD, csrf_of, login

# Values for the URL variables of organiser routes, all pointing at festival strp.
URL_VALUES = {"festival_id": "strp", "fmt": "csv", "number": 0}
POLICY = '{"rules": [{"effect": "permit", "to": "public", "action": "display"}]}'
FORMS = {
    "organiser.policy_submit": {
        "policy": POLICY,
        "audience": "public",
        "do": "save",
        "reason": "walk",
    },
    "organiser.screens_submit": {"do": "add", "name": "walk"},
    "organiser.restore": {"version": "0", "reason": "walk"},
    "organiser.artwork_add": {"artwork": "walk", "title": "Walk"},
    "organiser.station_add": {"station": "walk"},
    "organiser.station_disable": {"station": "st-01"},
    "organiser.organisers_submit": {"do": "add", "email": "walk@x.example", "make_password": "yes"},
    "organiser.stickers_submit": {"do": "add", "tag": "walk", "artwork": "aw-1"},
}
# Forms that answer with another page than their own.
REDIRECTS = {
    "organiser.restore": "/organiser/strp/history",
    "organiser.artwork_add": "/organiser/strp/",
    "organiser.station_disable": "/organiser/strp/",
}


def festival_routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) of every organiser route about one festival."""
    found = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("organiser.") or "festival_id" not in rule.arguments:
                continue
            values = {name: URL_VALUES[name] for name in rule.arguments}
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method, url_for(rule.endpoint, **values)))
    return found


def request(client, method, url, endpoint, token):
    form = dict(FORMS.get(endpoint, {}), csrf_token=token)
    if method == "GET":
        return client.get(url)
    return client.post(url, data=form)


def test_the_walk_covers_every_organiser_page(app):
    endpoints = {endpoint for endpoint, _, _ in festival_routes(app)}
    assert {
        "organiser.overview",
        "organiser.policy",
        "organiser.policy_submit",
        "organiser.history",
        "organiser.access_log",
        "organiser.receipts",
        "organiser.analyse",
        "organiser.exports",
        "organiser.export",
        "organiser.screens_page",
        "organiser.screens_submit",
        "organiser.restore",
        "organiser.receipt_download",
        "organiser.artwork_add",
        "organiser.station_add",
        "organiser.station_disable",
        "organiser.organisers",
        "organiser.organisers_submit",
        "organiser.stickers_page",
        "organiser.stickers_submit",
        "organiser.posters",
    } <= endpoints


def test_nobody_is_sent_to_the_login_page(app, client):
    token = csrf_of(client.get("/organiser/login").get_data(as_text=True))
    for endpoint, method, url in festival_routes(app):
        response = request(client, method, url, endpoint, token)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/organiser/login"), (method, url)


def test_another_festivals_organiser_is_refused_everywhere(app, client):
    token = login(client, OTHER)
    for endpoint, method, url in festival_routes(app):
        response = request(client, method, url, endpoint, token)
        assert response.status_code == 403, (method, url)
    # The refused save changed nothing.
    from consent.store import PolicyStore
    from storage import connect

    db = connect(app.config["TAPSHARE_DB"])
    assert PolicyStore(db).current("strp").version == 0
    assert screens(db, "strp") == []
    assert_unchanged(db)
    db.close()


def assert_unchanged(db) -> None:
    """No management form of the walk changed strp's registry or organisers."""
    from dashboard.accounts import festival_organisers
    from hub import registry_store, stickers

    assert [a.id for a in registry_store.list_artworks(db, "strp")] == ["aw-1", "aw-2", "aw-3"]
    assert [(s.id, s.enabled) for s in registry_store.list_stations(db, "strp")] == [
        ("st-01", True),
        ("st-02", True),
        ("web", True),
    ]
    assert [email for email, _ in festival_organisers(db, "strp")] == [OWNER]
    assert stickers.list_stickers(db, "strp") == []


def test_the_owner_gets_through_everywhere(app, client):
    token = login(client, OWNER)
    for endpoint, method, url in festival_routes(app):
        response = request(client, method, url, endpoint, token)
        assert response.status_code in (200, 302), (method, url, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"] == REDIRECTS.get(endpoint, url), url


@pytest.mark.parametrize("token", ["", "forged-token"])
def test_forms_without_the_csrf_token_fail(app, client, token):
    login(client, OWNER)
    for endpoint, method, url in festival_routes(app):
        if method != "POST":
            continue
        response = request(client, method, url, endpoint, token)
        assert response.status_code == 400, url
        assert "security token" in response.get_data(as_text=True)
    from consent.store import PolicyStore
    from storage import connect

    db = connect(app.config["TAPSHARE_DB"])
    assert PolicyStore(db).current("strp").version == 0
    assert_unchanged(db)
    db.close()


def test_login_and_logout_need_the_csrf_token_too(client):
    response = client.post("/organiser/login", data={"email": OWNER, "password": PASSWORD})
    assert response.status_code == 400
    token = login(client, OWNER)
    assert client.post("/organiser/logout", data={}).status_code == 400
    assert client.get("/organiser/strp/").status_code == 200
    assert client.post("/organiser/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/organiser/strp/").status_code == 302


def test_a_session_cookie_is_useless_after_logout(app, client):
    token = login(client, OWNER)
    cookie = client.get_cookie("tapshare_session")
    assert cookie is not None
    client.post("/organiser/logout", data={"csrf_token": token})
    replay = app.test_client()
    replay.set_cookie("tapshare_session", cookie.value)
    assert replay.get("/organiser/strp/").status_code == 302


def test_wrong_passwords_lock_logins_with_a_clear_message(client):
    token = csrf_of(client.get("/organiser/login").get_data(as_text=True))
    for _ in range(5):
        response = client.post(
            "/organiser/login", data={"email": OWNER, "password": "nope", "csrf_token": token}
        )
        assert response.status_code == 401 and response.mimetype == "text/html"
        assert "Wrong email or password" in response.get_data(as_text=True)
    response = client.post(
        "/organiser/login", data={"email": OWNER, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 429 and response.mimetype == "text/html"
    assert "for this account: its logins are paused until" in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60


def test_login_redirects_only_inside_the_organiser_area(client):
    token = csrf_of(client.get("/organiser/login").get_data(as_text=True))
    response = client.post(
        "/organiser/login",
        data={
            "email": OWNER,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/organiser/",
        },
    )
    assert response.headers["Location"] == "/organiser/"


# -- boards ---------------------------------------------------------------------------

BOARD_ROUTES = {
    "boards.board": "page",
    "boards.board_events": "stream",
    "api.board": "json",
    "api.board_stream": "stream",
}


def board_routes(app: Flask, board_id: str) -> list[tuple[str, str]]:
    """(kind, url) of every route that shows a board, for ``board_id``."""
    from flask import url_for

    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "board_id" in rule.arguments:
                assert rule.endpoint in BOARD_ROUTES, f"a new board route: {rule.endpoint}"
                found.append(
                    (BOARD_ROUTES[rule.endpoint], url_for(rule.endpoint, board_id=board_id))
                )
    assert sorted(kind for kind, _ in found) == ["json", "page", "stream", "stream"]
    return found


def credentials(client, keys):
    """Each way of asking for strp's board, with whether it must get through: (name,
    query string, headers, expected status)."""
    yield "anonymous", "", {}, 401
    yield "strp's key", f"?key={keys['strp']}", {}, 200
    yield "strp's key as a bearer token", "", {"Authorization": f"Bearer {keys['strp']}"}, 200
    yield "another festival's key", f"?key={keys['ddw']}", {}, 401
    yield (
        "another festival's key as a bearer token",
        "",
        {"Authorization": f"Bearer {keys['ddw']}"},
        401,
    )
    yield "a revoked key", f"?key={keys['revoked']}", {}, 401
    yield "a made-up key", "?key=" + "A" * 43, {}, 401
    yield "a key of the wrong shape", "?key=%0a%00", {}, 401
    login(client, OTHER)
    yield "another festival's organiser", "", {}, 401
    yield "another festival's organiser with a revoked key", f"?key={keys['revoked']}", {}, 401
    login(client, OWNER)
    yield "strp's organiser", "", {}, 200
    yield "strp's organiser with another festival's key", f"?key={keys['ddw']}", {}, 200


def fetch(client, url, headers):
    response = client.get(url, headers=headers)
    response.close()  # a stream frees its slot
    return response


def test_a_festival_board_opens_only_for_its_keys_and_organisers(app, client, screen_keys):
    for who, query, headers, expected in credentials(client, screen_keys):
        for kind, url in board_routes(app, "strp"):
            response = fetch(client, url + query, headers)
            assert response.status_code == expected, (who, url, response.status_code)
            assert response.headers["Referrer-Policy"] == "no-referrer", (who, url)
            if kind != "stream":
                assert response.headers["Cache-Control"] == "private, no-store", (who, url)
            if expected == 401:
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
            if expected == 401 and kind == "page":
                text = response.get_data(as_text=True)
                assert "needs a screen key" in text and "organiser" in text, who
                assert "tapshare screen add strp" in text, who
            elif expected == 401 and url.startswith("/api/"):
                body = response.get_json()
                assert body["error"] == "unauthorized" and body["status"] == 401, who
                assert "screen key" in body["message"], who
            elif kind == "json":
                assert response.get_json()["viewer"] == "festival:strp", who
    assert app.extensions["tapshare_streams"].open_streams == 0


def test_the_public_board_needs_nothing(app, client, screen_keys):
    for who, query, headers, _ in credentials(client, screen_keys):
        for _, url in board_routes(app, "public"):
            response = fetch(client, url + query, headers)
            assert response.status_code == 200, (who, url)


def test_a_refusal_shows_no_figures(client, dash_db, screen_keys):
    from tests.dashboard.opinions import add_opinions

    add_opinions(dash_db, "strp", "aw-1", ["love"])
    page = client.get(f"/boards/strp?key={screen_keys['ddw']}").get_data(as_text=True)
    assert "Cloud" not in page and "data-artwork" not in page
