"""Station health on the organiser's overview, in words: state, how long ago, outbox,
readers summarised with details on demand, and alerts."""

from __future__ import annotations

import re

from tests.dashboard.conftest import login
from tests.dashboard.opinions import set_station_state

READERS = [{"device": f"usb:00{n}", "ok": True} for n in range(8)]


def row(html: str, station: str) -> str:
    start = html.index(f'data-station="{station}"')
    return html[start : html.index("</tr>", start)]


def test_health_is_told_in_words_with_readers_summarised(client, dash_db):
    set_station_state(dash_db, "strp", "st-01", "online", readers=READERS, seconds_ago=5)
    login(client)
    html = client.get("/organiser/strp/").get_data(as_text=True)
    first = row(html, "st-01")
    assert ">Online<" in first and re.search(r">\d+ s ago<", first)
    assert "<summary>8 readers ok</summary>" in first and "usb:003: ok" in first
    assert ">empty<" in first and ">test<" in first
    assert ">Not heard from yet<" in row(html, "st-02") and ">never<" in row(html, "st-02")
    assert 'class="alerts"' not in html


def test_offline_stations_full_outboxes_and_failing_readers_raise_alerts(client, dash_db):
    readers = [*READERS[:7], {"device": "usb:007", "ok": False, "error": "no such device"}]
    set_station_state(dash_db, "strp", "st-01", "online", outbox=120, readers=readers)
    set_station_state(dash_db, "strp", "st-02", "offline", seconds_ago=90)
    login(client)
    html = client.get("/organiser/strp/").get_data(as_text=True)
    assert "<summary>1 of 8 readers failing</summary>" in row(html, "st-01")
    assert "usb:007: failing (no such device)" in row(html, "st-01")
    assert ">120 waiting<" in row(html, "st-01")
    alerts = html[html.index('class="alerts"') : html.index("</ul>", html.index('class="alerts"'))]
    assert "st-01 holds 120 opinions it has not delivered yet" in alerts
    assert "st-01: reader usb:007 is failing." in alerts
    assert re.search(r"st-02 is offline \(last seen 1 min ago\)", alerts)
