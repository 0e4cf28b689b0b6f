"""Boards: the only way opinions reach anyone (docs/api.md), each section decided by policy.

:func:`build_board` is the one caller of the counting methods of
:class:`consent.sources.OpinionSource` in the whole code base (a test enforces it): the
dashboard, the API and every export read opinions through it, so nothing leaves a festival
that its current policy does not grant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from consent.decision import OWN, Decision, decide, viewer_festival
from consent.history import HOURS, History, Series, hour_ends, shown
from consent.plain import translations
from consent.policy import ACTIONS, Action, Level, Policy, Rule, format_time, viewer_for
from consent.sources import Cell, FestivalInfo, OpinionSource
from consent.store import PolicyStore
from storage import immediate

WITHHELD_FESTIVAL = "*"


class BoardCell(BaseModel):
    """Current opinions in one artwork, or with ``artwork`` null in the whole festival."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    artwork: str | None = Field(description="artwork id; null for the festival-level cell")
    title: str | None = Field(description="artwork title; null for the festival-level cell")
    visitors: int = Field(ge=0, description="distinct visitors with a current opinion here")
    counts: dict[str, int] = Field(description="current opinions per choice, zeros included")


class Section(BaseModel):
    """One festival's opinions, as its policy lets this viewer see them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    festival: str
    name: str
    choices: list[str]
    level: Literal["artwork", "festival"]
    rule: str = Field(description="own, public, network, festival:ID or platform")
    policy_version: int = Field(ge=0)
    min_visitors: int = Field(ge=1, description="cells with fewer visitors are withheld")
    delay_minutes: int = Field(ge=0, description="cells are as they stood this long ago")
    cells: list[BoardCell]
    withheld: list[str] = Field(
        description="artworks below min_visitors; ['*'] when the festival cell is"
    )


class Board(BaseModel):
    """Everything one viewer may see for one action, one section per festival."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    viewer: str = Field(description="public, platform or festival:ID")
    generated_at: str = Field(description="RFC 3339 UTC time of the read")
    sections: list[Section]


class UnknownViewer(LookupError):
    """A ``festival:ID`` viewer whose festival is not registered."""


def build_board(
    source: OpinionSource,
    policies: PolicyStore,
    viewer: str,
    action: Action,
    now: datetime,
    *,
    accessor: str | None = None,
    draft: tuple[str, Policy] | None = None,
) -> Board:
    """The board ``viewer`` may see for ``action`` at ``now``.

    Sections: the viewer's own festival first, then the others by id; a festival that
    shares nothing with the viewer has none. ``draft`` = (festival, policy) previews an
    unsaved policy of that festival (for the policy editor); such reads are not logged.
    Every ``analyse`` and ``export`` read of another festival's data is recorded in that
    festival's access log under ``accessor`` (else the viewer).
    """
    if action not in ACTIONS:
        raise ValueError(f"an action is display, analyse or export, not {action!r}")
    own = viewer_festival(viewer)
    festivals = sorted(source.festivals(), key=lambda festival: festival.id)
    if own is not None and own not in {festival.id for festival in festivals}:
        raise UnknownViewer(f"unknown festival {own!r}")
    festivals.sort(key=lambda festival: festival.id != own)  # stable: own first, then by id
    sections: list[Section] = []
    read: list[tuple[str, int]] = []
    for festival in festivals:
        decision = _decision(festival, policies, viewer, action, now, draft)
        if not decision.allowed:
            continue
        sections.append(_section(source, festival, decision, now))
        if action != "display" and decision.rule != OWN and draft is None:
            read.append((festival.id, decision.policy_version))
    if read:
        # One transaction for the whole read: one commit, however many festivals it read.
        with immediate(policies.db):
            for festival_id, version in read:
                policies.record_access(
                    festival_id, accessor or viewer, viewer, action, version, now
                )
    return Board(viewer=viewer, generated_at=format_time(now), sections=sections)


def grants(
    source: OpinionSource, policies: PolicyStore, viewer: str, action: Action, now: datetime
) -> list[tuple[FestivalInfo, Decision]]:
    """The festivals that let ``viewer`` have something for ``action`` at ``now``, with
    the decision (level, minimum, delay), in board order. Decides only: reads no opinion,
    so nothing is logged."""
    own = viewer_festival(viewer)
    festivals = sorted(source.festivals(), key=lambda festival: (festival.id != own, festival.id))
    found = []
    for festival in festivals:
        decision = _decision(festival, policies, viewer, action, now, None)
        if decision.allowed:
            found.append((festival, decision))
    return found


def own_history(
    source: OpinionSource, festival: FestivalInfo, now: datetime, hours: int = HOURS
) -> History:
    """The festival's visitors per artwork at each hour's end; hours before its first
    opinion are left out."""
    ends = hour_ends(now, hours)
    titles = source.artwork_titles(festival.id)
    by_artwork: dict[str, list[int]] = {}
    for index, end in enumerate(ends):
        for cell in source.artwork_cells(festival.id, end):
            if cell.artwork is not None:
                by_artwork.setdefault(cell.artwork, [0] * len(ends))[index] = cell.visitors
    first = min(
        (i for values in by_artwork.values() for i, n in enumerate(values) if n),
        default=len(ends) - 1,
    )
    series = tuple(
        Series(
            artwork,
            titles.get(artwork, artwork),
            tuple(shown(n, festival) for n in values[first:]),
        )
        for artwork, values in sorted(by_artwork.items())
    )
    return History(tuple(ends[first:]), series)


def _decision(
    festival: FestivalInfo,
    policies: PolicyStore,
    viewer: str,
    action: Action,
    now: datetime,
    draft: tuple[str, Policy] | None,
) -> Decision:
    current = policies.current(festival.id)
    policy, version = current.policy, current.version
    if draft is not None and draft[0] == festival.id:
        # A draft would become the next version if it were saved.
        policy, version = draft[1], current.version + 1
    return decide(
        festival.id,
        viewer,
        action,
        now,
        policy,
        policy_version=version,
        board_min_visitors=festival.board_min_visitors,
    )


def _section(
    source: OpinionSource, festival: FestivalInfo, decision: Decision, now: datetime
) -> Section:
    level: Level = decision.level or "festival"
    minimum = decision.min_visitors or 1
    delay = decision.delay_minutes or 0
    # docs/policies.md, Counting: with a delay, the board is as it stood at now - delay;
    # without one, every stored tap counts (including taps a station's clock put slightly
    # ahead).
    as_of = now - timedelta(minutes=delay) if delay else None
    cells: list[BoardCell] = []
    withheld: list[str] = []
    if level == "artwork":
        titles = source.artwork_titles(festival.id)
        for cell in source.artwork_cells(festival.id, as_of):
            if cell.visitors <= 0 or cell.artwork is None:
                continue  # an artwork without current opinions may be left out
            if cell.visitors < minimum:
                withheld.append(cell.artwork)
            else:
                cells.append(_board_cell(cell, titles.get(cell.artwork), festival.choices))
        withheld.sort()
        cells.sort(key=lambda board_cell: board_cell.artwork or "")
    else:
        whole = source.festival_cell(festival.id, as_of)
        if whole.visitors < minimum:
            withheld.append(WITHHELD_FESTIVAL)
        else:
            cells.append(
                _board_cell(Cell(None, whole.visitors, whole.counts), None, festival.choices)
            )
    return Section(
        festival=festival.id,
        name=festival.name,
        choices=list(festival.choices),
        level=level,
        rule=decision.rule or "",
        policy_version=decision.policy_version,
        min_visitors=minimum,
        delay_minutes=delay,
        cells=cells,
        withheld=withheld,
    )


def _board_cell(cell: Cell, title: str | None, choices: Sequence[str]) -> BoardCell:
    counts = {choice: int(cell.counts.get(choice, 0)) for choice in choices}
    # A choice the festival no longer offers still counts: leaving it out would hide votes.
    for choice in sorted(set(cell.counts) - set(choices)):
        counts[choice] = int(cell.counts[choice])
    return BoardCell(artwork=cell.artwork, title=title, visitors=cell.visitors, counts=counts)


def policy_warnings_by_rule(
    policy: Policy,
    owner: str | None = None,
    names: Mapping[str, str] | None = None,
    *,
    lang: str = "en",
) -> dict[tuple[str, str], list[str]]:
    """Each warning of :func:`policy_warnings`, under the (``to``, ``action``) of every
    rule that causes it."""
    found: dict[tuple[str, str], list[str]] = {}
    for warning, rules in _warnings(policy, owner, names or {}, translations(lang).gettext):
        for rule in rules:
            found.setdefault((rule.to, rule.action), []).append(warning)
    return found


def policy_warnings(
    policy: Policy,
    owner: str | None = None,
    names: Mapping[str, str] | None = None,
    *,
    lang: str = "en",
) -> list[str]:
    """Combinations of rules an organiser should know about before saving ``policy``, in
    ``lang`` (``en`` or ``nl``, from the catalogue as :mod:`consent.plain` reads it).

    - A festival-level permit (its total counts every artwork) beside an artwork-level
      permit that can withhold cells: whoever sees both can subtract the shown cells from
      the total and learn what the withheld ones add up to.
    - A prohibition for an audience that a broader permit for the same action already
      covers on public screens or the public web: the prohibition cannot hide what the
      public board shows.
    - With ``owner`` given: a rule naming the festival itself, which has no effect (a
      festival always sees all of its own data).
    """
    found = _warnings(policy, owner, names or {}, translations(lang).gettext)
    return [warning for warning, _ in found]


def _warnings(
    policy: Policy, owner: str | None, names: Mapping[str, str], _: Callable[[str], str]
) -> list[tuple[str, tuple[Rule, ...]]]:
    warnings: list[tuple[str, tuple[Rule, ...]]] = []
    permits = [rule for rule in policy.rules if rule.effect == "permit"]
    totals = [rule for rule in permits if rule.level == "festival"]
    detailed = [
        rule for rule in permits if rule.level == "artwork" and (rule.min_visitors or 1) > 1
    ]
    for total in totals:
        for detail in detailed:
            sentence = _(
                "%(who)s sees the festival's total %(place)s, and %(other)s sees each "
                "artwork with at least %(num)d visitors %(other_place)s. Whoever sees both "
                "can take the artworks shown from the total and work out the opinions on the "
                "artworks with fewer than %(num)d visitors, which were meant to stay hidden."
            ) % {
                "who": _who(total, names, _),
                "place": _place(total.action, _),
                "other": _who(detail, names, _),
                "other_place": _place(detail.action, _),
                "num": detail.min_visitors,
            }
            warnings.append((sentence[:1].upper() + sentence[1:], (total, detail)))
    for rule in policy.rules:
        if rule.effect != "prohibit" or rule.to == "public":
            continue
        broader = _public_permit(policy.rules, rule)
        if broader is not None:
            if rule.action == "display":
                sentence = _(
                    "Refusing %(who)s %(place)s hides nothing: the public board shows the "
                    "same to everyone, %(who)s included."
                )
            else:
                sentence = _(
                    "Refusing %(who)s %(place)s hides nothing: everyone may have the same "
                    "%(broader)s, %(who)s included."
                )
            values = {
                "who": _who(rule, names, _),
                "place": _place(rule.action, _),
                "broader": _place(broader.action, _),
            }
            warnings.append((sentence % values, (rule, broader)))
    if owner is not None:
        for rule in policy.rules:
            if rule.to == viewer_for(owner):
                sentence = _(
                    "A rule for %(festival)s itself has no effect: a festival always sees "
                    "all of its own data."
                ) % {"festival": names.get(owner, owner)}
                warnings.append((sentence, (rule,)))
    return warnings


def _place(action: str, _: Callable[[str], str]) -> str:
    """Where ``action`` puts the opinions, in words for warnings."""
    if action == "display":
        return _("on boards")
    if action == "analyse":
        return _("for analysis")
    return _("in exports")


def _who(rule: Rule, names: Mapping[str, str], _: Callable[[str], str]) -> str:
    """The audience of ``rule`` in words: the public, the network, a festival by name."""
    if rule.to == "network":
        return _("the network (every festival without a rule of its own)")
    if rule.to == "platform":
        return _("the platform operator")
    if rule.to.startswith("festival:"):
        festival_id = rule.to.removeprefix("festival:")
        return names.get(festival_id, _("festival %(id)s") % {"id": festival_id})
    return _("the public")


def _public_permit(rules: Sequence[Rule], prohibit: Rule) -> Rule | None:
    for rule in rules:
        if rule.effect == "permit" and rule.action == prohibit.action and rule.to == "public":
            return rule
    return None
