"""Reads that write the access log (analyse, exports) happen only on a POST carrying the
session's CSRF token, so a link or image from another site cannot add entries under an
organiser's name; the access log page shows every entry, a page at a time."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from consent.store import PolicyStore
from storage import connect
from tests.dashboard.conftest import OTHER, OWNER, login
from tests.dashboard.opinions import add_opinions
from tests.dashboard.policies import permit, set_policy

# The reads of strp's data that ddw's organiser can make, each of which strp's log records.
LOGGED_READS = [
    "/organiser/ddw/analyse",
    "/organiser/ddw/exports",
    "/organiser/ddw/export.csv",
    "/organiser/ddw/export.json",
]


def log_size(db_path: Path, festival: str = "strp") -> int:
    db = connect(db_path)
    try:
        return PolicyStore(db).access_count(festival)
    finally:
        db.close()


@pytest.fixture
def shared(dash_db: Path) -> Path:
    """strp shares its data with ddw for analyse and export."""
    add_opinions(dash_db, "strp", "aw-1", ["love", "meh"])
    set_policy(
        dash_db,
        "strp",
        [permit("festival:ddw", "analyse", min_visitors=1), permit("festival:ddw", "export")],
    )
    return dash_db


@pytest.mark.parametrize("url", LOGGED_READS)
def test_a_get_delivers_nothing_and_logs_nothing(client, shared, url):
    login(client, OTHER)
    response = client.get(url)
    assert response.status_code in (200, 405)
    assert 'data-festival="strp"' not in response.get_data(as_text=True)
    assert log_size(shared) == 0


@pytest.mark.parametrize("url", LOGGED_READS)
@pytest.mark.parametrize("token", [None, "", "forged-token", "t\u00f6ken"])
def test_a_post_without_the_sessions_token_is_refused_and_logs_nothing(client, shared, url, token):
    login(client, OTHER)
    form = {} if token is None else {"csrf_token": token}
    response = client.post(url, data=form)
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert log_size(shared) == 0


def test_another_sessions_token_is_refused(app, client, shared):
    stolen = login(app.test_client(), OTHER)
    login(client, OTHER)
    assert client.post("/organiser/ddw/export.json", data={"csrf_token": stolen}).status_code == 400
    assert log_size(shared) == 0


def test_a_post_with_the_token_reads_and_logs_once_per_read(client, shared):
    token = login(client, OTHER)
    page = client.get("/organiser/ddw/analyse").get_data(as_text=True)
    assert 'action="/organiser/ddw/analyse"' in page and "Show the analysis" in page
    html = client.post("/organiser/ddw/analyse", data={"csrf_token": token}).get_data(as_text=True)
    assert 'data-festival="strp"' in html
    assert log_size(shared) == 1
    body = client.post("/organiser/ddw/export.json", data={"csrf_token": token}).get_json()
    assert [s["festival"] for s in body["sections"]] == ["ddw", "strp"]
    assert log_size(shared) == 2
    assert client.get("/organiser/strp/access-log").status_code == 403  # strp's log is not ddw's


def test_the_exports_page_is_a_form_with_the_token(client, shared):
    token = login(client, OTHER)
    html = client.get("/organiser/ddw/exports").get_data(as_text=True)
    assert 'method="post"' in html and f'value="{token}"' in html
    assert 'action="/organiser/ddw/exports"' in html
    assert 'href="/organiser/ddw/export.' not in html
    assert 'data-grant="strp"' in html  # offered, decided without reading
    assert log_size(shared) == 0


def test_a_prepared_export_is_read_once_names_what_is_withheld_and_offers_its_files(client, shared):
    add_opinions(shared, "strp", "aw-2", ["love"], first_visitor=10)
    add_opinions(shared, "strp", "aw-3", ["meh"], first_visitor=20)
    set_policy(shared, "strp", [permit("festival:ddw", "export", level="artwork", min_visitors=2)])
    token = login(client, OTHER)
    page = client.get("/organiser/ddw/exports").get_data(as_text=True)
    assert "per artwork, for artworks with at least 2 visitors." in page
    assert "share nothing with Dutch Design Week for export: GLOW." in page
    assert '<option value="glow">' not in page  # offered only where something is shared
    ready = client.post(
        "/organiser/ddw/exports", data={"csrf_token": token, "festival": "strp"}
    ).get_data(as_text=True)
    assert log_size(shared) == 1
    assert "1 artwork is included, with its counts per choice." in ready
    assert "2 artworks had fewer than 2 visitors and are not included: Tide, Murmur." in ready
    found = re.findall(r'href="data:([^;]+);base64,([^"]+)" download="([^"]+)"', ready)
    files = {name: (media, base64.b64decode(text).decode()) for media, text, name in found}
    assert set(files) == {"tapshare-ddw-strp-export.csv", "tapshare-ddw-strp-export.json"}
    exported = json.loads(files["tapshare-ddw-strp-export.json"][1])
    assert exported["sections"][0]["withheld"] == ["aw-2", "aw-3"]
    assert files["tapshare-ddw-strp-export.csv"][1].splitlines()[1].startswith("strp,")


def fill_log(db_path: Path, count: int) -> None:
    """``count`` reads of strp's data, alternating analyse and export, a second apart."""
    db = connect(db_path)
    store = PolicyStore(db)
    start = datetime(2026, 5, 1, 12, tzinfo=UTC)
    for n in range(count):
        action = "analyse" if n % 2 == 0 else "export"
        store.record_access(
            "strp",
            f"reader{n}@ddw.example",
            "festival:ddw",
            action,
            1,
            start + timedelta(seconds=n),
        )
    db.close()


def readers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"<td>reader(\d+)@ddw.example", html)]


def test_the_access_log_pages_reach_the_oldest_entry(client, dash_db):
    fill_log(dash_db, 237)
    login(client)
    first = client.get("/organiser/strp/access-log").get_data(as_text=True)
    assert "237 entries" in first and "page 1 of 5" in first
    assert readers(first) == list(range(236, 186, -1))  # newest first, 50 a page
    seen: list[int] = []
    url: str | None = "/organiser/strp/access-log"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += readers(html)
        found = re.search(r'<a href="([^"]+)">Older[^<]*</a>', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == list(range(236, -1, -1))
    oldest = client.get("/organiser/strp/access-log?page=5").get_data(as_text=True)
    assert readers(oldest)[-1] == 0 and "Older" not in oldest and "Newer" in oldest
    # Past the last page: the last page.
    assert readers(client.get("/organiser/strp/access-log?page=99").get_data(as_text=True)) == (
        readers(oldest)
    )


def test_the_access_log_filters_by_action_and_page_size(client, dash_db):
    fill_log(dash_db, 237)
    login(client)
    html = client.get("/organiser/strp/access-log?action=export&per_page=25").get_data(as_text=True)
    assert "118 entries (export)" in html and "page 1 of 5" in html
    assert readers(html) == list(range(235, 185, -2))
    assert "action=export" in html.split("Older")[0].rsplit("<a", 1)[-1]
    analyses = client.get("/organiser/strp/access-log?action=analyse&per_page=200")
    assert readers(analyses.get_data(as_text=True)) == list(range(236, -1, -2))  # all 119


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=x",
        "page=\u00b2",
        "page=" + "9" * 5000,
        "per_page=7",
        "action=display",
    ],
)
def test_bad_access_log_arguments_are_a_clear_400(client, dash_db, query):
    login(client)
    response = client.get(f"/organiser/strp/access-log?{query}")
    assert response.status_code == 400
    assert "must be" in response.get_data(as_text=True)


def test_another_festivals_organiser_cannot_page_through_the_log(app, dash_db):
    fill_log(dash_db, 3)
    other = app.test_client()
    login(other, OTHER)
    assert other.get("/organiser/strp/access-log?page=1&action=export").status_code == 403
    owner = app.test_client()
    login(owner, OWNER)
    assert "3 entries" in owner.get("/organiser/strp/access-log").get_data(as_text=True)
