"""The phone pages' stylesheet: text and buttons meet WCAG 2.2 AA contrast, and touch
targets are at least 48 CSS pixels (the browser test measures them on the pages too)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parents[2] / "dashboard" / "static" / "phone.css").read_text()
VARIABLES = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", CSS))


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(one: str, two: str) -> float:
    high, low = sorted((luminance(one), luminance(two)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("fg", "bg"),
        ("fg", "panel"),
        ("muted", "bg"),
        ("muted", "panel"),
        ("accent", "bg"),
        ("accent", "panel"),
        ("on-accent", "accent"),
        ("on-accent", "warn"),
    ],
)
def test_text_contrast_is_at_least_4_5(text, background):
    assert contrast(VARIABLES[text], VARIABLES[background]) >= 4.5


@pytest.mark.parametrize(("edge", "background"), [("ok", "panel"), ("warn", "panel")])
def test_status_edges_are_visible(edge, background):
    # Non-text contrast (WCAG 1.4.11): 3:1.
    assert contrast(VARIABLES[edge], VARIABLES[background]) >= 3


def test_buttons_are_at_least_48_px_high():
    rule = re.search(r"a\.button, button \{([^}]*)\}", CSS)
    assert rule is not None
    height = re.search(r"min-height:\s*([\d.]+)rem", rule.group(1))
    assert height is not None and float(height.group(1)) * 16 >= 48
