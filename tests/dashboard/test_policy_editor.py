"""The policy editor as a form: rows in words, errors beside their fields, the preview and
the change in words, a required reason, no version for an unchanged policy, restoring an
earlier version, and the same stored version as ``tapshare policy set``."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask.testing import FlaskClient

from tapshare.cli import cli
from tests.dashboard.conftest import OTHER, csrf_of, keyed, login
from tests.dashboard.opinions import add_opinions
from tests.dashboard.policies import permit, set_policy

URL = "/organiser/strp/policy"
#: A field of the network's export row with its error right after it.
BESIDE = r'name="network/export/{}"[^>]*>\s*<span class="field-error"[^>]*>{}'


def form_fields(html: str) -> dict[str, str]:
    """The editor form's fields as a browser would post them unchanged."""
    start = html.index('id="policy-form"')
    form = html[start : html.index("</form>", start)]
    fields: dict[str, str] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form):
        fields[name] = value
    for name, body in re.findall(r'<select name="([^"]+)">(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        fields[name] = chosen.group(1) if chosen else ""
    return fields


def editor(client: FlaskClient) -> dict[str, str]:
    return form_fields(client.get(URL).get_data(as_text=True))


def stored(db_path: Path, festival: str = "strp") -> list[tuple[int, str]]:
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT version, policy FROM consent_policy_versions WHERE festival = ? "
            "ORDER BY version",
            [festival],
        ).fetchall()
    return [(int(version), str(policy)) for version, policy in rows]


def post(client: FlaskClient, fields: dict[str, str], **changes: str) -> tuple[int, str]:
    response = client.post(URL, data={**fields, **changes})
    return response.status_code, response.get_data(as_text=True)


def test_the_form_shows_each_rule_in_words(client, dash_db):
    set_policy(dash_db, "strp", [permit("public", min_visitors=10)])
    login(client)
    html = client.get(URL).get_data(as_text=True)
    assert "Show on the public board: festival totals, once 10 visitors have taken part" in html
    assert "Let the network analyse: no rule of its own, the public&#39;s row decides" in html
    fields = form_fields(html)
    assert fields["public/display/effect"] == "permit"
    assert fields["public/display/min_visitors"] == "10"
    assert fields["network/display/effect"] == ""


def test_preview_from_the_form_changes_with_the_rule_and_says_when_it_is_nothing(client, dash_db):
    add_opinions(dash_db, "strp", "aw-1", ["love", "like", "meh"])
    token = login(client)
    fields = editor(client)
    assert fields["csrf_token"] == token
    code, html = post(client, fields, do="preview")
    assert code == 200
    assert "The public will see nothing from STRP (on boards)." in html
    code, html = post(
        client,
        fields,
        do="preview",
        **{
            "public/display/effect": "permit",
            "public/display/level": "artwork",
            "public/display/min_visitors": "2",
        },
    )
    assert code == 200 and "will see nothing" not in html
    assert 'data-artwork="aw-1" data-visitors="3"' in html
    assert "Show on the public board: totals per artwork, once 2 visitors" in html
    assert "What saving changes" in html and "(was: nothing, as there is no rule)" in html
    assert stored(dash_db) == []  # a preview saves nothing


def test_bad_values_are_shown_beside_their_field_and_nothing_is_saved(client, dash_db):
    login(client)
    fields = editor(client)
    backwards = {
        "network/export/effect": "permit",
        "network/export/valid_from": "2026-06-01T10:00",
        "network/export/valid_until": "2026-05-01T10:00",
    }
    bad = {**backwards, "network/export/min_visitors": "0", "network/export/delay_minutes": "soon"}
    code, html = post(client, fields, do="save", reason="try", **bad)
    assert code == 400
    row = html[html.index('data-rule="network/export"') :]
    row = row[: row.index("</fieldset>")]
    assert re.search(BESIDE.format("min_visitors", "must be at least 1"), row)
    assert re.search(BESIDE.format("delay_minutes", "must be a whole number"), row)
    code, html = post(client, fields, do="save", reason="try", **backwards)
    assert code == 400 and "valid_from must be before valid_until" in html
    code, html = post(client, fields, do="save", reason="x", **{"public/display/effect": "maybe"})
    assert code == 400 and "choose allow, deny or no rule" in html
    assert stored(dash_db) == []


def test_a_change_needs_a_reason_and_an_unchanged_policy_saves_no_version(client, dash_db):
    set_policy(dash_db, "strp", [permit("public")])
    login(client)
    fields = editor(client)
    code, html = post(client, fields, do="save", reason="")
    assert code == 302
    assert "Nothing has changed, so no new version was saved." in client.get(URL).get_data(
        as_text=True
    )
    assert [v for v, _ in stored(dash_db)] == [1]
    code, html = post(client, fields, do="save", reason="", **{"public/display/effect": "prohibit"})
    assert code == 400 and "Say why the policy changes" in html
    assert "The public will no longer see your festival&#39;s opinions on boards." in html
    assert [v for v, _ in stored(dash_db)] == [1]
    code, _ = post(
        client, fields, do="save", reason="stop", **{"public/display/effect": "prohibit"}
    )
    assert code == 302
    assert [v for v, _ in stored(dash_db)] == [1, 2]


def test_adding_a_festival_row_picks_from_the_registered_festivals(client, dash_db):
    login(client)
    fields = editor(client)
    code, html = post(client, fields, do="add", add_festival="nope")
    assert 'data-audience="festival:nope"' not in html
    code, html = post(client, fields, do="add", add_festival="ddw")
    assert code == 200 and 'data-audience="festival:ddw"' in html
    assert "<legend>Dutch Design Week</legend>" in html
    fields = form_fields(html)
    assert fields["festivals"] == "ddw"
    # Its own festival is never a row: a festival always sees all of its own data.
    code, html = post(client, {**fields, "festivals": "ddw strp"}, do="preview")
    assert 'data-audience="festival:strp"' not in html
    code, _ = post(
        client,
        fields,
        do="save",
        reason="ddw may export",
        **{"festival:ddw/export/effect": "permit"},
    )
    assert code == 302
    assert json.loads(stored(dash_db)[-1][1])["rules"][0]["to"] == "festival:ddw"


def test_the_same_policy_through_the_form_and_policy_set_is_the_same_stored_version(
    app, client, dash_db, tmp_path
):
    rules: list[dict[str, Any]] = [
        {"effect": "prohibit", "to": "festival:glow", "action": "export"},
        permit("network", "analyse", level="artwork", min_visitors=3, delay_minutes=60),
        permit("public", valid_until="2027-01-01T00:00:00Z"),
    ]
    login(client)
    fields = {
        **editor(client),
        "festivals": "glow",
        "public/display/effect": "permit",
        "public/display/valid_until": "2027-01-01T00:00",
        "network/analyse/effect": "permit",
        "network/analyse/level": "artwork",
        "network/analyse/min_visitors": "3",
        "network/analyse/delay_minutes": "60",
        "festival:glow/export/effect": "prohibit",
    }
    code, _ = post(client, fields, do="save", reason="form")
    assert code == 302
    through_form = stored(dash_db)
    assert [v for v, _ in through_form] == [1]
    # The same policy as a file (rules in another order, defaults left out), set on the
    # database as it was before the form saved.
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"rules": rules}))
    with sqlite3.connect(dash_db) as db:
        db.execute("DELETE FROM consent_policy_versions")
    command = ["--db", str(dash_db), "policy", "set", "strp", str(path), "--author", "x"]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0, result.stderr
    assert stored(dash_db) == through_form
    # Saved again either way, it decides the same: no version.
    assert "unchanged" in CliRunner().invoke(cli, command).stdout
    code, _ = post(client, fields, do="save", reason="again")
    assert code == 302 and stored(dash_db) == through_form


def test_history_in_words_and_restore_as_a_new_version(client, dash_db):
    set_policy(dash_db, "strp", [permit("network", level="artwork")])
    set_policy(dash_db, "strp", [permit("network")])
    token = login(client)
    html = client.get("/organiser/strp/history").get_data(as_text=True)
    assert (
        "Show on other festivals&#39; boards: festival totals, once 5 visitors have taken "
        "part (was: totals per artwork" in html
    )
    assert "Restore version 1" in html and "Restore version 2" not in html
    restore = "/organiser/strp/history/restore"
    response = client.post(restore, data={"csrf_token": token, "version": "1", "reason": ""})
    assert response.status_code == 302 and [v for v, _ in stored(dash_db)] == [1, 2]
    for bad in ("9", "-1", "x", ""):
        response = client.post(restore, data={"csrf_token": token, "version": bad, "reason": "r"})
        assert response.status_code == 400
    response = client.post(restore, data={"version": "1", "reason": "no token"})
    assert response.status_code == 400
    response = client.post(restore, data={"csrf_token": token, "version": "1", "reason": "back"})
    assert response.status_code == 302
    versions = stored(dash_db)
    assert [v for v, _ in versions] == [1, 2, 3] and versions[2][1] == versions[0][1]
    html = client.get("/organiser/strp/history").get_data(as_text=True)
    assert "“back”" in html and "Version 1 restored as version 3." in html
    client.post(restore, data={"csrf_token": token, "version": "1", "reason": "again"})
    assert len(stored(dash_db)) == 3


def test_the_editor_and_restore_refuse_strangers_and_other_festivals(app, client, dash_db):
    set_policy(dash_db, "strp", [permit("network")])
    set_policy(dash_db, "strp", [])
    stranger = app.test_client()
    assert stranger.get(URL).status_code in (302, 401, 403)
    response = stranger.post(
        "/organiser/strp/history/restore", data={"version": "1", "reason": "r"}
    )
    assert response.status_code in (302, 400, 401, 403)
    token = login(client, OTHER)
    for path, data in [
        (
            URL,
            {"csrf_token": token, "do": "save", "reason": "r", "public/display/effect": "permit"},
        ),
        ("/organiser/strp/history/restore", {"csrf_token": token, "version": "1", "reason": "r"}),
    ]:
        assert client.post(path, data=data).status_code in (403, 404)
    assert [v for v, _ in stored(dash_db)] == [1, 2]


def test_saving_from_the_form_changes_the_public_board(client, dash_db, screen_keys):
    add_opinions(dash_db, "strp", "aw-1", ["love", "like"])
    login(client)
    assert [s["festival"] for s in client.get("/api/v1/boards/public").get_json()["sections"]] == []
    code, _ = post(
        client,
        editor(client),
        do="save",
        reason="open up",
        **{"public/display/effect": "permit", "public/display/min_visitors": "1"},
    )
    assert code == 302
    board = client.get(keyed("/api/v1/boards/public", screen_keys)).get_json()
    assert [s["festival"] for s in board["sections"]] == ["strp"]
    assert csrf_of(client.get(URL).get_data(as_text=True))


def test_receipts_read_in_words_and_download_as_json(client, dash_db):
    set_policy(dash_db, "strp", [permit("network", level="artwork", min_visitors=3)])
    set_policy(dash_db, "strp", [])
    login(client)
    html = client.get("/organiser/strp/receipts").get_data(as_text=True)
    # Times in the festival's time zone (Europe/Amsterdam).
    assert "<h2>Version 2</h2>" in html
    assert re.search(r"\d\d:\d\d CES?T: this is the policy now\.", html)
    assert re.search(
        r"In force from \w{3} \d{1,2}, \d{4}, \d\d:\d\d CES?T until .* CES?T, then replaced by "
        r"version 2\.",
        html,
    )
    assert "urn:" not in html  # no record ids or other jargon on the page
    assert "Show on other festivals&#39; boards: totals per artwork, once 3 visitors" in html
    assert "&#34;schema_version&#34;" not in html and '"schema_version"' not in html
    response = client.get("/organiser/strp/receipts/1.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_json()
    assert body["notice"]["version"] == 1 and body["state"] == "superseded"
    assert client.get("/organiser/strp/receipts/9.json").status_code == 404
    assert client.get("/organiser/ddw/receipts/1.json").status_code == 403
