"""A Dutch organiser in a real Chromium (``nl-NL``): the policy editor with a warning, the
receipts and a refused station, in Dutch at a phone's width and a laptop's, none wider
than the screen; each kept as a screenshot."""

from __future__ import annotations

import pytest

from tests.dashboard.browser import chromium, log_in, screenshot
from tests.dashboard.test_organiser_browser import OVERFLOW, SIZES, festival_day

pytestmark = pytest.mark.browser
__all__ = ["chromium", "festival_day"]


@pytest.fixture
def dutch_page(chromium):
    """A fresh page whose browser asks for Dutch, as a Dutch organiser's does."""
    context = chromium.new_context(locale="nl-NL", viewport=SIZES["1440"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_a_dutch_organiser_reads_rules_warnings_receipts_and_refusals_in_dutch(
    festival_day, dutch_page
):
    page = dutch_page
    log_in(page, festival_day.url)
    base = f"{festival_day.url}/organiser/strp"
    seen: dict[str, str] = {}

    def keep(name: str) -> None:
        for width, size in SIZES.items():
            page.set_viewport_size(size)
            assert page.evaluate(OVERFLOW) <= 0, f"{name} is wider than {width} px"
            screenshot(page, f"organiser-nl-{name}-{width}")
        seen[name] = page.inner_text("main")

    page.goto(base + "/policy")
    keep("policy-warning")
    page.goto(base + "/receipts")
    keep("receipts")
    page.goto(base + "/")
    page.fill('input[name="station"]', "st-01")
    page.click('form[action$="/stations"] button[type="submit"]')
    page.wait_for_selector("text=is al geregistreerd")
    keep("station-refused")

    assert (
        "Tonen op het openbare bord: festivaltotalen, zodra 5 bezoekers" in seen["policy-warning"]
    )
    assert "Het publiek ziet het totaal van het festival op borden" in seen["policy-warning"]
    assert "Show on" not in seen["policy-warning"]
    assert "Tonen op de borden van andere festivals: de totalen per kunstwerk" in seen["receipts"]
    assert "station 'st-01' is al geregistreerd voor festival 'strp'" in seen["station-refused"]
