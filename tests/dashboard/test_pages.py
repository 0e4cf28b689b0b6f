"""Server-rendered pages: boards that work without JavaScript, transparency pages, the
policy editor's preview, exports."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.dashboard.conftest import OTHER, keyed, login
from tests.dashboard.opinions import add_opinions
from tests.dashboard.policies import permit, set_policy


def post_policy(client, token: str, policy: str, audience: str, do: str, reason: str = ""):
    """Post the policy editor's JSON form (preview or save) for a display by ``audience``."""
    return client.post(
        "/organiser/strp/policy",
        data={
            "csrf_token": token,
            "policy": policy,
            "audience": audience,
            "action": "display",
            "do": do,
            "reason": reason,
        },
    )


def test_the_board_page_shows_counts_without_javascript(client, dash_db, screen_keys):
    add_opinions(dash_db, "strp", "aw-1", ["love", "love", "dislike"])
    html = client.get(keyed("/boards/strp", screen_keys)).get_data(as_text=True)
    assert "<h1>STRP</h1>" in html
    assert 'data-artwork="aw-1" data-visitors="3"' in html
    assert 'data-choice="love" data-count="2"' in html
    assert 'data-choice="dislike" data-count="1"' in html
    assert "<h3>Cloud</h3>" in html and "Our own visitors" in html


def test_withheld_artworks_say_not_enough_opinions_yet(client, dash_db):
    add_opinions(dash_db, "strp", "aw-1", ["love", "like"])
    add_opinions(dash_db, "strp", "aw-3", ["meh"], first_visitor=9)
    set_policy(dash_db, "strp", [permit("public", level="artwork", min_visitors=2)])
    html = client.get("/boards/public").get_data(as_text=True)
    assert "Shared with everyone" in html and "rule:" not in html
    assert "artworks appear once 2 visitors have given their opinion" in html
    withheld = html.split('class="cell withheld" data-artwork="aw-3"')[1]
    assert "<h3>Murmur</h3>" in withheld and "not enough opinions yet" in withheld
    assert 'data-artwork="aw-3" data-visitors' not in html


def test_unknown_boards_and_pages_are_a_clean_404(client):
    for path in ["/boards/nope", "/festivals/nope", "/no/such/page"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Traceback" not in response.get_data(as_text=True)


def test_the_transparency_page_explains_stations_and_erasure(client, dash_db):
    set_policy(dash_db, "strp", [permit("public", level="festival", min_visitors=5)])
    html = client.get("/festivals/strp").get_data(as_text=True)
    assert "STRP: what happens to your opinion" in html
    assert "st-01" in html and "st-02" in html
    assert "Erasing your opinions" in html


def test_pages_carry_security_headers(client):
    response = client.get("/boards/public")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_policy_preview_shows_the_audiences_board_before_saving(client, dash_db, screen_keys):
    add_opinions(dash_db, "strp", "aw-1", ["love", "like", "meh"])
    token = login(client)
    draft = {"rules": [permit("festival:ddw", level="artwork", min_visitors=1)]}
    response = post_policy(client, token, json.dumps(draft), "festival:ddw", "preview")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="preview"' in html and 'data-artwork="aw-1" data-visitors="3"' in html
    # Nothing was saved: ddw's board still has no STRP section.
    ddw = client.get(keyed("/api/v1/boards/ddw", screen_keys)).get_json()
    assert [s["festival"] for s in ddw["sections"]] == ["ddw"]
    post_policy(client, token, json.dumps(draft), "festival:ddw", "save", reason="share with DDW")
    ddw = client.get(keyed("/api/v1/boards/ddw", screen_keys)).get_json()
    assert [s["festival"] for s in ddw["sections"]] == ["ddw", "strp"]
    history = client.get("/organiser/strp/history").get_data(as_text=True)
    assert "share with DDW" in history


def test_a_bad_policy_is_refused_with_a_clear_error_and_nothing_saved(client):
    token = login(client)
    response = post_policy(client, token, '{"rules": [{"effect": "maybe"}]}', "public", "save")
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert "version 1" not in client.get("/organiser/strp/history").get_data(as_text=True)


def test_exports_hold_own_data_and_others_only_as_their_export_rules_allow(client, dash_db):
    add_opinions(dash_db, "strp", "aw-1", ["love", "love"])
    add_opinions(dash_db, "ddw", "chair", ["yes", "no", "yes"])
    token = login(client, OTHER)
    form = {"csrf_token": token}
    page = client.post("/organiser/ddw/export.csv", data=form).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(page)))
    assert {row["festival"] for row in rows} == {"ddw"}
    assert rows[0]["count_yes"] == "2"
    set_policy(dash_db, "strp", [permit("festival:ddw", "export", level="artwork", min_visitors=1)])
    body = client.post("/organiser/ddw/export.json", data=form).get_json()
    assert [s["festival"] for s in body["sections"]] == ["ddw", "strp"]
    only = client.post("/organiser/ddw/export.json", data={**form, "festival": "strp"})
    assert [s["festival"] for s in only.get_json()["sections"]] == ["strp"]
    assert client.post("/organiser/ddw/export.xml", data=form).status_code == 404
    unknown = client.post("/organiser/ddw/export.json", data={**form, "festival": "nope"})
    assert unknown.status_code == 404


def test_an_offline_station_is_announced_on_its_festivals_board(client, dash_db, screen_keys):
    from tests.dashboard.opinions import set_station_state

    set_station_state(dash_db, "strp", "st-01", "online")
    assert (
        "offline"
        not in client.get(keyed("/boards/strp", screen_keys))
        .get_data(as_text=True)
        .split("<main>")[1]
    )
    set_station_state(dash_db, "strp", "st-02", "offline")
    html = client.get(keyed("/boards/strp", screen_keys)).get_data(as_text=True)
    assert "1 station offline (st-02)" in html
    assert "station offline" not in client.get(keyed("/boards/ddw", screen_keys)).get_data(
        as_text=True
    )


def test_the_organiser_sees_station_health(client, dash_db):
    from tests.dashboard.opinions import set_station_state

    set_station_state(dash_db, "strp", "st-01", "online")
    login(client)
    html = client.get("/organiser/strp/").get_data(as_text=True)
    assert 'class="state-online" data-station="st-01"' in html
    assert 'class="state-unknown" data-station="st-02"' in html
    assert "The Chair" not in html  # another festival's artwork


def test_the_network_preview_is_what_a_festival_without_its_own_rule_sees(client, dash_db):
    add_opinions(dash_db, "strp", "aw-1", ["love", "like"])
    token = login(client)
    draft = {
        "rules": [
            permit("network", level="festival", min_visitors=1),
            {"effect": "prohibit", "to": "festival:ddw", "action": "display"},
        ]
    }
    html = post_policy(client, token, json.dumps(draft), "network", "preview").get_data(
        as_text=True
    )
    preview = html.split('class="preview"')[1]
    assert 'data-rule="network"' in preview and 'data-artwork="*" data-visitors="2"' in preview


def test_an_export_of_one_festival_logs_only_that_festival(app, client, dash_db):
    from consent.store import PolicyStore
    from storage import connect

    add_opinions(dash_db, "strp", "aw-1", ["love"])
    set_policy(dash_db, "strp", [permit("festival:ddw", "export", min_visitors=1)])
    set_policy(dash_db, "glow", [permit("network", "export", min_visitors=1)])
    token = login(client, OTHER)
    body = client.post(
        "/organiser/ddw/export.json", data={"csrf_token": token, "festival": "strp"}
    ).get_json()
    assert [s["festival"] for s in body["sections"]] == ["strp"]
    db = connect(dash_db)
    store = PolicyStore(db)
    assert [(r.accessor, r.action) for r in store.access_log("strp")] == [(OTHER, "export")]
    assert store.access_log("glow") == []
    db.close()
    html = client.get("/organiser/ddw/access-log").get_data(as_text=True)
    assert "Nobody else has read your data." in html
    owner = app.test_client()
    login(owner)
    html = owner.get("/organiser/strp/access-log").get_data(as_text=True)
    assert (
        f'<td>{OTHER} (festival:ddw)</td><td>export</td><td data-label="policy version">1</td>'
        in html
    )


def test_a_section_without_opinions_says_so(client, screen_keys):
    html = client.get(keyed("/boards/glow", screen_keys)).get_data(as_text=True)
    assert 'data-festival="glow"' in html and "No opinions yet." in html


@pytest.mark.parametrize(
    "policy",
    [
        '{"rules": ' + "[" * 20_000 + "]" * 20_000 + "}",  # deeper than the parser's stack
        '{"rules": [{"to": ' + "[" * 500 + "]" * 500 + "}]}",
    ],
)
@pytest.mark.parametrize("do", ["preview", "save"])
def test_a_deeply_nested_policy_is_a_clear_400_and_nothing_saved(client, policy, do):
    token = login(client)
    response = client.post(
        "/organiser/strp/policy",
        data={"csrf_token": token, "policy": policy, "audience": "public", "do": do},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error"' in html and "nested more than 8 levels" in html
    assert "version 1" not in client.get("/organiser/strp/history").get_data(as_text=True)


def test_every_page_names_its_icon_and_the_old_icon_address_leads_there(client, dash_db):
    from tests.dashboard.phones import add_stickers, tap_path

    add_stickers(dash_db)
    for path in ["/", "/boards/public", "/festivals/strp", "/organiser/login", tap_path(dash_db)]:
        html = client.get(path).get_data(as_text=True)
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html, path
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    old = client.get("/favicon.ico")
    assert old.status_code == 301 and old.headers["Location"] == "/static/favicon.svg"
