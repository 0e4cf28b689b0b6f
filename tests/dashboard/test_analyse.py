"""The analyse view: the festival's own opinions hour by hour as an SVG chart drawn on the
server (title, description, a table of the same figures), and what others grant."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from consent.history import hour_ends
from tests.dashboard.conftest import login
from tests.dashboard.opinions import add_opinions
from tests.dashboard.policies import permit, set_policy


def test_hour_ends_are_whole_hours_then_now():
    now = datetime(2026, 6, 1, 14, 20, tzinfo=UTC)
    assert hour_ends(now, 3) == [
        datetime(2026, 6, 1, 12, tzinfo=UTC),
        datetime(2026, 6, 1, 13, tzinfo=UTC),
        datetime(2026, 6, 1, 14, tzinfo=UTC),
        now,
    ]
    on_the_hour = datetime(2026, 6, 1, 14, tzinfo=UTC)
    assert hour_ends(on_the_hour, 2) == [datetime(2026, 6, 1, 13, tzinfo=UTC), on_the_hour]


def test_the_chart_shows_each_artworks_visitors_hour_by_hour(client, dash_db):
    add_opinions(dash_db, "strp", "aw-1", ["love", "like"], minutes_ago=150)
    add_opinions(dash_db, "strp", "aw-1", ["meh"], first_visitor=10, minutes_ago=5)
    add_opinions(dash_db, "strp", "aw-2", ["love"], first_visitor=20, minutes_ago=70)
    login(client)
    page = client.get("/organiser/strp/analyse").get_data(as_text=True)
    svg = re.search(r"<svg[^>]*history-chart.*?</svg>", page, re.S)
    assert svg, page
    assert 'role="img"' in svg.group(0) and 'aria-labelledby="chart-title chart-desc"' in page
    assert '<title id="chart-title">Visitors who had given an opinion' in svg.group(0)
    assert "Cloud: 3 by" in svg.group(0) and "Tide: 1 by" in svg.group(0)
    assert svg.group(0).count("<polyline") == 2
    # The table holds the same figures: Cloud 2 → 3, Tide 0 → 1, over the hours.
    rows = re.findall(r'<tr><th scope="row">[^<]+</th>((?:<td>[^<]*</td>)+)</tr>', page)
    cloud = [re.findall(r"<td>([^<]*)</td>", row)[0] for row in rows]
    tide = [re.findall(r"<td>([^<]*)</td>", row)[1] for row in rows]
    assert cloud[0] == "2" and cloud[-1] == "3"
    assert tide[0] == "0" and tide[-1] == "1"
    assert 3 <= len(rows) <= 4  # from the hour of the first opinion to now
    assert "<script" not in page.split("<main>")[1]  # drawn on the server


def test_a_festival_without_opinions_says_so(client):
    login(client)
    page = client.get("/organiser/strp/analyse").get_data(as_text=True)
    assert "No visitor has given an opinion in the last day." in page
    assert "<svg" not in page


def test_others_are_shown_at_the_level_they_grant(client, dash_db):
    add_opinions(dash_db, "ddw", "chair", ["yes", "no", "yes"], station="gate")
    set_policy(
        dash_db, "ddw", [permit("festival:strp", "analyse", level="festival", min_visitors=2)]
    )
    token = login(client)
    page = client.post("/organiser/strp/analyse", data={"csrf_token": token}).get_data(as_text=True)
    assert (
        "Dutch Design Week shares only its festival totals, once 2 visitors have taken part."
        in page
    )
    assert 'data-festival="ddw"' in page and 'data-artwork="chair"' not in page
    set_policy(dash_db, "ddw", [])
    nothing = client.post("/organiser/strp/analyse", data={"csrf_token": token})
    assert "No other festival shares anything with STRP for analysis right now." in (
        nothing.get_data(as_text=True)
    )
