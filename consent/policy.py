"""A festival's sharing policy: the rules of docs/policies.md, and their validation.

A policy is ``{"rules": [...]}``. :meth:`Policy.checked` is the one way in from outside
(files, forms, the database): it refuses a policy with a :class:`PolicyError` whose message
names every offending rule, by its position (1-based) and what it says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from protocol import is_slug

Effect = Literal["permit", "prohibit"]
Action = Literal["display", "analyse", "export"]
Level = Literal["artwork", "festival"]

ACTIONS: tuple[Action, ...] = get_args(Action)
PUBLIC = "public"
NETWORK = "network"
PLATFORM = "platform"
#: The audiences that are not one festival, in the order they are shown; no festival may
#: take one of these words as its id.
AUDIENCES = (PUBLIC, NETWORK, PLATFORM)
RESERVED = frozenset(AUDIENCES)
#: One festival as an audience of a rule, or as a viewer: ``festival:ID``.
FESTIVAL_PREFIX = "festival:"

DEFAULT_LEVEL: Level = "festival"
DEFAULT_MIN_VISITORS = 5
DEFAULT_DELAY_MINUTES = 0
# Bounds keep arithmetic on times safe; nobody needs a longer embargo than ten years.
MAX_DELAY_MINUTES = 10 * 366 * 24 * 60
MAX_MIN_VISITORS = 1_000_000
PERMIT_ONLY = ("level", "min_visitors", "delay_minutes")

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


class PolicyError(ValueError):
    """A refused policy. ``problems`` holds one readable line per offending rule."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


# A policy is three levels deep ({"rules": [{...}]}) and its values are plain; this leaves
# room for a readable refusal of odd values while no validation has to recurse deeply.
MAX_JSON_DEPTH = 8


def load_json(text: str) -> object:
    """The JSON of a policy file or form, or :class:`PolicyError` for text that is not
    JSON or is nested deeper than any policy (which would exhaust the parser's stack)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(
            [f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
        ) from None
    except RecursionError:
        value = None
        depth = MAX_JSON_DEPTH + 1
    else:
        depth = _depth(value)
    if depth > MAX_JSON_DEPTH:
        raise PolicyError(
            [
                f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep; a policy is "
                '{"rules": [{...}, ...]} with plain values'
            ]
        )
    return value


def _depth(value: object) -> int:
    """How deeply lists and objects nest in ``value``, found without recursion."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level > MAX_JSON_DEPTH:
                break
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, level + 1) for child in children)
    return deepest


def is_festival_id(value: str) -> bool:
    """True for a slug that may name a festival (the reserved audience words may not)."""
    return is_slug(value) and value not in RESERVED


def viewer_for(festival_id: str) -> str:
    """The viewer (and the audience of a rule) that is the festival ``festival_id``."""
    return FESTIVAL_PREFIX + festival_id


def parse_audience(to: str) -> str | None:
    """The festival id of a ``festival:ID`` audience, None for the other audiences.

    Raises ValueError for anything that is not an audience.
    """
    if to in RESERVED:
        return None
    festival = to.removeprefix(FESTIVAL_PREFIX)
    if festival != to and is_festival_id(festival):
        return festival
    raise ValueError(f"must be public, network, platform or festival:ID, not {to!r}")


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with a ``Z`` suffix (seconds, plus microseconds when there are any)."""
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_time(value: object) -> datetime:
    """Parse an RFC 3339 time with a time zone into an aware UTC datetime."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError(
            f"must be an RFC 3339 time with a time zone, e.g. 2026-05-01T20:00:00Z, not {value!r}"
        )
    text = value.upper().replace("Z", "+00:00")
    fraction = re.search(r"\.(\d+)", text)
    if fraction and len(fraction.group(1)) > 6:  # fromisoformat takes at most microseconds
        text = text.replace(fraction.group(0), "." + fraction.group(1)[:6])
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        raise ValueError(f"is not a real time: {value!r}") from None


class Rule(BaseModel):
    """One rule: who (``to``) may do what (``action``) with a festival's opinions.

    A permit always has ``level``, ``min_visitors`` and ``delay_minutes`` (defaults filled
    in); a prohibition has none of them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    effect: Effect
    to: str = Field(description="public, network, festival:ID or platform")
    action: Action
    level: Level | None = Field(None, description="artwork or festival (permit only)")
    min_visitors: StrictInt | None = Field(
        None, ge=1, le=MAX_MIN_VISITORS, description="cells with fewer visitors are withheld"
    )
    delay_minutes: StrictInt | None = Field(
        None, ge=0, le=MAX_DELAY_MINUTES, description="show cells as they stood this long ago"
    )
    valid_from: datetime | None = Field(None, description="the rule applies from this time on")
    valid_until: datetime | None = Field(None, description="the rule applies until this time")

    @field_validator("to")
    @classmethod
    def _audience(cls, value: str) -> str:
        parse_audience(value)
        return value

    @field_validator("valid_from", "valid_until", mode="before")
    @classmethod
    def _time(cls, value: object) -> datetime | None:
        if value is None or isinstance(value, datetime):
            if isinstance(value, datetime) and value.tzinfo is None:
                raise ValueError("must have a time zone")
            return value
        return parse_time(value)

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: object) -> object:
        # Fill a permit's defaults in, so that a stored permit says exactly what it grants.
        if isinstance(data, Mapping) and data.get("effect") == "permit":
            data = dict(data)
            data.setdefault("level", DEFAULT_LEVEL)
            data.setdefault("min_visitors", DEFAULT_MIN_VISITORS)
            data.setdefault("delay_minutes", DEFAULT_DELAY_MINUTES)
        return data

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        if self.effect == "prohibit":
            given = [name for name in PERMIT_ONLY if getattr(self, name) is not None]
            if given:
                raise ValueError(f"a prohibit has no {' or '.join(given)} (only a permit has)")
        else:
            nulls = [name for name in PERMIT_ONLY if getattr(self, name) is None]
            if nulls:
                raise ValueError(
                    f"{', '.join(nulls)} must not be null; leave it out for the default"
                )
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_from >= self.valid_until
        ):
            raise ValueError("valid_from must be before valid_until")
        return self

    @property
    def festival(self) -> str | None:
        """The festival id of a ``festival:ID`` audience, else None."""
        return parse_audience(self.to)

    def applies_at(self, now: datetime) -> bool:
        """Whether the rule's validity window contains ``now`` (from inclusive, until not)."""
        if self.valid_from is not None and now < self.valid_from:
            return False
        return not (self.valid_until is not None and now >= self.valid_until)

    def describe(self) -> str:
        """Short words for messages: ``permit network analyse``."""
        return f"{self.effect} {self.to} {self.action}"

    def wire(self) -> dict[str, Any]:
        """The rule as JSON: unset fields left out, times as RFC 3339 UTC."""
        data: dict[str, Any] = {"effect": self.effect, "to": self.to, "action": self.action}
        for name in PERMIT_ONLY:
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        for name in ("valid_from", "valid_until"):
            moment = getattr(self, name)
            if moment is not None:
                data[name] = format_time(moment)
        return data


class Policy(BaseModel):
    """A festival's sharing policy: its rules, at most one per (``to``, ``action``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: tuple[Rule, ...] = ()

    @classmethod
    def checked(cls, data: object, known_festivals: Collection[str]) -> Policy:
        """Validate ``data`` (parsed JSON or a Policy) against the known festival ids.

        Raises :class:`PolicyError` naming every offending rule.
        """
        if isinstance(data, Policy):
            data = data.wire()
        if not isinstance(data, Mapping):
            raise PolicyError(['a policy must be a JSON object {"rules": [...]}'])
        extra = sorted(str(key) for key in data if key != "rules")
        if extra:
            raise PolicyError([f"unknown field(s) in the policy: {', '.join(extra)}"])
        raw_rules = data.get("rules")
        if not isinstance(raw_rules, list):
            raise PolicyError(['a policy must have "rules": a list of rules'])
        problems: list[str] = []
        rules: list[Rule] = []
        known = set(known_festivals)
        seen: dict[tuple[str, str], int] = {}
        for number, raw in enumerate(raw_rules, start=1):
            label = f"rule {number}{_summary(raw)}"
            try:
                rules.append(Rule.model_validate(raw))
            except ValidationError as error:
                problems.append(f"{label}: {_readable(error)}")
            # Audience and action are judged on the raw rule too, so that one refusal
            # lists every problem, not only those of the rules that were otherwise fine.
            to, action = _raw_key(raw)
            festival = _festival_of(to)
            if festival is not None and festival not in known:
                problems.append(f"{label}: unknown festival {festival!r}")
            if to is None or action is None:
                continue
            if (to, action) in seen:
                problems.append(
                    f"rules {seen[to, action]} and {number} both decide {action} for {to}; keep one"
                )
            else:
                seen[to, action] = number
        if problems:
            raise PolicyError(problems)
        return cls(rules=tuple(rules))

    def canonical(self) -> Policy:
        """The same rules in a fixed order (audience, then action), so that two policies
        that decide the same things are equal however their rules were ordered."""
        return Policy(rules=tuple(sorted(self.rules, key=rule_order)))

    def wire(self) -> dict[str, Any]:
        """The policy as the JSON a file or the database holds."""
        return {"rules": [rule.wire() for rule in self.rules]}


EMPTY_POLICY = Policy()

_AUDIENCE_ORDER = {"public": 0, "network": 1, "platform": 2}
_ACTION_ORDER: dict[str, int] = {action: n for n, action in enumerate(ACTIONS)}


def order_of(to: str, action: str) -> tuple[int, str, int]:
    """Sort key of an audience and action: the public, the network, the platform,
    festivals by id; then display, analyse, export."""
    return _AUDIENCE_ORDER.get(to, 3), to, _ACTION_ORDER[action]


def rule_order(rule: Rule) -> tuple[int, str, int]:
    """Sort key of a rule (see :func:`order_of`)."""
    return order_of(rule.to, rule.action)


def _summary(raw: object) -> str:
    if isinstance(raw, Mapping):
        words = [str(raw.get(key)) for key in ("effect", "to", "action") if key in raw]
        if words:
            return f" ({' '.join(words)})"
    return ""


def _readable(error: ValidationError) -> str:
    parts: list[str] = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "is required"
        elif item["type"] == "extra_forbidden":
            message = "is not a field of a rule"
        elif item["type"] == "model_type":
            message = "a rule must be a JSON object"
        message = message.replace("Input should be", "must be")
        parts.append(f"{where} {message}" if where else message)
    return "; ".join(parts)


def _raw_key(raw: object) -> tuple[str | None, str | None]:
    if not isinstance(raw, Mapping):
        return None, None
    to, action = raw.get("to"), raw.get("action")
    return (to if isinstance(to, str) else None), (action if action in ACTIONS else None)


def _festival_of(to: str | None) -> str | None:
    if to is None:
        return None
    try:
        return parse_audience(to)
    except ValueError:
        return None
