"""A festival's policy in short sentences a visitor understands (the transparency page)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from consent.policy import ACTIONS, Action, Policy, Rule
from consent.sources import FestivalInfo

_PLACES: dict[Action, str] = {
    "display": "on {their} screens",
    "analyse": "in {their} reports",
    "export": "in datasets {they_download}",
}
_PUBLIC_PLACES: dict[Action, str] = {
    "display": "on the public web board",
    "analyse": "in reports",
    "export": "in downloadable datasets",
}


def explain(
    festival: FestivalInfo, policy: Policy, names: Mapping[str, str] | None = None
) -> list[str]:
    """Explain ``policy`` of ``festival`` to its visitors, one short sentence per line.

    ``names`` maps other festivals' ids to their names, for rules that name a festival.
    """
    names = names or {}
    lines = [_own(festival)]
    shared = False
    for action in ACTIONS:
        for rule in sorted(
            (rule for rule in policy.rules if rule.action == action), key=_audience_order
        ):
            lines.append(_sentence(festival, rule, names))
            shared = shared or rule.effect == "permit"
    if not shared:
        lines.append(f"{festival.name} shares your opinions with no one else.")
    lines.append("Opinions are only ever shown as counts, never as what one person said.")
    return lines


def _own(festival: FestivalInfo) -> str:
    if festival.board_min_visitors <= 1:
        return f"Your opinion is shown on {festival.name}'s own screens."
    return (
        f"Your opinion is shown on {festival.name}'s own screens once at least "
        f"{festival.board_min_visitors} people have given theirs on an artwork."
    )


def _audience_order(rule: Rule) -> tuple[int, str]:
    order = {"public": 0, "network": 1, "platform": 3}
    return order.get(rule.to, 2), rule.to


def _who(rule: Rule, names: Mapping[str, str]) -> str:
    if rule.to == "public":
        return "Anyone"
    if rule.to == "network":
        return "Other festivals in this network"
    if rule.to == "platform":
        return "The operator of this platform"
    festival = rule.festival or rule.to
    return names.get(festival, festival)


def _where(rule: Rule) -> str:
    if rule.to == "public":
        return _PUBLIC_PLACES[rule.action]
    if rule.to == "network":
        return _PLACES[rule.action].format(their="their", they_download="they download")
    return _PLACES[rule.action].format(their="its", they_download="it downloads")


def _sentence(festival: FestivalInfo, rule: Rule, names: Mapping[str, str]) -> str:
    where, when = _where(rule), _window(rule)
    if rule.effect == "prohibit":
        if rule.to == "public":
            return f"Nobody sees {festival.name}'s opinions {where}{when}."
        return f"{_who(rule, names)} does not see {festival.name}'s opinions {where}{when}."
    if rule.level == "artwork":
        what, per = "totals per artwork", " on an artwork"
    else:
        what, per = "total for the whole festival", ""
    verb = {"public": "can see", "network": "see"}.get(rule.to, "sees")
    sentence = f"{_who(rule, names)} {verb} {festival.name}'s {what} {where}"
    if (rule.min_visitors or 1) > 1:
        sentence += f" once at least {rule.min_visitors} people have given theirs{per}"
    if rule.delay_minutes:
        sentence += f", {duration(rule.delay_minutes)} late"
    return sentence + when + "."


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment.strftime('%B %Y %H:%M')} UTC"


def _window(rule: Rule) -> str:
    start, end = rule.valid_from, rule.valid_until
    if start is not None and end is not None:
        return f", from {_day(start)} until {_day(end)}"
    if start is not None:
        return f", from {_day(start)} on"
    if end is not None:
        return f", until {_day(end)}"
    return ""


def duration(minutes: int) -> str:
    """Minutes in words: ``2 hours``, ``1 day``, ``90 minutes``."""
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
