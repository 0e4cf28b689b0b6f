"""Plain words in English and Dutch: each promise holds for the policy it explains."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from consent.plain import LANGUAGES, duration, explain, smallest_group, translations
from consent.policy import EMPTY_POLICY, Policy
from consent.sources import FestivalInfo

ROOT = Path(__file__).resolve().parents[2]
KNOWN = {"strp", "dd"}
SINGLE = "A figure of 1 visitor shows what that one visitor chose, without saying who."


def festival(board_min: int = 1, timezone: str = "Europe/Amsterdam") -> FestivalInfo:
    return FestivalInfo("strp", "STRP", ("yes", "no"), board_min, timezone)


def policy(*rules: dict[str, Any]) -> Policy:
    return Policy.checked({"rules": list(rules)}, KNOWN)


def permit(to: str, action: str = "display", **options: Any) -> dict[str, Any]:
    return {"effect": "permit", "to": to, "action": action, **options}


@pytest.mark.parametrize(
    ("board_min", "rules", "smallest"),
    [
        (1, [], 1),
        (5, [], 5),
        (5, [permit("public", min_visitors=10)], 5),
        (5, [permit("platform", "analyse", level="artwork", min_visitors=1)], 1),
        (10, [permit("network", min_visitors=3), permit("public", min_visitors=20)], 3),
        # A refusal shares nothing, whatever it says.
        (4, [{"effect": "prohibit", "to": "platform", "action": "export"}], 4),
    ],
)
def test_the_closing_promise_is_the_smallest_minimum_anyone_sees(board_min, rules, smallest):
    lines = explain(festival(board_min), policy(*rules))
    assert smallest_group(festival(board_min), policy(*rules)) == smallest
    if smallest == 1:
        assert lines[-1] == SINGLE
        assert not any("nobody sees a figure of fewer" in line for line in lines)
    else:
        assert lines[-1] == (
            f"Apart from STRP's organisers, nobody sees a figure of fewer than {smallest} visitors."
        )
    # What the policy can make false is never said.
    assert not any("never as what one person said" in line for line in lines)


def test_the_organisers_are_always_said_to_see_single_visitors():
    # A festival's organisers analyse and export its cells from 1 visitor (docs/policies.md).
    for lines in (explain(festival(10), EMPTY_POLICY), explain(festival(1), EMPTY_POLICY)):
        assert "even for an artwork with a single visitor" in lines[1]


@pytest.mark.parametrize(
    ("rule", "english", "dutch"),
    [
        (
            permit("platform", "analyse", level="artwork", min_visitors=1),
            "The operator of this platform sees STRP's totals per artwork in its reports once "
            "at least 1 visitor has given an opinion on an artwork.",
            "De beheerder van dit platform ziet de totalen per kunstwerk van STRP in de eigen "
            "rapporten, zodra minstens 1 bezoeker een mening over een kunstwerk heeft gegeven.",
        ),
        (
            permit("public", min_visitors=2, delay_minutes=120),
            "Anyone can see STRP's total for the whole festival on the public web board once "
            "at least 2 visitors have given an opinion, 2 hours late.",
            "Iedereen kan het totaal van het hele festival van STRP zien op het openbare "
            "webbord, zodra minstens 2 bezoekers een mening hebben gegeven, 2 uur later.",
        ),
        (
            {"effect": "prohibit", "to": "network", "action": "export"},
            "Other festivals in this network do not see STRP's opinions in datasets they download.",
            "Andere festivals in dit netwerk zien de meningen van STRP niet in datasets die ze "
            "downloaden.",
        ),
    ],
)
def test_a_rule_in_english_and_dutch_singular_and_plural(rule, english, dutch):
    assert english in explain(festival(), policy(rule), lang="en")
    assert dutch in explain(festival(), policy(rule), lang="nl")


def test_a_large_minimum_is_written_as_the_language_writes_numbers():
    lines_en = explain(festival(), policy(permit("public", min_visitors=1500)), lang="en")
    lines_nl = explain(festival(), policy(permit("public", min_visitors=1500)), lang="nl")
    assert any("at least 1,500 visitors" in line for line in lines_en)
    assert any("minstens 1.500 bezoekers" in line for line in lines_nl)


@pytest.mark.parametrize(
    ("timezone", "words"),
    [
        ("Europe/Amsterdam", "from 1 December 2026 19:00 CET on"),
        ("Europe/London", "from 1 December 2026 18:00 GMT on"),
        ("America/New_York", "from 1 December 2026 13:00 EST on"),
    ],
)
def test_times_are_in_the_festivals_time_zone(timezone, words):
    rule = permit("public", valid_from="2026-12-01T18:00:00Z")
    lines = explain(festival(timezone=timezone), policy(rule))
    assert any(words in line for line in lines), lines


def test_dutch_dates_are_dutch():
    rule = permit("public", valid_until="2026-05-04T00:00:00Z")
    assert any(
        "tot 4 mei 2026 02:00 CEST" in line for line in explain(festival(), policy(rule), lang="nl")
    )


def test_durations_in_both_languages():
    assert [duration(m) for m in (1, 90, 60, 120, 1440, 2880)] == [
        "1 minute",
        "90 minutes",
        "1 hour",
        "2 hours",
        "1 day",
        "2 days",
    ]
    assert [duration(m, lang="nl") for m in (1, 90, 60, 1440, 2880)] == [
        "1 minuut",
        "90 minuten",
        "1 uur",
        "1 dag",
        "2 dagen",
    ]


def test_an_unknown_language_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown language 'fr': one of en, nl"):
        explain(festival(), EMPTY_POLICY, lang="fr")


def test_every_sentence_has_a_dutch_translation():
    # Each language's catalogue is found and holds the consent layer's sentences.
    assert LANGUAGES == ("en", "nl")
    assert translations("nl").gettext("totals per artwork") == "de totalen per kunstwerk"


def test_the_consent_layer_imports_no_flask():
    for path in sorted((ROOT / "consent").rglob("*.py")):
        tree = ast.parse(path.read_text())
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        }
        assert not imported & {"flask", "flask_babel", "dashboard", "hub"}, path
