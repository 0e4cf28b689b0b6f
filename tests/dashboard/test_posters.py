"""Posters to print: the organiser's page (login, tenant isolation, paper, one artwork) and
``tapshare poster`` (a file per festival, addresses under --public-url, clear errors)."""

from __future__ import annotations

import re

import pytest

from tapshare.cli import cli
from tests.dashboard.conftest import OTHER, login
from tests.dashboard.phones import add_stickers
from tests.dashboard.policies import permit, set_policy

POSTER = re.compile(r'<article class="poster" data-artwork="([^"]+)">')


def test_the_owner_prints_a_poster_per_artwork(client, dash_db):
    add_stickers(dash_db)
    set_policy(dash_db, "strp", [permit("public", level="artwork", min_visitors=5)])
    login(client)
    response = client.get("/organiser/strp/posters")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert POSTER.findall(html) == ["aw-1", "aw-2", "aw-3"]
    assert html.count('<svg role="img"') == 3
    assert "http://localhost/festivals/strp" in html
    assert "Anyone can see STRP&#39;s totals per artwork" in html
    assert 'class="paper-a4"' in html and "poster.css" in html
    # Every artwork of strp has a sticker in add_stickers: each poster says phones vote.
    assert html.count('class="phone"') == 3
    assert "/organiser/strp/posters?paper=a5" in html


def test_one_artwork_on_a5_and_bad_queries(client):
    login(client)
    html = client.get("/organiser/strp/posters?artwork=aw-2&paper=a5").get_data(as_text=True)
    assert POSTER.findall(html) == ["aw-2"] and 'class="paper-a5"' in html
    assert 'class="phone"' not in html  # no sticker at aw-2 here
    assert client.get("/organiser/strp/posters?paper=letter").status_code == 400
    assert client.get("/organiser/strp/posters?artwork=nope").status_code == 404
    assert client.get("/organiser/nope/posters").status_code in (403, 404)


def test_posters_are_in_dutch_for_a_dutch_browser(client):
    login(client)
    html = client.get("/organiser/strp/posters", headers={"Accept-Language": "nl"}).get_data(
        as_text=True
    )
    assert '<html lang="nl">' in html and "Wat vind jij ervan?" in html


def test_other_organisers_and_strangers_get_no_posters(app, client):
    assert client.get("/organiser/strp/posters").status_code == 302
    login(client, OTHER)
    assert client.get("/organiser/strp/posters").status_code == 403
    assert client.get("/organiser/ddw/posters").status_code == 200


def test_the_command_writes_posters_under_the_public_url(runner, dash_db, tmp_path):
    out = tmp_path / "posters.html"
    args = ["--db", str(dash_db), "--public-url", "https://votes.example.org"]
    result = runner.invoke(cli, [*args, "poster", "strp", "--lang", "nl", "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert POSTER.findall(html) == ["aw-1", "aw-2", "aw-3"]
    assert "https://votes.example.org/festivals/strp" in html
    assert "<style>" in html and "@page a4" in html and "poster.css" not in html
    assert '<html lang="nl">' in html
    result = runner.invoke(cli, [*args, "poster", "strp", "--artwork", "aw-3", "--paper", "a5"])
    assert result.exit_code == 0 and POSTER.findall(result.output) == ["aw-3"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["poster", "nope"], "unknown festival: nope"),
        (["poster", "strp", "--artwork", "nope"], "festival 'strp' has no artwork 'nope'"),
        (["poster", "strp", "--paper", "letter"], "'letter' is not one of 'a4', 'a5'"),
    ],
)
def test_bad_poster_commands_fail_clearly(dash_db, extra, message):
    import subprocess
    import sys

    found = subprocess.run(
        [sys.executable, "-m", "tapshare", "--db", str(dash_db), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 2 and message in found.stderr, found.stderr
    assert found.stdout == ""


def test_many_at_once_all_alike_and_a_replay_after_logout_is_refused(app, client):
    from concurrent.futures import ThreadPoolExecutor

    token = login(client)
    cookie = client.get_cookie("tapshare_session")
    assert cookie is not None

    def fetch(_: int) -> tuple[int, str]:
        other = app.test_client()
        other.set_cookie("tapshare_session", cookie.value)
        response = other.get("/organiser/strp/posters?paper=a5")
        return response.status_code, response.get_data(as_text=True)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(fetch, range(24)))
    assert {status for status, _ in answers} == {200}
    assert len({html for _, html in answers}) == 1
    client.post("/organiser/logout", data={"csrf_token": token})
    replayed = app.test_client()
    replayed.set_cookie("tapshare_session", cookie.value)
    response = replayed.get("/organiser/strp/posters")
    assert response.status_code == 302 and "/organiser/login" in response.headers["Location"]
