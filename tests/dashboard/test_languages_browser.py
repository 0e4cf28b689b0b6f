"""Languages in a real Chromium: ``<html lang>`` and the words follow the browser's locale
(its ``Accept-Language``) on the boards, the transparency page, a vote page and the
organiser area; the switch on a page changes language and stays on that page. Screenshots
of the pages in both languages at 390 and 1440 px land in artifacts/."""

from __future__ import annotations

import pytest

from tests.dashboard.browser import chromium, screenshot
from tests.dashboard.conftest import OWNER, PASSWORD, keyed
from tests.dashboard.phones import add_stickers, phone_site, tap_path
from tests.dashboard.policies import permit, set_policy

pytestmark = [pytest.mark.browser, pytest.mark.broker]
__all__ = ["chromium"]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
#: Per language: a path (with a screen key or a fresh tap filled in) and words it shows.
WORDS = {
    "en": {
        "board": "Our own visitors",
        "public": "Shared with everyone",
        "transparency": "Who can see it",
        "vote": "What do you think of this artwork?",
        "login": "Organiser login",
        "overview": "Artworks and stations",
        "policy": "Save as a new version",
    },
    "nl": {
        "board": "Onze eigen bezoekers",
        "public": "Gedeeld met iedereen",
        "transparency": "Wie het kan zien",
        "vote": "Wat vind je van dit kunstwerk?",
        "login": "Inloggen voor organisatoren",
        "overview": "Kunstwerken en stations",
        "policy": "Opslaan als nieuwe versie",
    },
}


@pytest.fixture
def site(dash_db, mosquitto, screen_keys):
    add_stickers(dash_db)
    set_policy(dash_db, "strp", [permit("public", level="artwork", min_visitors=1)])
    from tests.dashboard.opinions import add_opinions

    add_opinions(dash_db, "strp", "aw-1", ["love", "like", "like"])
    with phone_site(dash_db, mosquitto) as server:
        yield server


def paths(dash_db, screen_keys) -> dict[str, str]:
    return {
        "board": keyed("/boards/strp", screen_keys),
        "public": "/boards/public",
        "transparency": "/festivals/strp",
        "vote": tap_path(dash_db, "s-2"),
        "login": "/organiser/login",
    }


def log_in(page, url: str) -> None:
    page.goto(url + "/organiser/login")
    page.fill("input[name=email]", OWNER)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form.stacked button[type=submit]").click()
    page.wait_for_url("**/organiser/**")


@pytest.mark.parametrize("locale", ["en-GB", "nl-NL"])
def test_lang_and_words_follow_the_browsers_language(site, chromium, dash_db, screen_keys, locale):
    lang = locale[:2]
    context = chromium.new_context(locale=locale, **DESKTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    other = WORDS["nl" if lang == "en" else "en"]
    for name, path in paths(dash_db, screen_keys).items():
        page.goto(site.url + path)
        assert page.locator("html").get_attribute("lang") == lang, name
        text = page.locator("body").inner_text()
        assert WORDS[lang][name] in text, name
        assert other[name] not in text, name
    log_in(page, site.url)
    for name, path in (("overview", "/organiser/strp/"), ("policy", "/organiser/strp/policy")):
        page.goto(site.url + path)
        assert page.locator("html").get_attribute("lang") == lang, name
        assert WORDS[lang][name] in page.locator("body").inner_text(), name
    context.close()


def test_the_switch_changes_language_and_stays_on_the_page(site, chromium, dash_db):
    context = chromium.new_context(locale="en-GB", **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    vote = site.url + tap_path(dash_db, "s-1")
    page.goto(vote)
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="Nederlands").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.url == vote
    assert "Wat vind je van dit kunstwerk?" in page.locator("body").inner_text()
    # The choice stays: the next page is Dutch too, whatever the browser asks for.
    page.goto(site.url + "/festivals/strp")
    assert page.locator("html").get_attribute("lang") == "nl"
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.url == site.url + "/festivals/strp"
    assert page.locator("html").get_attribute("lang") == "en"
    context.close()


def test_a_live_dutch_board_stays_dutch_after_an_update(site, chromium, dash_db, screen_keys):
    from tests.dashboard.opinions import add_opinions

    context = chromium.new_context(locale="nl-NL", viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(site.url + keyed("/boards/strp", screen_keys))
    page.wait_for_selector("#live-status.live")
    assert "geleden bijgewerkt" in page.locator("#live-status").inner_text()
    add_opinions(dash_db, "strp", "aw-2", ["meh"])
    page.wait_for_selector('[data-artwork="aw-2"]')
    assert "Onze eigen bezoekers" in page.locator("#board").inner_text()
    assert "Our own visitors" not in page.locator("#board").inner_text()
    context.close()


@pytest.mark.parametrize("locale", ["en-GB", "nl-NL"])
def test_screenshots_in_both_languages(site, chromium, dash_db, locale):
    lang = locale[:2]
    for size_name, size in (("390", PHONE), ("1440", DESKTOP)):
        context = chromium.new_context(locale=locale, **size)
        page = context.new_page()
        page.set_default_timeout(10_000)
        for name, path in (
            ("transparency", "/festivals/strp"),
            ("index", "/"),
            ("error", "/festivals/nowhere"),
            ("login", "/organiser/login"),
            ("vote", tap_path(dash_db, "s-2")),
        ):
            page.goto(site.url + path)
            assert page.locator("html").get_attribute("lang") == lang
            # Nothing wider than the window.
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= size["viewport"]["width"], (name, width)
            screenshot(page, f"i18n-{name}-{lang}-{size_name}")
        context.close()


def test_dutch_words_keep_the_organiser_pages_within_a_phone(site, chromium):
    context = chromium.new_context(locale="nl-NL", **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, site.url)
    for tab in ("", "policy", "history", "access-log", "receipts", "analyse", "exports", "screens"):
        page.goto(f"{site.url}/organiser/strp/{tab}")
        assert page.locator("html").get_attribute("lang") == "nl", tab
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["viewport"]["width"], (tab, width)
    context.close()
