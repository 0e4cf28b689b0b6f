"""The policy model: what is accepted, and what is refused with which words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.policy import Policy, PolicyError, Rule

KNOWN = {"strp", "dd"}


def refused(data: object) -> str:
    with pytest.raises(PolicyError) as caught:
        Policy.checked(data, KNOWN)
    return str(caught.value)


def test_permit_defaults_are_filled_in() -> None:
    rule = Policy.checked(
        {"rules": [{"effect": "permit", "to": "public", "action": "display"}]}, KNOWN
    ).rules[0]
    assert (rule.level, rule.min_visitors, rule.delay_minutes) == ("festival", 5, 0)
    assert rule.valid_from is None and rule.valid_until is None


def test_prohibit_has_no_permit_fields() -> None:
    rule = Policy.checked(
        {"rules": [{"effect": "prohibit", "to": "network", "action": "export"}]}, KNOWN
    ).rules[0]
    assert (rule.level, rule.min_visitors, rule.delay_minutes) == (None, None, None)


def test_every_audience_and_action_is_accepted() -> None:
    rules = [
        {"effect": "permit", "to": to, "action": action}
        for to in ("public", "network", "festival:dd", "platform")
        for action in ("display", "analyse", "export")
    ]
    assert len(Policy.checked({"rules": rules}, KNOWN).rules) == 12


def test_wire_round_trip_keeps_everything() -> None:
    data = {
        "rules": [
            {
                "effect": "permit",
                "to": "festival:dd",
                "action": "analyse",
                "level": "artwork",
                "min_visitors": 10,
                "delay_minutes": 15,
                "valid_from": "2026-05-01T18:00:00Z",
                "valid_until": "2026-05-03T02:00:00+02:00",
            },
            {"effect": "prohibit", "to": "public", "action": "export"},
        ]
    }
    policy = Policy.checked(data, KNOWN)
    wire = policy.wire()
    assert wire["rules"][0]["valid_until"] == "2026-05-03T00:00:00Z"
    assert wire["rules"][0]["valid_from"] == "2026-05-01T18:00:00Z"
    assert wire["rules"][1] == {"effect": "prohibit", "to": "public", "action": "export"}
    assert Policy.checked(wire, KNOWN) == policy
    assert policy.rules[0].valid_until == datetime(2026, 5, 3, tzinfo=UTC)


def test_duplicates_are_refused_naming_both_rules() -> None:
    message = refused(
        {
            "rules": [
                {"effect": "permit", "to": "network", "action": "display"},
                {"effect": "permit", "to": "public", "action": "display"},
                {"effect": "prohibit", "to": "network", "action": "display"},
            ]
        }
    )
    assert "rules 1 and 3" in message and "network" in message and "display" in message


def test_same_audience_other_action_is_no_duplicate() -> None:
    rules = [
        {"effect": "permit", "to": "network", "action": "display"},
        {"effect": "prohibit", "to": "network", "action": "export"},
    ]
    assert len(Policy.checked({"rules": rules}, KNOWN).rules) == 2


def test_unknown_festival_is_refused() -> None:
    message = refused({"rules": [{"effect": "permit", "to": "festival:nope", "action": "display"}]})
    assert "rule 1" in message and "unknown festival 'nope'" in message


@pytest.mark.parametrize("field", ["level", "min_visitors", "delay_minutes"])
def test_permit_fields_on_a_prohibit_are_refused(field: str) -> None:
    value = {"level": "artwork", "min_visitors": 5, "delay_minutes": 0}[field]
    rule = {"effect": "prohibit", "to": "public", "action": "display", field: value}
    message = refused({"rules": [rule]})
    assert "rule 1 (prohibit public display)" in message and field in message


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"effect": "allow"}, "effect"),
        ({"to": "everyone"}, "to"),
        ({"to": "festival:"}, "to"),
        ({"to": "festival:Bad"}, "to"),
        ({"to": "festival:public"}, "to"),
        ({"action": "read"}, "action"),
        ({"level": "visitor"}, "level"),
        ({"min_visitors": 0}, "min_visitors"),
        ({"min_visitors": -3}, "min_visitors"),
        ({"min_visitors": 2.5}, "min_visitors"),
        ({"min_visitors": "5"}, "min_visitors"),
        ({"min_visitors": True}, "min_visitors"),
        ({"delay_minutes": -1}, "delay_minutes"),
        ({"delay_minutes": 10**12}, "delay_minutes"),
        ({"delay_minutes": None}, "delay_minutes"),
        ({"valid_from": "yesterday"}, "valid_from"),
        ({"valid_from": "2026-05-01T20:00:00"}, "valid_from"),  # no time zone
        ({"valid_from": 1746129600}, "valid_from"),
        ({"valid_until": "2026-02-30T20:00:00Z"}, "valid_until"),
        (
            {"valid_from": "2026-05-02T00:00:00Z", "valid_until": "2026-05-01T00:00:00Z"},
            "valid_from must be before valid_until",
        ),
        (
            {"valid_from": "2026-05-01T00:00:00Z", "valid_until": "2026-05-01T02:00:00+02:00"},
            "valid_from must be before valid_until",
        ),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_values_are_refused_naming_the_rule(change: dict[str, object], words: str) -> None:
    rule = {"effect": "permit", "to": "public", "action": "display", **change}
    message = refused({"rules": [{"effect": "permit", "to": "network", "action": "export"}, rule]})
    assert "rule 2" in message and words in message
    assert "rule 1" not in message


def test_missing_fields_are_named() -> None:
    message = refused({"rules": [{"effect": "permit"}]})
    assert "to is required" in message and "action is required" in message


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ([], "JSON object"),
        ("rules", "JSON object"),
        ({}, '"rules"'),
        ({"rules": {}}, '"rules"'),
        ({"rules": [], "version": 2}, "version"),
        ({"rules": [7]}, "rule 1: a rule must be a JSON object"),
    ],
)
def test_bad_shapes_are_refused(data: object, words: str) -> None:
    assert words in refused(data)


def test_every_problem_is_listed_at_once() -> None:
    error_rules = [
        {"effect": "permit", "to": "festival:nope", "action": "display"},
        {"effect": "prohibit", "to": "public", "action": "display", "level": "artwork"},
        {"effect": "permit", "to": "public", "action": "display", "min_visitors": 0},
    ]
    with pytest.raises(PolicyError) as caught:
        Policy.checked({"rules": error_rules}, KNOWN)
    problems = caught.value.problems
    assert any("rule 1" in p for p in problems)
    assert any("rule 2" in p for p in problems)
    assert any("rules 2 and 3" in p for p in problems)
    assert any(p.startswith("rule 3") for p in problems)


def test_an_empty_policy_is_valid() -> None:
    assert Policy.checked({"rules": []}, set()).rules == ()


def test_rules_are_immutable() -> None:
    rule = Rule(effect="permit", to="public", action="display")
    with pytest.raises(ValueError):
        rule.level = "artwork"  # type: ignore[misc]


# Any JSON-ish rule: either the policy is accepted and means what it says, or it is refused
# with a PolicyError that names a rule; nothing else ever escapes.
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10**13),
    st.sampled_from(
        [
            "permit",
            "prohibit",
            "public",
            "network",
            "platform",
            "festival:dd",
            "festival:zz",
            "display",
            "analyse",
            "export",
            "artwork",
            "festival",
            "2026-05-01T20:00:00Z",
            "2026-05-01T21:00:00+01:00",
            "soon",
            "",
        ]
    ),
)
FIELDS = ["effect", "to", "action", "level", "min_visitors", "delay_minutes", "valid_from"]
FIELDS += ["valid_until", "extra"]
_base = st.fixed_dictionaries(
    {
        "effect": st.sampled_from(["permit", "prohibit"]),
        "to": st.sampled_from(["public", "network", "platform", "festival:dd"]),
        "action": st.sampled_from(["display", "analyse", "export"]),
    }
)
_changes = st.dictionaries(st.sampled_from(FIELDS), _values, max_size=1)
# Many rules start valid and get at most one field changed, so both outcomes come up often.
_rule = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), _values),
    st.builds(lambda base, changes: {**base, **changes}, _base, _changes),
    _base,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_rule, max_size=5))
def test_any_input_is_accepted_faithfully_or_refused_by_rule(
    rules: list[dict[str, object]],
) -> None:
    try:
        policy = Policy.checked({"rules": rules}, KNOWN)
    except PolicyError as error:
        assert error.problems and all(p.startswith("rule") for p in error.problems)
        return
    assert len(policy.rules) == len(rules)
    assert len({(r.to, r.action) for r in policy.rules}) == len(rules)
    for raw, rule in zip(rules, policy.rules, strict=True):
        assert (rule.effect, rule.to, rule.action) == (raw["effect"], raw["to"], raw["action"])
        if rule.effect == "prohibit":
            assert rule.level is rule.min_visitors is rule.delay_minutes is None
        else:
            assert rule.min_visitors is not None and rule.min_visitors >= 1
            assert rule.delay_minutes is not None and rule.delay_minutes >= 0
    assert Policy.checked(policy.wire(), KNOWN) == policy
