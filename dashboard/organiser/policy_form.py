"""The policy editor's form: one row per audience and action, read into the same rules a
policy file holds (validated by the same models), and the policy told in words."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from consent.boards import policy_warnings_by_rule
from consent.plain import duration
from consent.policy import (
    ACTIONS,
    AUDIENCES,
    DEFAULT_DELAY_MINUTES,
    DEFAULT_LEVEL,
    DEFAULT_MIN_VISITORS,
    FESTIVAL_PREFIX,
    NETWORK,
    PLATFORM,
    PUBLIC,
    Action,
    Policy,
    PolicyError,
    Rule,
    format_time,
    order_of,
    rule_order,
    viewer_for,
)
from dashboard.i18n import current_language, ngettext
from dashboard.i18n import gettext as _

#: The choice of a row that has no rule: nothing of its own is decided there.
NO_RULE = ""
_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")


@dataclass
class Row:
    """One row of the form: what an audience may do with one action."""

    to: str
    action: Action
    effect: str = NO_RULE
    level: str = DEFAULT_LEVEL
    min_visitors: str = str(DEFAULT_MIN_VISITORS)
    delay_minutes: str = str(DEFAULT_DELAY_MINUTES)
    valid_from: str = ""
    valid_until: str = ""
    #: Field name -> problem, shown beside that field.
    errors: dict[str, str] = field(default_factory=dict)
    words: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The prefix of this row's form field names."""
        return f"{self.to}/{self.action}"

    def raw(self) -> dict[str, Any] | None:
        """The rule this row says, as JSON would hold it; None for no rule."""
        if self.effect == NO_RULE:
            return None
        data: dict[str, Any] = {"effect": self.effect, "to": self.to, "action": self.action}
        if self.effect == "permit":
            data["level"] = self.level
            data["min_visitors"] = _number(self.min_visitors)
            data["delay_minutes"] = _number(self.delay_minutes)
        for name in ("valid_from", "valid_until"):
            value = getattr(self, name).strip()
            if value:
                # A datetime-local input gives minutes without a zone: the form says UTC.
                if _LOCAL_TIME.match(value):
                    value += ":00Z" if len(value) == 16 else "Z"
                data[name] = value
        return data


@dataclass
class PolicyForm:
    """The rows of the form, the festivals that have rows, and problems of the whole."""

    rows: list[Row]
    festivals: list[str]
    errors: list[str] = field(default_factory=list)

    def audiences(self) -> list[str]:
        """The audiences of the rows, in the order they are shown."""
        return [*AUDIENCES, *(viewer_for(f) for f in self.festivals)]

    def by_audience(self) -> list[tuple[str, list[Row]]]:
        """The rows grouped by audience."""
        return [(to, [row for row in self.rows if row.to == to]) for to in self.audiences()]

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(row.errors for row in self.rows)


def _number(text: str) -> object:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return text  # refused by the rule's validation, with its message


def _time_field(moment: Any) -> str:
    # What a datetime-local input shows: minutes in UTC, without the zone.
    return format_time(moment)[:16] if moment is not None else ""


def form_of(policy: Policy, festivals: Collection[str] = ()) -> PolicyForm:
    """The form showing ``policy``: a row for each fixed audience and for each festival
    that a rule names or that is in ``festivals``, each with its action's rule."""
    named = [rule.festival for rule in policy.rules if rule.festival is not None]
    shown = list(dict.fromkeys([*named, *festivals]))
    rules = {(rule.to, rule.action): rule for rule in policy.rules}
    form = PolicyForm(rows=[], festivals=shown)
    for to in form.audiences():
        for action in ACTIONS:
            row = Row(to=to, action=action)
            rule = rules.get((to, action))
            if rule is not None:
                row.effect = rule.effect
                if rule.effect == "permit":
                    row.level = str(rule.level)
                    row.min_visitors = str(rule.min_visitors)
                    row.delay_minutes = str(rule.delay_minutes)
                row.valid_from = _time_field(rule.valid_from)
                row.valid_until = _time_field(rule.valid_until)
            form.rows.append(row)
    return form


def read_form(values: Mapping[str, str], known_festivals: Collection[str]) -> PolicyForm:
    """The form as posted: its rows (festival rows only for known festivals)."""
    festivals = [
        f for f in dict.fromkeys(values.get("festivals", "").split()) if f in known_festivals
    ]
    added = values.get("add_festival", "")
    if values.get("do") == "add" and added in known_festivals and added not in festivals:
        festivals.append(added)
    form = PolicyForm(rows=[], festivals=festivals)
    for to in form.audiences():
        for action in ACTIONS:
            row = Row(to=to, action=action)
            prefix = f"{row.key}/"
            row.effect = values.get(prefix + "effect", NO_RULE)
            for name in ("level", "min_visitors", "delay_minutes", "valid_from", "valid_until"):
                if prefix + name in values:
                    setattr(row, name, values[prefix + name])
            form.rows.append(row)
    return form


def checked_policy(form: PolicyForm, known_festivals: Collection[str]) -> Policy | None:
    """The policy the form says, validated as a policy file is; None with the problems
    put beside the fields (and in ``form.errors``) when it is refused."""
    raw_rules: list[dict[str, Any]] = []
    for row in form.rows:
        if row.effect not in (NO_RULE, "permit", "prohibit"):
            row.errors["effect"] = _("choose allow, deny or no rule")
            continue
        raw = row.raw()
        if raw is None:
            continue
        try:
            Rule.model_validate(raw)
        except ValidationError as error:
            for item in error.errors():
                name = str(item["loc"][0]) if item["loc"] else "effect"
                row.errors.setdefault(name, _message(item))
        raw_rules.append(raw)
    if form.has_errors:
        return None
    try:
        return Policy.checked({"rules": raw_rules}, known_festivals).canonical()
    except PolicyError as exc:
        form.errors.extend(exc.problems)
        return None


def _message(item: Mapping[str, Any]) -> str:
    message = str(item["msg"]).removeprefix("Value error, ")
    if item["type"] in ("int_type", "int_parsing"):
        return _("must be a whole number")
    if item["type"] == "greater_than_equal":
        return _("must be at least %(number)s", number=item["ctx"]["ge"])
    if item["type"] == "less_than_equal":
        return _("must be at most %(number)s", number=item["ctx"]["le"])
    return message.replace("Input should be", "must be")


# Words -------------------------------------------------------------------------------
# In the page's language (dashboard.i18n); the rules' words on the command line are
# consent.plain's.


def audience_name(to: str, names: Mapping[str, str]) -> str:
    """The audience in words: the public, the network, the platform operator, a festival."""
    if to == PUBLIC:
        return _("the public")
    if to == NETWORK:
        return _("the network")
    if to == PLATFORM:
        return _("the platform operator")
    festival = to.removeprefix(FESTIVAL_PREFIX)
    return names.get(festival, festival)


def _doing(to: str, action: Action, names: Mapping[str, str]) -> str:
    if action == "display":
        if to == PUBLIC:
            return _("Show on the public board")
        if to == NETWORK:
            return _("Show on other festivals' boards")
        if to == PLATFORM:
            return _("Show on the platform operator's boards")
        return _("Show on %(who)s's boards", who=audience_name(to, names))
    if action == "analyse":
        return _("Let %(who)s analyse", who=audience_name(to, names))
    return _("Let %(who)s export", who=audience_name(to, names))


def _utc(moment: Any) -> str:
    return format_time(moment)[:16].replace("T", " ")


def row_words(to: str, action: Action, rule: Rule | None, names: Mapping[str, str]) -> str:
    """One row in words: ``Show on the public board: festival totals, once 10 visitors
    have taken part``."""
    doing = _doing(to, action, names)
    if rule is None:
        if to == "public":
            return _("%(doing)s: nothing, as there is no rule", doing=doing)
        if to.startswith(FESTIVAL_PREFIX):
            return _("%(doing)s: no rule of its own, the network's row decides", doing=doing)
        return _("%(doing)s: no rule of its own, the public's row decides", doing=doing)
    if rule.effect == "prohibit":
        words = _("%(doing)s: never", doing=doing)
    else:
        artwork = rule.level == "artwork"
        what = _("totals per artwork") if artwork else _("festival totals")
        words = f"{doing}: {what}"
        fewest = rule.min_visitors or 1
        if fewest > 1:
            once = (
                ngettext(
                    "once %(num)d visitor has taken part on an artwork",
                    "once %(num)d visitors have taken part on an artwork",
                    fewest,
                )
                if artwork
                else ngettext(
                    "once %(num)d visitor has taken part",
                    "once %(num)d visitors have taken part",
                    fewest,
                )
            )
            words += f", {once}"
        if rule.delay_minutes:
            late = duration(rule.delay_minutes, lang=current_language())
            words += ", " + _("%(duration)s late", duration=late)
    if rule.valid_from is not None:
        words += ", " + _("from %(time)s UTC", time=_utc(rule.valid_from))
    if rule.valid_until is not None:
        words += ", " + _("until %(time)s UTC", time=_utc(rule.valid_until))
    return words


def describe_form(form: PolicyForm, policy: Policy | None, names: Mapping[str, str]) -> None:
    """Put each row's words and warnings on it (from ``policy``, when it was accepted)."""
    rules = {(rule.to, rule.action): rule for rule in policy.rules} if policy else {}
    warned = policy_warnings_by_rule(policy, names=names, lang=current_language()) if policy else {}
    for row in form.rows:
        rule = rules.get((row.to, row.action))
        row.words = row_words(row.to, row.action, rule, names)
        row.warnings = warned.get((row.to, row.action), [])


def policy_words(policy: Policy, names: Mapping[str, str]) -> list[str]:
    """Each rule of ``policy`` in words, in the order the form shows them."""
    if not policy.rules:
        return [_("No rules: nothing is shared.")]
    return [
        row_words(rule.to, rule.action, rule, names)
        for rule in sorted(policy.rules, key=rule_order)
    ]


def change_words(old: Policy, new: Policy, names: Mapping[str, str]) -> list[str]:
    """What saving ``new`` over ``old`` changes, one sentence per row that changes."""
    before = {(rule.to, rule.action): rule for rule in old.rules}
    after = {(rule.to, rule.action): rule for rule in new.rules}
    lines: list[str] = []
    for key in sorted(before.keys() | after.keys(), key=lambda key: order_of(*key)):
        was, now = before.get(key), after.get(key)
        if was == now:
            continue
        to, action = key
        if was is not None and was.effect == "permit" and (now is None or now.effect != "permit"):
            lines.append(_no_longer(audience_name(to, names), action))
            continue
        then = row_words(to, action, was, names).split(": ", 1)[1]
        now_words = row_words(to, action, now, names)
        lines.append(_("%(now)s (was: %(then)s).", now=now_words, then=then))
    return lines


def _no_longer(who: str, action: Action) -> str:
    if action == "display":
        line = _("%(who)s will no longer see your festival's opinions on boards.", who=who)
    elif action == "analyse":
        line = _("%(who)s will no longer analyse your festival's opinions.", who=who)
    else:
        line = _("%(who)s will no longer export your festival's opinions.", who=who)
    return line[:1].upper() + line[1:]
