"""Consent receipts: one JSON record per policy version, after ISO/IEC TS 27560.

A receipt states, for the festival's visitors, who controls their opinions, to whom they
go, for which purposes and under which conditions, since when, and whether that version is
still the one in force. Organisers download it as a record of what their festival granted.
"""

from __future__ import annotations

import uuid
from typing import Any

from consent.odrl import ODRL_ACTIONS, assignee, festival_urn, policy_uid
from consent.plain import explain
from consent.policy import Action, format_time
from consent.sources import FestivalInfo
from consent.store import PolicyVersion

SCHEMA_VERSION = "ISO/IEC TS 27560:2023"
# Receipt ids are derived from the policy version, so the same version always yields the
# same record id, however often it is downloaded.
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:tapshare:receipt")

PURPOSES: dict[Action, str] = {
    "display": "Show counts of opinions on audience boards",
    "analyse": "Analysis by organisers and the operator",
    "export": "Datasets and the export API",
}
PII_CATEGORIES = [
    "opinion on an artwork (one of the festival's choices)",
    "time of the tap",
    "per-festival pseudonym of the visitor's tag (never shared; only counts leave the hub)",
]


def record_id(festival_id: str, version: int) -> str:
    """The receipt's stable record id, a URN UUID."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, policy_uid(festival_id, version))}"


def receipt(festival: FestivalInfo, version: PolicyVersion, *, current: int) -> dict[str, Any]:
    """The consent record of one policy version; ``current`` is the version now in force."""
    state = "active" if version.version == current else "superseded"
    purposes = [_purpose(festival, action, version) for action in ODRL_ACTIONS]
    recipients = sorted(
        {assignee(rule.to) for rule in version.policy.rules if rule.effect == "permit"}
    )
    time = format_time(version.created_at) if version.created_at is not None else None
    return {
        "schema_version": SCHEMA_VERSION,
        "record_id": record_id(festival.id, version.version),
        "pii_principal": f"visitors of {festival.name}, known only by a per-festival pseudonym",
        "controller": {"id": festival_urn(festival.id), "name": festival.name},
        "notice": {
            "id": policy_uid(festival.id, version.version),
            "version": version.version,
            "text": explain(festival, version.policy),
        },
        "pii_categories": PII_CATEGORIES,
        "purposes": purposes,
        "recipients": recipients,
        "time": time,
        "state": state,
        "event": [
            {
                "event_time": time,
                "event_type": "policy version set" if version.version else "no policy set",
                "event_by": version.author,
                "reason": version.reason,
                "event_state": state,
            }
        ],
    }


def _purpose(festival: FestivalInfo, action: Action, version: PolicyVersion) -> dict[str, Any]:
    granted: list[dict[str, Any]] = [
        {
            "recipient": festival_urn(festival.id),
            "level": "artwork",
            "min_visitors": festival.board_min_visitors if action == "display" else 1,
            "delay_minutes": 0,
        }
    ]
    refused: list[str] = []
    for rule in version.policy.rules:
        if rule.action != action:
            continue
        if rule.effect == "prohibit":
            refused.append(assignee(rule.to))
            continue
        grant: dict[str, Any] = {
            "recipient": assignee(rule.to),
            "level": rule.level,
            "min_visitors": rule.min_visitors,
            "delay_minutes": rule.delay_minutes,
        }
        if rule.valid_from is not None:
            grant["valid_from"] = format_time(rule.valid_from)
        if rule.valid_until is not None:
            grant["valid_until"] = format_time(rule.valid_until)
        granted.append(grant)
    return {
        "purpose": PURPOSES[action],
        "action": action,
        "odrl_action": ODRL_ACTIONS[action],
        "granted_to": granted,
        "refused_to": refused,
    }
