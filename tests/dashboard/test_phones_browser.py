"""Phones in a real Chromium: a sticker's address opens the vote page, the vote reaches
the board within 2 seconds, the same tap is refused, another browser is another visitor,
and the visitor's page lists and erases. Screenshots of every page at 390 and 1440 px in
both languages land in artifacts/."""

from __future__ import annotations

import time

import pytest

from tests.dashboard.browser import chromium, screenshot
from tests.dashboard.phones import add_stickers, phone_site, tap_path
from tests.dashboard.policies import permit, set_policy
from tests.harness.mqtt import wait_for
from tests.hub.running import running_hub

pytestmark = pytest.mark.e2e
__all__ = ["chromium"]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
MAX_PAGE_BYTES = 50_000
MIN_TARGET_PX = 48


@pytest.fixture
def site(dash_db, mosquitto):
    add_stickers(dash_db)
    set_policy(dash_db, "strp", [permit("public", level="artwork", min_visitors=1)])
    with running_hub(dash_db, mosquitto), phone_site(dash_db, mosquitto) as server:
        yield server


LIKES = 'section[data-festival="strp"] [data-artwork="aw-1"] [data-choice="like"]'


def count(page, choice: str) -> str:
    selector = (
        f'section[data-festival="strp"] [data-artwork="aw-1"] [data-choice="{choice}"] .count'
    )
    return page.locator(selector).inner_text()


def visitors(page) -> str:
    cell = page.locator('section[data-festival="strp"] [data-artwork="aw-1"]')
    return cell.get_attribute("data-visitors") if cell.count() else "0"


def page_bytes(page, url: str) -> int:
    """The page's HTML and its stylesheet, as the server sends them."""
    html = page.request.get(url)
    css = page.request.get(url.split("/t/")[0].split("/my/")[0] + "/static/phone.css")
    return len(html.body()) + len(css.body())


def small_targets(page) -> list[str]:
    """Buttons, links and summaries smaller than 48 x 48 CSS pixels (inline text links in a
    sentence are exempt, as WCAG 2.5.8 allows)."""
    return page.evaluate(
        """(min) => [...document.querySelectorAll('button, a.button, summary')]
            .map(e => [e.textContent.trim(), e.getBoundingClientRect()])
            .filter(([, r]) => r.width < min || r.height < min)
            .map(([t, r]) => `${t}: ${r.width}x${r.height}`)""",
        MIN_TARGET_PX,
    )


def test_a_phone_votes_and_the_board_changes_within_two_seconds(site, chromium, dash_db):
    board_context = chromium.new_context(**DESKTOP)
    board = board_context.new_page()
    board.goto(site.url + "/boards/public")
    phone_context = chromium.new_context(**PHONE)
    phone = phone_context.new_page()
    phone.set_default_timeout(10_000)
    tap = site.url + tap_path(dash_db)
    phone.goto(tap)
    assert phone.locator("h1").inner_text() == "Cloud"
    assert page_bytes(phone, tap) < MAX_PAGE_BYTES
    assert small_targets(phone) == []
    started = time.monotonic()
    phone.get_by_role("button", name="Like it", exact=True).tap()
    phone.get_by_text("Recorded: Like it.").wait_for()
    assert wait_for(lambda: board.locator(LIKES).count() and count(board, "like") == "1", 2.0), (
        board.content()
    )
    assert time.monotonic() - started < 2.0 + 0.5  # the recorded page came first
    # The same tap again: refused, with its own page.
    response = phone.goto(tap)
    assert response.status == 409
    assert "This tap has been used" in phone.content()
    # Another browser is another visitor.
    other_context = chromium.new_context(**PHONE)
    other = other_context.new_page()
    other.goto(site.url + tap_path(dash_db))
    other.get_by_role("button", name="Love it", exact=True).tap()
    other.get_by_text("Recorded: Love it.").wait_for()
    assert wait_for(lambda: visitors(board) == "2", 2.0)
    # The first visitor's own page lists the vote and erases it.
    phone.goto(site.url + "/my/strp")
    assert "Cloud" in phone.locator("ul.opinions").inner_text()
    assert small_targets(phone) == []
    assert page_bytes(phone, site.url + "/my/strp") < MAX_PAGE_BYTES
    phone.get_by_role("button", name="Erase all my opinions").tap()
    phone.get_by_text("Your request is recorded").wait_for()
    assert wait_for(lambda: visitors(board) == "1" and count(board, "like") == "0", 2.0)
    phone.goto(site.url + "/my/strp")
    assert "no opinions" in phone.content()
    for context in (board_context, phone_context, other_context):
        context.close()


@pytest.mark.parametrize("locale", ["en-GB", "nl-NL"])
def test_screenshots_of_the_phone_pages(site, chromium, dash_db, locale):
    lang = locale[:2]
    for name, size in (("390", PHONE), ("1440", DESKTOP)):
        context = chromium.new_context(locale=locale, **size)
        page = context.new_page()
        tap = site.url + tap_path(dash_db, "s-2")
        page.goto(tap)
        assert page.locator("html").get_attribute("lang") == lang
        screenshot(page, f"phone-vote-{lang}-{name}")
        page.locator("button[name=choice]").first.click()
        page.locator(".status").wait_for()
        screenshot(page, f"phone-voted-{lang}-{name}")
        page.goto(tap)
        screenshot(page, f"phone-refused-{lang}-{name}")
        page.goto(site.url + "/my/strp")
        screenshot(page, f"phone-my-{lang}-{name}")
        page.goto(site.url + tap_path(dash_db, "fixed"))
        screenshot(page, f"phone-confirm-{lang}-{name}")
        assert small_targets(page) == []
        context.close()
