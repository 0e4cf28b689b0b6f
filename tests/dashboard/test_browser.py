"""The dashboard in a real Chromium: live boards, revocation, the organiser's preview and
save, reconnection after a restart."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime

import pytest

from dashboard import create_app
from hub import registry
from hub.ingest import Hub
from protocol.broker import parse_broker_url
from protocol.messages import Opinion
from protocol.topics import topic_for
from storage import connect
from tests.dashboard.browser import browser_page, chromium, log_in, screenshot
from tests.dashboard.conftest import keyed
from tests.dashboard.live import LiveServer
from tests.dashboard.opinions import add_opinions
from tests.dashboard.policies import permit, set_policy
from tests.harness.mqtt import publisher, wait_for

pytestmark = pytest.mark.e2e
__all__ = ["browser_page", "chromium"]


@pytest.fixture
def live(app):
    server = LiveServer(app)
    yield server
    server.close()


def count(page, festival: str, artwork: str, choice: str) -> str:
    selector = (
        f'section[data-festival="{festival}"] [data-artwork="{artwork}"] '
        f'[data-choice="{choice}"] .count'
    )
    return page.locator(selector).inner_text()


def publish_opinion(broker, db_path, artwork: str, choice: str) -> None:
    """Publish one signed opinion from a new station of strp, as a station would."""
    db = connect(db_path)
    station = f"st-{uuid.uuid4().hex[:8]}"
    credentials = registry.add_station(db, "strp", station)
    db.close()
    opinion = Opinion.build(
        id=str(uuid.uuid4()),
        festival="strp",
        station=station,
        artwork=artwork,
        visitor="ab" * 32,
        choice=choice,
        tapped_at=datetime.now(UTC),
        seq=0,
        station_secret=bytes.fromhex(credentials.station_secret),
    )
    client = publisher(broker)
    client.publish(
        topic_for("strp", station, "opinion"), opinion.payload(), qos=1
    ).wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


def test_the_board_shows_counts_and_a_published_opinion_appears_without_reload(
    live, dash_db, browser_page, mosquitto, screen_keys
):
    page = browser_page
    add_opinions(dash_db, "strp", "aw-1", ["love", "love", "like"])
    add_opinions(dash_db, "strp", "aw-2", ["dislike"], first_visitor=10)
    hub = Hub(dash_db, parse_broker_url(mosquitto.url))
    thread = threading.Thread(target=hub.run, daemon=True)
    thread.start()
    try:
        assert wait_for(hub.connected.is_set, 10)
        page.goto(live.url + keyed("/boards/strp", screen_keys))
        page.wait_for_selector("#live-status.live")
        assert count(page, "strp", "aw-1", "love") == "2"
        assert count(page, "strp", "aw-1", "like") == "1"
        assert count(page, "strp", "aw-2", "dislike") == "1"
        page.evaluate("window.notReloaded = true")
        publish_opinion(mosquitto, dash_db, "aw-1", "love")
        page.wait_for_selector('[data-artwork="aw-1"] [data-choice="love"][data-count="3"]')
        assert page.evaluate("window.notReloaded") is True
        screenshot(page, "board-strp")
    finally:
        hub.stop()
        thread.join(15)


def test_a_revoked_policy_removes_the_section_within_two_seconds(live, dash_db, browser_page):
    page = browser_page
    add_opinions(dash_db, "strp", "aw-1", ["love"])
    set_policy(dash_db, "strp", [permit("public", level="artwork", min_visitors=1)])
    page.goto(f"{live.url}/boards/public")
    page.wait_for_selector("#live-status.live")
    assert page.locator('section[data-festival="strp"]').count() == 1
    set_policy(dash_db, "strp", [])
    page.wait_for_selector('section[data-festival="strp"]', state="detached", timeout=2000)


def test_the_board_shows_without_javascript(live, dash_db, chromium, screen_keys):
    add_opinions(dash_db, "strp", "aw-3", ["meh", "meh"])
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live.url + keyed("/boards/strp", screen_keys))
    assert count(page, "strp", "aw-3", "meh") == "2"
    context.close()


def test_an_organiser_previews_and_saves_a_policy_for_another_festival(
    live, dash_db, browser_page, chromium, screen_keys
):
    add_opinions(dash_db, "strp", "aw-1", ["love", "like"])
    screen = chromium.new_context().new_page()
    screen.goto(live.url + keyed("/boards/ddw", screen_keys))
    screen.wait_for_selector("#live-status.live")
    assert screen.locator('section[data-festival="strp"]').count() == 0

    page = browser_page
    log_in(page, live.url)
    page.click("text=Sharing policy")
    rules = {"rules": [permit("festival:ddw", level="artwork", min_visitors=1)]}
    page.click("details.advanced summary")  # the policy as JSON
    advanced = page.locator("details.advanced form")
    advanced.locator('textarea[name="policy"]').fill(json.dumps(rules, indent=2))
    advanced.locator('button[value="preview"]').click()
    page.select_option('select[name="audience"][form="policy-form"]', "festival:ddw")
    page.click('button[value="preview"][form="policy-form"]')
    preview = page.locator("#preview")
    assert preview.locator('[data-artwork="aw-1"] [data-choice="love"] .count').inner_text() == "1"
    screenshot(page, "policy-editor-preview")
    assert screen.locator('section[data-festival="strp"]').count() == 0  # not saved yet

    page.fill('#policy-form input[name="reason"]', "share with Dutch Design Week")
    page.click('#policy-form button[value="save"]')
    page.wait_for_selector(".flash")
    screen.wait_for_selector('section[data-festival="strp"]')
    shown = screen.locator('section[data-festival="strp"]')
    assert shown.get_attribute("data-rule") == "festival:ddw"
    assert shown.locator(".rule").inner_text().startswith("Shared with this festival")
    screenshot(screen, "board-ddw-after-save")
    screen.context.close()


def test_an_organiser_changes_a_rule_in_the_form_saves_and_restores(
    live, dash_db, browser_page, chromium
):
    add_opinions(dash_db, "strp", "aw-1", ["love", "like"])
    set_policy(dash_db, "strp", [permit("public", min_visitors=5)])
    board = chromium.new_context().new_page()
    board.goto(live.url + "/boards/public")
    board.wait_for_selector("#live-status.live")
    cells = board.locator('section[data-festival="strp"] .cell:not(.withheld)')
    assert cells.count() == 0  # two visitors: the festival total is withheld

    page = browser_page
    log_in(page, live.url)
    page.click("text=Sharing policy")
    row = page.locator('.rule-row[data-rule="public/display"]')
    assert "festival totals, once 5 visitors" in row.locator(".words").inner_text()
    assert page.locator("#preview .nothing").count() == 1
    # Change the rule in the form: the words, the preview and the change follow at once.
    row.locator('select[name="public/display/level"]').select_option("artwork")
    row.locator('input[name="public/display/min_visitors"]').fill("1")
    row.locator('input[name="public/display/min_visitors"]').dispatch_event("change")
    page.wait_for_selector('#preview [data-artwork="aw-1"] [data-choice="love"]')
    assert "totals per artwork" in row.locator(".words").inner_text()
    changes = page.locator("#changes").inner_text()
    assert "Show on the public board: totals per artwork (was: festival totals" in changes
    screenshot(page, "policy-form-changed")
    assert cells.count() == 0  # not saved yet

    page.fill('#policy-form input[name="reason"]', "show each artwork")
    page.click('#policy-form button[value="save"]')
    assert "Saved as version 2." in page.locator(".flash").inner_text()
    board.wait_for_selector('section[data-festival="strp"] [data-artwork="aw-1"] [data-choice]')

    page.click("text=History")
    version = page.locator("#v1")
    version.locator('input[name="reason"]').fill("back to totals")
    version.locator("button").click()
    assert "Version 1 restored as version 3." in page.locator(".flash").inner_text()
    assert "“back to totals”" in page.locator("#v3").inner_text()
    board.wait_for_selector(
        'section[data-festival="strp"] [data-artwork="aw-1"] [data-choice]', state="detached"
    )
    screenshot(page, "policy-history-restored")
    board.context.close()


def test_the_page_reconnects_after_the_server_restarts(dash_db, browser_page, screen_keys):
    first = LiveServer(create_app(dash_db, poll_interval=0.05))
    port = first.port
    page = browser_page
    page.goto(first.url + keyed("/boards/strp", screen_keys))
    page.wait_for_selector("#live-status.live")
    first.close()
    page.wait_for_selector("#live-status.reconnecting")
    add_opinions(dash_db, "strp", "aw-2", ["like"])
    second = LiveServer(create_app(dash_db, poll_interval=0.05), port=port)
    try:
        page.wait_for_selector('[data-artwork="aw-2"] [data-choice="like"][data-count="1"]')
        page.wait_for_selector("#live-status.live")
    finally:
        second.close()


def test_an_organiser_makes_a_screen_key_and_revoking_it_darkens_the_screen(
    live, dash_db, browser_page, chromium
):
    add_opinions(dash_db, "strp", "aw-1", ["love"])
    page = browser_page
    log_in(page, live.url)
    page.click("text=Screens")
    page.fill('input[name="name"]', "foyer")
    page.click("text=Make a key")
    address = page.locator("code.address").inner_text()
    assert address.startswith(f"{live.url}/boards/strp?key=")
    for width in (390, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"organiser-screens-{width}")

    screen = chromium.new_context().new_page()
    screen.goto(address)
    screen.wait_for_selector("#live-status.live")
    add_opinions(dash_db, "strp", "aw-1", ["like"], first_visitor=5)
    # The page's own stream carries the key: the new opinion arrives without a reload.
    screen.wait_for_selector('[data-artwork="aw-1"] [data-choice="like"][data-count="1"]')

    page.click('tr[data-screen="foyer"] button')
    page.wait_for_selector(".flash")
    assert page.locator('tr[data-screen="foyer"]').count() == 0
    screen.wait_for_selector("#live-status.reconnecting", timeout=2000)
    # Refused on reconnecting, the screen reloads and says how to get a new key.
    screen.wait_for_selector("text=This board needs a screen key", timeout=8000)
    for width in (390, 1440):
        screen.set_viewport_size({"width": width, "height": 900})
        screenshot(screen, f"screen-key-needed-{width}")
    screen.context.close()
