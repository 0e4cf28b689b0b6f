"""A festival's policy in short sentences a visitor understands, in English or Dutch.

The transparency page, ``tapshare policy explain``, the organiser's pages and posters all
say a policy through :func:`explain`. Every sentence is derived from the policy and the
festival's real minimums, so none can be false for the policy it explains: a minimum of 1
visitor is said as such, and nothing promises more than the smallest minimum keeps.

The words come from the project's one message catalogue (``dashboard/translations``, see
docs/dashboard.md), read with Babel directly: the consent layer knows no Flask. Times are
given in the festival's time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from consent.policy import ACTIONS, Action, Policy, Rule
from consent.sources import FestivalInfo

#: The languages of the explanations, the first being the one the sources are written in.
LANGUAGES: Final = ("en", "nl")
#: The catalogue the dashboard compiles (one for the whole product).
CATALOGUE: Final = Path(__file__).resolve().parents[1] / "dashboard" / "translations"


@cache
def translations(lang: str) -> NullTranslations:
    """The catalogue's messages in ``lang`` (one of :data:`LANGUAGES`)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: one of {', '.join(LANGUAGES)}")
    if lang == LANGUAGES[0]:
        return NullTranslations()
    return Translations.load(str(CATALOGUE), [lang])


class _Words:
    """The sentences' parts in one language, numbers and times in its forms."""

    def __init__(self, lang: str, timezone: str) -> None:
        catalogue = translations(lang)
        self.lang = lang
        self.zone = ZoneInfo(timezone)
        self.gettext: Callable[[str], str] = catalogue.gettext
        self.ngettext: Callable[[str, str, int], str] = catalogue.ngettext

    def number(self, n: int) -> str:
        return str(format_decimal(n, locale=self.lang))

    def moment(self, moment: datetime) -> str:
        local = moment.astimezone(self.zone)
        day = format_datetime(local, "d MMMM y HH:mm", locale=self.lang)
        return f"{day} {local.tzname()}"


def explain(
    festival: FestivalInfo,
    policy: Policy,
    names: Mapping[str, str] | None = None,
    *,
    lang: str = "en",
) -> list[str]:
    """Explain ``policy`` of ``festival`` to its visitors in ``lang`` (``en`` or ``nl``),
    one short sentence per line.

    ``names`` maps other festivals' ids to their names, for rules that name a festival.
    """
    words = _Words(lang, festival.timezone)
    _ = words.gettext
    names = names or {}
    lines = [_own(festival, words)]
    lines.append(
        _(
            "%(festival)s's organisers may analyse and download its totals per artwork, "
            "even for an artwork with a single visitor."
        )
        % {"festival": festival.name}
    )
    shared = False
    for action in ACTIONS:
        for rule in sorted(
            (rule for rule in policy.rules if rule.action == action), key=_audience_order
        ):
            lines.append(_sentence(festival, rule, names, words))
            shared = shared or rule.effect == "permit"
    if not shared:
        lines.append(_("%(festival)s shares your opinions with no one else.") % _of(festival))
    lines.append(_("Every figure is a count of opinions: none says who gave them."))
    smallest = smallest_group(festival, policy)
    if smallest > 1:
        lines.append(
            words.ngettext(
                "Apart from %(festival)s's organisers, nobody sees a figure of fewer than "
                "%(num)s visitor.",
                "Apart from %(festival)s's organisers, nobody sees a figure of fewer than "
                "%(num)s visitors.",
                smallest,
            )
            % {"festival": festival.name, "num": words.number(smallest)}
        )
    else:
        lines.append(
            _("A figure of 1 visitor shows what that one visitor chose, without saying who.")
        )
    return lines


def smallest_group(festival: FestivalInfo, policy: Policy) -> int:
    """The fewest visitors a figure anyone but the festival's organisers sees can count:
    on its own screens or through any rule that shares."""
    minimums = [festival.board_min_visitors]
    minimums += [rule.min_visitors or 1 for rule in policy.rules if rule.effect == "permit"]
    return max(1, min(minimums))


def _of(festival: FestivalInfo) -> dict[str, str]:
    return {"festival": festival.name}


def _own(festival: FestivalInfo, words: _Words) -> str:
    n = festival.board_min_visitors
    return words.ngettext(
        "Your opinion is counted on %(festival)s's own screens once at least %(num)s visitor "
        "has given an opinion on an artwork.",
        "Your opinion is counted on %(festival)s's own screens once at least %(num)s visitors "
        "have given an opinion on an artwork.",
        n,
    ) % {"festival": festival.name, "num": words.number(n)}


def _audience_order(rule: Rule) -> tuple[int, str]:
    order = {"public": 0, "network": 1, "platform": 3}
    return order.get(rule.to, 2), rule.to


def _kind(rule: Rule) -> str:
    return rule.to if rule.to in ("public", "network") else "one"


def _who(rule: Rule, names: Mapping[str, str], words: _Words) -> str:
    if rule.to == "platform":
        return words.gettext("The operator of this platform")
    festival = rule.festival or rule.to
    return names.get(festival, festival)


def _where(rule: Rule, words: _Words) -> str:
    _ = words.gettext
    places: dict[str, dict[Action, str]] = {
        "public": {
            "display": _("on the public web board"),
            "analyse": _("in reports"),
            "export": _("in downloadable datasets"),
        },
        "network": {
            "display": _("on their screens"),
            "analyse": _("in their reports"),
            "export": _("in datasets they download"),
        },
        "one": {
            "display": _("on its screens"),
            "analyse": _("in its reports"),
            "export": _("in datasets it downloads"),
        },
    }
    return places[_kind(rule)][rule.action]


def _main_clause(rule: Rule, words: _Words) -> str:
    _ = words.gettext
    if rule.effect == "prohibit":
        return {
            "public": _("Nobody sees %(festival)s's opinions %(where)s"),
            "network": _(
                "Other festivals in this network do not see %(festival)s's opinions %(where)s"
            ),
            "one": _("%(who)s does not see %(festival)s's opinions %(where)s"),
        }[_kind(rule)]
    return {
        "public": _("Anyone can see %(festival)s's %(what)s %(where)s"),
        "network": _("Other festivals in this network see %(festival)s's %(what)s %(where)s"),
        "one": _("%(who)s sees %(festival)s's %(what)s %(where)s"),
    }[_kind(rule)]


def _sentence(festival: FestivalInfo, rule: Rule, names: Mapping[str, str], words: _Words) -> str:
    _ = words.gettext
    what = _("totals per artwork") if rule.level == "artwork" else _("total for the whole festival")
    sentence = _main_clause(rule, words) % {
        "festival": festival.name,
        "who": _who(rule, names, words),
        "what": what,
        "where": _where(rule, words),
    }
    if rule.effect == "permit":
        sentence += _minimum(rule, words)
        if rule.delay_minutes:
            sentence += _(", %(duration)s late") % {
                "duration": duration(rule.delay_minutes, lang=words.lang)
            }
    return sentence + _window(rule, words) + "."


def _minimum(rule: Rule, words: _Words) -> str:
    n = rule.min_visitors or 1
    if rule.level == "artwork":
        text = words.ngettext(
            " once at least %(num)s visitor has given an opinion on an artwork",
            " once at least %(num)s visitors have given an opinion on an artwork",
            n,
        )
    else:
        text = words.ngettext(
            " once at least %(num)s visitor has given an opinion",
            " once at least %(num)s visitors have given an opinion",
            n,
        )
    return text % {"num": words.number(n)}


def _window(rule: Rule, words: _Words) -> str:
    _ = words.gettext
    start, end = rule.valid_from, rule.valid_until
    if start is not None and end is not None:
        return _(", from %(start)s until %(end)s") % {
            "start": words.moment(start),
            "end": words.moment(end),
        }
    if start is not None:
        return _(", from %(start)s on") % {"start": words.moment(start)}
    if end is not None:
        return _(", until %(end)s") % {"end": words.moment(end)}
    return ""


def duration(minutes: int, *, lang: str = "en") -> str:
    """Minutes in words: ``2 hours``, ``1 day``, ``90 minutes`` (``2 uur`` in Dutch)."""
    ngettext = translations(lang).ngettext
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return ngettext("%(num)s day", "%(num)s days", days) % {"num": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(num)s hour", "%(num)s hours", hours) % {"num": hours}
    return ngettext("%(num)s minute", "%(num)s minutes", minutes) % {"num": minutes}
