"""Truth tables for the decision function, one step of docs/policies.md ("How a read is
decided") after another."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consent.decision import Decision, audiences, decide, viewer_festival
from consent.policy import Policy

NOW = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
KNOWN = {"strp", "dd", "gl"}


def policy(*rules: dict[str, object]) -> Policy:
    return Policy.checked({"rules": list(rules)}, KNOWN)


def permit(to: str, action: str = "display", **extra: object) -> dict[str, object]:
    return {"effect": "permit", "to": to, "action": action, **extra}


def prohibit(to: str, action: str = "display", **extra: object) -> dict[str, object]:
    return {"effect": "prohibit", "to": to, "action": action, **extra}


def run(p: Policy, viewer: str, action: str = "display", now: datetime = NOW) -> Decision:
    return decide("strp", viewer, action, now, p, policy_version=7, board_min_visitors=3)  # type: ignore[arg-type]


# Step 1: the owner sees all of its own data, at artwork level, for every action, whatever
# its policy says; its own boards use its own minimum.
@pytest.mark.parametrize("action", ["display", "analyse", "export"])
@pytest.mark.parametrize(
    "rules",
    [
        [],
        [prohibit("public"), prohibit("network")],
        [prohibit("festival:strp")],
        [permit("festival:strp", level="festival", min_visitors=50, delay_minutes=60)],
    ],
)
def test_owner_sees_all_of_its_own_data(action: str, rules: list[dict[str, object]]) -> None:
    rules = [{**rule, "action": action} for rule in rules]
    decision = run(policy(*rules), "festival:strp", action)
    minimum = 3 if action == "display" else 1
    assert decision == Decision(True, "artwork", minimum, 0, "own", 7)


# Step 2: which audiences match which viewer.
@pytest.mark.parametrize(
    ("to", "viewer", "matches"),
    [
        ("public", "public", True),
        ("public", "festival:dd", True),
        ("public", "platform", True),
        ("network", "festival:dd", True),
        ("network", "public", False),
        ("network", "platform", False),
        ("festival:dd", "festival:dd", True),
        ("festival:dd", "festival:gl", False),
        ("festival:dd", "public", False),
        ("festival:dd", "platform", False),
        ("platform", "platform", True),
        ("platform", "public", False),
        ("platform", "festival:dd", False),
    ],
)
def test_audience_matching(to: str, viewer: str, matches: bool) -> None:
    decision = run(policy(permit(to, level="artwork", min_visitors=2)), viewer)
    assert decision.allowed is matches
    assert decision.rule == (to if matches else None)
    assert (to in audiences(viewer)) is matches


# Step 2: only rules for the action asked about apply.
@pytest.mark.parametrize("rule_action", ["display", "analyse", "export"])
@pytest.mark.parametrize("asked", ["display", "analyse", "export"])
def test_only_rules_of_the_action_apply(rule_action: str, asked: str) -> None:
    decision = run(policy(permit("public", rule_action)), "festival:dd", asked)
    assert decision.allowed is (rule_action == asked)


# Step 2: validity windows, judged at the time of the read: from inclusive, until exclusive.
@pytest.mark.parametrize(
    ("window", "now", "applies"),
    [
        ({"valid_from": "2026-05-01T20:00:00Z"}, NOW, True),
        ({"valid_from": "2026-05-01T20:00:00Z"}, NOW - timedelta(microseconds=1), False),
        ({"valid_until": "2026-05-01T20:00:00Z"}, NOW, False),
        ({"valid_until": "2026-05-01T20:00:00Z"}, NOW - timedelta(microseconds=1), True),
        ({"valid_from": "2026-05-01T19:00:00Z", "valid_until": "2026-05-01T21:00:00Z"}, NOW, True),
        ({"valid_from": "2026-05-01T22:00:00+02:00"}, NOW, True),  # the same instant
        ({"valid_from": "2026-05-01T22:00:01+02:00"}, NOW, False),
        ({}, NOW, True),
    ],
)
def test_validity_windows(window: dict[str, str], now: datetime, applies: bool) -> None:
    assert run(policy(permit("network", **window)), "festival:dd", now=now).allowed is applies


def test_a_specific_rule_out_of_its_window_leaves_the_broader_one_deciding() -> None:
    p = policy(
        permit("network", level="festival", min_visitors=5),
        prohibit("festival:dd", valid_until="2026-05-01T12:00:00Z"),
    )
    assert run(p, "festival:dd", now=NOW - timedelta(hours=9)).rule == "festival:dd"
    assert not run(p, "festival:dd", now=NOW - timedelta(hours=9)).allowed
    late = run(p, "festival:dd")
    assert late.allowed and late.rule == "network"


# Step 3: the most specific applicable rule decides.
@pytest.mark.parametrize(
    ("rules", "viewer", "allowed", "rule"),
    [
        # festival:ID over network over public
        ([permit("public"), prohibit("network")], "festival:dd", False, "network"),
        ([prohibit("public"), permit("network")], "festival:dd", True, "network"),
        ([permit("network"), prohibit("festival:dd")], "festival:dd", False, "festival:dd"),
        ([prohibit("network"), permit("festival:dd")], "festival:dd", True, "festival:dd"),
        ([permit("public"), prohibit("festival:dd")], "festival:dd", False, "festival:dd"),
        (
            [prohibit("public"), permit("network"), prohibit("festival:dd")],
            "festival:gl",
            True,
            "network",
        ),
        # platform over public
        ([permit("public"), prohibit("platform")], "platform", False, "platform"),
        ([prohibit("public"), permit("platform")], "platform", True, "platform"),
        # network does not concern the operator or the public
        ([permit("public"), prohibit("network")], "platform", True, "public"),
        ([permit("public"), prohibit("network")], "public", True, "public"),
        # a prohibit only concerns its own audience
        ([prohibit("festival:gl"), permit("public")], "festival:dd", True, "public"),
        # no applicable rule: denied; nothing is shared by default
        ([], "public", False, None),
        ([], "festival:dd", False, None),
        ([], "platform", False, None),
        ([permit("festival:gl")], "festival:dd", False, None),
    ],
)
def test_most_specific_rule_decides(
    rules: list[dict[str, object]], viewer: str, allowed: bool, rule: str | None
) -> None:
    decision = run(policy(*rules), viewer)
    assert (decision.allowed, decision.rule) == (allowed, rule)
    assert decision.policy_version == 7


def test_a_permit_allows_at_its_level_minimum_and_delay() -> None:
    p = policy(
        permit("public", level="festival", min_visitors=20, delay_minutes=30),
        permit("network", level="artwork", min_visitors=4),
    )
    assert run(p, "public") == Decision(True, "festival", 20, 30, "public", 7)
    assert run(p, "festival:dd") == Decision(True, "artwork", 4, 0, "network", 7)


def test_permit_defaults_are_festival_level_five_visitors_no_delay() -> None:
    assert run(policy(permit("public")), "public") == Decision(True, "festival", 5, 0, "public", 7)


def test_a_denial_carries_no_level_minimum_or_delay() -> None:
    assert run(policy(prohibit("public")), "public") == Decision(
        False, None, None, None, "public", 7
    )


@pytest.mark.parametrize(
    "viewer", ["", "network", "festival:", "festival:Bad", "festival:public", "strp"]
)
def test_bad_viewers_are_refused(viewer: str) -> None:
    with pytest.raises(ValueError, match="viewer"):
        run(policy(), viewer)


def test_bad_action_is_refused() -> None:
    with pytest.raises(ValueError, match="action"):
        run(policy(), "public", "read")


def test_viewer_festival() -> None:
    assert viewer_festival("festival:dd") == "dd"
    assert viewer_festival("public") is None
    assert viewer_festival("platform") is None
