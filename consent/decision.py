"""The one decision function: may viewer V do action A with owner festival O's opinions?

Pure: no clock, no database. Every read of opinions for anyone goes through :func:`decide`
(by way of :func:`consent.boards.build_board`), so docs/policies.md is enforced in one place.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from consent.policy import (
    ACTIONS,
    NETWORK,
    PLATFORM,
    PUBLIC,
    Action,
    Level,
    Policy,
    Rule,
    parse_audience,
)

OWN = "own"

# Higher decides: festival:ID and platform over network over public (docs/policies.md,
# "How a read is decided", step 3).
_SPECIFICITY = {PUBLIC: 0, NETWORK: 1, PLATFORM: 2}


@dataclass(frozen=True)
class Decision:
    """The outcome for one (owner, viewer, action) at one time.

    ``rule`` names the rule that decided (``own``, ``public``, ``network``,
    ``festival:ID``, ``platform``), or is None when no rule applied. ``level``,
    ``min_visitors`` and ``delay_minutes`` are set only when ``allowed``.
    """

    allowed: bool
    level: Level | None
    min_visitors: int | None
    delay_minutes: int | None
    rule: str | None
    policy_version: int


def viewer_festival(viewer: str) -> str | None:
    """The festival id of a ``festival:ID`` viewer, None for ``public`` and ``platform``.

    Raises ValueError for anything that is not a viewer.
    """
    if viewer != NETWORK:  # an audience, but nobody views as "the network"
        with contextlib.suppress(ValueError):
            return parse_audience(viewer)
    raise ValueError(f"a viewer is public, platform or festival:ID, not {viewer!r}")


def audiences(viewer: str) -> tuple[str, ...]:
    """The rule audiences (``to`` values) that match ``viewer``."""
    if viewer_festival(viewer) is not None:
        return (PUBLIC, NETWORK, viewer)
    if viewer == PLATFORM:
        return (PUBLIC, PLATFORM)
    return (PUBLIC,)


def specificity(to: str) -> int:
    """How specific an audience is; a ``festival:ID`` ranks with ``platform``."""
    return _SPECIFICITY.get(to, _SPECIFICITY[PLATFORM])


def deciding_rule(policy: Policy, viewer: str, action: Action, now: datetime) -> Rule | None:
    """The most specific rule of ``policy`` for ``action`` that matches ``viewer`` at ``now``."""
    matching = set(audiences(viewer))
    applicable = [
        rule
        for rule in policy.rules
        if rule.action == action and rule.to in matching and rule.applies_at(now)
    ]
    # A valid policy has at most one rule per (to, action), and a viewer matches at most
    # one audience of each rank, so the maximum is unique.
    return max(applicable, key=lambda rule: specificity(rule.to), default=None)


def decide(
    owner: str,
    viewer: str,
    action: Action,
    now: datetime,
    policy: Policy,
    *,
    policy_version: int,
    board_min_visitors: int,
) -> Decision:
    """Decide whether ``viewer`` may ``action`` the opinions of festival ``owner`` at ``now``.

    ``policy`` is the owner's current policy (version ``policy_version``);
    ``board_min_visitors`` is the owner's minimum for its own boards.
    """
    if action not in ACTIONS:
        raise ValueError(f"an action is display, analyse or export, not {action!r}")
    if viewer_festival(viewer) == owner:
        # A festival sees all of its own data; only its own screens use its own minimum.
        minimum = board_min_visitors if action == "display" else 1
        return Decision(True, "artwork", minimum, 0, OWN, policy_version)
    rule = deciding_rule(policy, viewer, action, now)
    if rule is None:
        return Decision(False, None, None, None, None, policy_version)
    if rule.effect == "prohibit":
        return Decision(False, None, None, None, rule.to, policy_version)
    return Decision(
        True, rule.level, rule.min_visitors, rule.delay_minutes, rule.to, policy_version
    )
