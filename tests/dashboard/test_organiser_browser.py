"""Every organiser page in a real Chromium, at a phone's width (390 px) and a laptop's
(1440 px): none is wider than the screen. The pages that answer a form (a station added,
an export prepared, the analysis read, an organiser or a sticker added) are reached
through their forms, and a new station's file really downloads, once."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from dashboard import opinions
from dashboard.accounts import add_organiser
from storage import connect
from tests.dashboard.browser import browser_page, chromium, log_in, screenshot
from tests.dashboard.conftest import OTHER, OWNER, PASSWORD
from tests.dashboard.live import LiveServer
from tests.dashboard.opinions import add_opinions, set_station_state
from tests.dashboard.policies import permit, set_policy

pytestmark = pytest.mark.browser
__all__ = ["browser_page", "chromium"]

SIZES = {"390": {"width": 390, "height": 844}, "1440": {"width": 1440, "height": 900}}
#: Page width beyond the window: 0 when nothing sticks out sideways.
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def festival_day(dash_db, app):
    """strp with opinions over the last hours, stations reporting, others sharing with it,
    and its organiser managing glow too (so the organiser's home lists two festivals)."""
    for hours_ago, artwork, choices in [
        (5, "aw-1", ["love", "like"]),
        (4, "aw-2", ["meh", "love", "like"]),
        (3, "aw-1", ["love", "love", "dislike"]),
        (2, "aw-3", ["like"]),
        (1, "aw-2", ["love", "like", "meh", "love"]),
        (0.2, "aw-1", ["like", "meh"]),
    ]:
        first = int(hours_ago * 100) + len(artwork) * 1000 + ord(artwork[-1]) * 10
        add_opinions(dash_db, "strp", artwork, choices, first, minutes_ago=hours_ago * 60)
    add_opinions(dash_db, "ddw", "chair", ["yes", "no", "yes"], station="gate")
    readers = [{"device": f"usb:001:00{n}", "ok": True} for n in range(4)]
    set_station_state(dash_db, "strp", "st-01", "online", outbox=0, readers=readers)
    set_station_state(dash_db, "strp", "st-02", "offline", outbox=3, readers=readers[:2])
    set_policy(
        dash_db,
        "strp",
        [
            permit("public", "display", level="festival", min_visitors=5),
            permit("network", "display", level="artwork", min_visitors=3),
            permit("festival:ddw", "analyse", level="artwork", min_visitors=2),
        ],
    )
    set_policy(
        dash_db,
        "ddw",
        [
            permit("festival:strp", "analyse", level="festival", min_visitors=2),
            permit("festival:strp", "export", level="artwork", min_visitors=5),
        ],
    )
    db = connect(dash_db)
    for _ in range(3):  # ddw's organiser reads strp's data: strp's access log has entries
        opinions.board(db, "festival:ddw", "analyse", accessor=OTHER, owners=["strp"])
    add_organiser(db, "glow", OWNER, PASSWORD)
    db.close()
    server = LiveServer(app)
    yield server
    server.close()


def _fits(page, name: str, shots: list[str], too_wide: list[str]) -> None:
    """At each width: a screenshot is kept, and whether anything sticks out sideways."""
    for width, size in SIZES.items():
        page.set_viewport_size(size)
        overflow = page.evaluate(OVERFLOW)
        if overflow > 0:
            too_wide.append(f"{name} at {width} px by {overflow} px")
        screenshot(page, f"organiser-{name}-{width}")
        shots.append(f"organiser-{name}-{width}")


def test_every_organiser_page_fits_a_phone_and_a_laptop(festival_day, browser_page):
    page = browser_page
    url = festival_day.url
    shots: list[str] = []
    too_wide: list[str] = []
    page.goto(f"{url}/organiser/login")
    _fits(page, "login", shots, too_wide)
    log_in(page, url)
    page.goto(f"{url}/organiser/")
    _fits(page, "home", shots, too_wide)
    base = f"{url}/organiser/strp"
    pages: dict[str, str] = {
        "overview": "/",
        "policy": "/policy",
        "history": "/history",
        "access-log": "/access-log",
        "receipts": "/receipts",
        "analyse": "/analyse",
        "exports": "/exports",
        "screens": "/screens",
        "stickers": "/stickers",
        "organisers": "/organisers",
    }
    for name, path in pages.items():
        page.set_viewport_size(SIZES["1440"])
        page.goto(base + path)
        _fits(page, name, shots, too_wide)

    def add(path: str, field: str, value: str, button: str, ready: str) -> Callable[[], None]:
        """Open a page, fill its one field, press its button and wait for the answer."""

        def reach() -> None:
            page.goto(base + path)
            page.fill(f'input[name="{field}"]', value)
            page.click(button)
            page.wait_for_selector(ready)

        return reach

    forms: dict[str, Callable[[], None]] = {
        "analyse-read": lambda: (
            page.goto(base + "/analyse"),
            page.click("text=Show the analysis"),
            page.wait_for_selector("ul.grants"),
        ),
        "export-ready": lambda: (
            page.goto(base + "/exports"),
            page.click("text=Prepare the export"),
            page.wait_for_selector("text=Your export is ready"),
        ),
        "sticker-added": add(
            "/stickers", "tag", "cloud-1", "text=Add sticker", "text=Sticker cloud-1 added"
        ),
        "organiser-added": lambda: (
            page.goto(base + "/organisers"),
            page.fill('input[name="email"]', "new@strp.example"),
            page.check('input[name="make_password"][value="yes"]'),
            page.click("text=Add organiser"),
            page.wait_for_selector("code.secret"),
        ),
        "screen-key-made": add("/screens", "name", "foyer", "text=Make a key", "code.address"),
    }
    for name, reach in forms.items():
        page.set_viewport_size(SIZES["1440"])
        reach()
        _fits(page, name, shots, too_wide)

    # A new station: its station.toml downloads from the answer to the form, once.
    page.set_viewport_size(SIZES["1440"])
    page.goto(base + "/")
    page.fill('input[name="station"]', "hall-c")
    page.click("text=Add station")
    page.wait_for_selector("text=Station hall-c added")
    with page.expect_download() as download:
        page.click("text=Download station.toml")
    saved = download.value
    assert saved.suggested_filename == "station.toml"
    settings = tomllib.loads(Path(saved.path()).read_text())
    assert settings["station"] == "hall-c" and settings["broker"].startswith("mqtt://strp.hall-c:")
    password = settings["broker"].split(":")[2].split("@")[0]
    _fits(page, "station-added", shots, too_wide)
    page.goto(base + "/")
    assert password not in page.content()
    assert page.locator('tr[data-station="hall-c"]').count() == 1
    assert len(shots) == 2 * (2 + len(pages) + len(forms) + 1)
    assert too_wide == []
