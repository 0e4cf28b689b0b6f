"""Boards made for a wall, in a real Chromium: at 1920x1080 and 1280x720 every board fits the
screen without scrolling (in pages and in shrinking cells) and keeps updating after a new
tap; a phone-sized window scrolls; the QR code on a board decodes to the transparency page;
axe-core finds no WCAG 2.2 AA violation; no page asks for anything that is not there.
Screenshots of every board, the page without a key and the posters, in English and Dutch,
land in ``SHOTS``."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from hub import registry
from storage import connect
from tests.dashboard.browser import CHROMIUM, CHROMIUM_ARGS, log_in
from tests.dashboard.conftest import keyed
from tests.dashboard.live import LiveServer
from tests.dashboard.opinions import add_opinions
from tests.dashboard.phones import add_stickers, phone_site, tap_path
from tests.dashboard.policies import permit, set_policy

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("TAPSHARE_SHOTS", Path(__file__).resolve().parents[2] / "artifacts"))
WALLS = [(1920, 1080), (1280, 720)]
PHONE = (390, 844)
LANGUAGES = ["en", "nl"]
MORE_ARTWORKS = ["Lighthouse", "Echo Chamber", "Sand Clock", "Paper Moon", "Glass Rain"]
NO_KEY = {"en": "This board needs a screen key", "nl": "Dit bord heeft een schermsleutel nodig"}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        found = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield found
        found.close()


def festival_data(db_path: Path) -> None:
    """strp: eight artworks with opinions, shared with everyone per artwork; ddw: shared
    with everyone as one total from 2 visitors; glow shares nothing."""
    db = connect(db_path)
    for number, title in enumerate(MORE_ARTWORKS, start=4):
        registry.add_artwork(db, "strp", f"aw-{number}", title)
    db.close()
    choices = ["love", "like", "meh", "dislike"]
    for number in range(1, 9):
        votes = [choices[(number * i) % 4] for i in range(3 + number * 2)]
        add_opinions(db_path, "strp", f"aw-{number}", votes, first_visitor=number * 100)
    add_opinions(db_path, "ddw", "chair", ["yes", "yes", "no"], station="gate")
    set_policy(db_path, "strp", [permit("public", level="artwork", min_visitors=1)])
    set_policy(db_path, "ddw", [permit("public", level="festival", min_visitors=2)])


@pytest.fixture
def site(dash_db, mosquitto):
    """The dashboard with votes by phone (so festival boards show how to vote)."""
    festival_data(dash_db)
    add_stickers(dash_db)
    with phone_site(dash_db, mosquitto) as server:
        yield server


def new_page(browser, size: tuple[int, int], lang: str = "en"):
    width, height = size
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="nl-NL" if lang == "nl" else "en-GB",
        is_mobile=width < 600,
        has_touch=width < 600,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def shoot(page, name: str, *, full_page: bool = False) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def geometry(page) -> dict[str, float]:
    return page.evaluate(
        """() => {
          const board = document.getElementById("board");
          const cells = [...document.querySelectorAll(".cell")].filter(c => !c.hidden
            && c.closest(".festival-section:not([hidden])"));
          const bottom = Math.max(0, ...cells.map(c => c.getBoundingClientRect().bottom));
          const root = document.documentElement;
          return {page: root.scrollHeight, wide: root.scrollWidth,
                  width: innerWidth, height: innerHeight, shown: cells.length,
                  clipped: board.scrollHeight - board.clientHeight, bottom,
                  font: parseFloat(getComputedStyle(board).fontSize)};
        }"""
    )


def assert_fits(page) -> dict[str, float]:
    found = geometry(page)
    assert found["page"] <= found["height"] and found["wide"] <= found["width"], found
    assert found["clipped"] <= 1 and found["bottom"] <= found["height"], found
    assert found["shown"] >= 1, found
    return found


def count_of(page, artwork: str, choice: str) -> int:
    selector = f'section[data-festival="strp"] [data-artwork="{artwork}"] [data-choice="{choice}"]'
    return int(page.locator(selector).get_attribute("data-count"))


def board_paths(keys: dict[str, str]) -> dict[str, str]:
    return {"public": "/boards/public", "festival": keyed("/boards/strp", keys)}


@pytest.mark.broker
@pytest.mark.parametrize("size", [*WALLS, PHONE], ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_board_fits_the_screen_and_keeps_updating(site, dash_db, browser, screen_keys, size):
    width, height = size
    for name, path in board_paths(screen_keys).items():
        for lang in LANGUAGES:
            page = new_page(browser, size, lang)
            page.goto(site.url + path)
            page.wait_for_selector("#live-status.live")
            assert page.locator("html").get_attribute("lang") == lang
            if size == PHONE:
                found = geometry(page)
                assert found["page"] > found["height"], "a phone scrolls through the board"
                assert found["wide"] <= found["width"], found
            else:
                assert_fits(page)
            assert page.locator("svg.qr").count() >= 1
            shoot(page, f"board-{name}-{width}x{height}-{lang}", full_page=size == PHONE)
            page.context.close()
        # A new tap reaches the open board; it still fits, screen readers hear of it, and
        # the update is in the page's language (the public board in English, strp's in Dutch).
        lang = "en" if name == "public" else "nl"
        page = new_page(browser, size, lang)
        page.goto(site.url + path)
        page.wait_for_selector("#live-status.live")
        before = count_of(page, "aw-1", "love")
        add_opinions(dash_db, "strp", "aw-1", ["love"], first_visitor=9000 + width + len(name))
        page.wait_for_selector(
            f'[data-artwork="aw-1"] [data-choice="love"][data-count="{before + 1}"]',
            state="attached",
        )
        assert "Cloud" in page.locator("#board-news").inner_text()
        assert page.locator("#board-news").get_attribute("aria-live") == "polite"
        total = page.locator('section[data-festival="strp"] .total').inner_text()
        assert total.endswith({"en": " opinions", "nl": " meningen"}[lang]), total
        ticking = {"en": "^updated \\d+ s ago$", "nl": "^\\d+ s geleden bijgewerkt$"}[lang]
        page.wait_for_function(
            f"() => /{ticking}/.test(document.getElementById('live-status').textContent)"
        )
        if size != PHONE:
            assert_fits(page)
        page.context.close()


@pytest.mark.broker
@pytest.mark.parametrize("size", WALLS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_pages_turn_and_cells_shrink_to_fit(site, browser, screen_keys, size):
    path = keyed("/boards/strp", screen_keys)
    page = new_page(browser, size)
    page.goto(site.url + path + "&layout=pages&turn=3")
    page.wait_for_selector("#live-status.live")
    first = assert_fits(page)
    shown = page.evaluate("[...document.querySelectorAll('.cell')].filter(c => !c.hidden).length")
    if shown < 9:  # eight artworks of strp, one total of ddw: more than one page
        assert page.locator("#board-pages").inner_text().startswith("page 1 of ")
        page.wait_for_function(
            "() => document.getElementById('board-pages').textContent.startsWith('page 2')"
        )
        assert_fits(page)
    page.context.close()

    page = new_page(browser, size)
    page.goto(site.url + path + "&layout=fit")
    page.wait_for_selector("#live-status.live")
    found = assert_fits(page)
    assert found["shown"] == 9, found  # every artwork at once
    assert found["font"] <= first["font"]
    shoot(page, f"board-festival-fit-{size[0]}x{size[1]}-en")
    page.context.close()

    page = new_page(browser, size)
    page.goto(site.url + path + "&layout=scroll")
    page.wait_for_selector("#live-status.live")
    found = geometry(page)
    assert found["page"] > found["height"] and found["shown"] == 9, found
    page.context.close()


@pytest.mark.broker
@pytest.mark.parametrize("size", [(1920, 1080), PHONE], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_qr_code_on_a_board_decodes_to_the_transparency_page(site, browser, screen_keys, size):
    import zxingcpp
    from PIL import Image

    page = new_page(browser, size)
    page.goto(site.url + keyed("/boards/strp", screen_keys))
    page.wait_for_selector("#live-status.live")
    code = page.locator("svg.qr").first
    code.scroll_into_view_if_needed()
    image = Image.open(io.BytesIO(code.screenshot()))
    found = [result.text for result in zxingcpp.read_barcodes(image)]
    assert found == [f"{site.url}/festivals/strp"]
    # Where phones vote, the second code tells how.
    image = Image.open(io.BytesIO(page.locator("svg.qr").nth(1).screenshot()))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [f"{site.url}/festivals/strp#vote"]
    page.context.close()


@pytest.mark.broker
@pytest.mark.parametrize("size", [*WALLS, PHONE], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_page_without_a_key_and_the_posters(site, browser, size):
    width, height = size
    for lang in LANGUAGES:
        page = new_page(browser, size, lang)
        response = page.goto(site.url + "/boards/strp")
        assert response.status == 401
        assert page.locator("h1").inner_text() == NO_KEY[lang]
        assert page.locator("text=tapshare screen add strp NAME").count() == 1
        shoot(page, f"no-key-{width}x{height}-{lang}", full_page=True)
        log_in(page, site.url)
        page.goto(f"{site.url}/organiser/strp/posters?paper=a4")
        assert page.locator("article.poster").count() == 8
        assert page.locator('article.poster[data-artwork="aw-1"] .phone').count() == 1
        assert page.locator('article.poster[data-artwork="aw-4"] .phone').count() == 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        poster = page.locator("article.poster").first
        poster.screenshot(path=str(SHOTS / f"poster-{width}x{height}-{lang}.png"))
        page.context.close()


def watch_failures(page) -> list[str]:
    failures: list[str] = []
    page.on("response", lambda r: r.status >= 400 and failures.append(f"{r.status} {r.url}"))
    page.on("console", lambda m: m.type == "error" and failures.append(f"console: {m.text}"))
    # A board's event stream is cut when the page is left: that is no missing file.
    page.on(
        "requestfailed",
        lambda r: r.failure != "net::ERR_ABORTED" and failures.append(f"failed: {r.url}"),
    )
    return failures


def axe_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
    ]


@pytest.mark.broker
@pytest.mark.parametrize("size", [(1280, 720), PHONE], ids=lambda s: f"{s[0]}x{s[1]}")
def test_axe_finds_nothing_and_no_page_misses_a_file(site, dash_db, browser, screen_keys, size):
    visitor = [
        "/",
        "/boards/public",
        keyed("/boards/strp", screen_keys),
        "/boards/strp?layout=scroll&key=" + screen_keys["strp"],
        "/festivals/strp",
        tap_path(dash_db),
        "/organiser/login",
    ]
    organiser = [
        "/organiser/strp",
        "/organiser/strp/policy",
        "/organiser/strp/screens",
        "/organiser/strp/posters",
        "/organiser/strp/history",
    ]
    page = new_page(browser, size)
    failures = watch_failures(page)
    found = {}
    for path in visitor:
        page.goto(site.url + path)
        page.wait_for_load_state("load")
        assert page.locator('meta[name="viewport"]').count() == 1, path
        found[path] = axe_violations(page)
    log_in(page, site.url)
    for path in organiser:
        page.goto(site.url + path)
        page.wait_for_load_state("load")
        assert page.locator('meta[name="viewport"]').count() == 1, path
        found[path] = axe_violations(page)
    assert failures == []
    page.context.close()
    # The page without a key answers 401 on purpose: it is checked on a page of its own.
    page = new_page(browser, size)
    page.goto(site.url + "/boards/strp")
    found["no key"] = axe_violations(page)
    assert {path: v for path, v in found.items() if v} == {}
    page.context.close()


def test_keyboard_focus_is_visible(live_app, browser):
    page = new_page(browser, (1280, 720))
    page.goto(live_app.url + "/")
    page.keyboard.press("Tab")
    outline = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
    )
    assert outline[0] != "none" and outline[1] >= 2, outline
    page.context.close()


@pytest.fixture
def live_app(app):
    server = LiveServer(app)
    yield server
    server.close()
