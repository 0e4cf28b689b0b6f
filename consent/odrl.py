"""A policy version as ODRL 2.2 JSON-LD (docs/policies.md), for other systems and for the record.

The mapping: the policy is an ODRL ``Set`` whose assigner is the festival; each rule is a
``permission`` or ``prohibition`` whose assignee is the audience and whose action is
``display`` (display), ``read`` (analyse) or ``distribute`` (export); a permit's level,
minimum visitors and delay, and any rule's validity window, are constraints.
"""

from __future__ import annotations

from typing import Any

from consent.policy import Action, Rule, format_time
from consent.store import PolicyVersion

CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
ODRL_ACTIONS: dict[Action, str] = {"display": "display", "analyse": "read", "export": "distribute"}
LEVEL = "urn:tapshare:level"
MIN_VISITORS = "urn:tapshare:minVisitors"


def policy_uid(festival_id: str, version: int) -> str:
    """The ODRL uid of one policy version."""
    return f"urn:tapshare:policy:{festival_id}:{version}"


def festival_urn(festival_id: str) -> str:
    """The URN of a festival, as assigner or assignee."""
    return f"urn:tapshare:festival:{festival_id}"


def opinions_urn(festival_id: str) -> str:
    """The URN of a festival's opinions: the target of every rule of its policy."""
    return f"urn:tapshare:opinions:{festival_id}"


def assignee(to: str) -> str:
    """The URN of a rule's audience."""
    return f"urn:tapshare:{to}"


def to_odrl(festival_id: str, policy_version: PolicyVersion) -> dict[str, Any]:
    """The policy version as an ODRL 2.2 ``Set`` (JSON-LD, ready for ``json.dumps``)."""
    permissions: list[dict[str, Any]] = []
    prohibitions: list[dict[str, Any]] = []
    for rule in policy_version.policy.rules:
        entry: dict[str, Any] = {
            "target": opinions_urn(festival_id),
            "assigner": festival_urn(festival_id),
            "assignee": assignee(rule.to),
            "action": ODRL_ACTIONS[rule.action],
        }
        constraints = _constraints(rule)
        if constraints:
            entry["constraint"] = constraints
        (permissions if rule.effect == "permit" else prohibitions).append(entry)
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "Set",
        "uid": policy_uid(festival_id, policy_version.version),
        "assigner": festival_urn(festival_id),
        "target": opinions_urn(festival_id),
        "permission": permissions,
        "prohibition": prohibitions,
    }
    return document


def _constraints(rule: Rule) -> list[dict[str, Any]]:
    constraints: list[dict[str, Any]] = []
    if rule.level is not None:
        constraints.append(_constraint(LEVEL, "eq", rule.level))
    if rule.min_visitors is not None:
        constraints.append(_constraint(MIN_VISITORS, "gteq", rule.min_visitors))
    if rule.delay_minutes is not None:
        duration = {"@value": f"PT{rule.delay_minutes}M", "@type": "xsd:duration"}
        constraints.append(_constraint("delayPeriod", "gteq", duration))
    if rule.valid_from is not None:
        moment = {"@value": format_time(rule.valid_from), "@type": "xsd:dateTime"}
        constraints.append(_constraint("dateTime", "gteq", moment))
    if rule.valid_until is not None:
        moment = {"@value": format_time(rule.valid_until), "@type": "xsd:dateTime"}
        constraints.append(_constraint("dateTime", "lt", moment))
    return constraints


def _constraint(left: str, operator: str, right: object) -> dict[str, Any]:
    return {"leftOperand": left, "operator": operator, "rightOperand": right}
