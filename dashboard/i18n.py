"""The dashboard's languages: one message catalogue (Babel), chosen per request.

A page is in the language its reader chose with the switch on every page (a cookie), or
else the best of English and Dutch for the browser's ``Accept-Language``, or else English:
a Dutch festival's visitors who read Dutch have browsers that ask for it, and everyone
else (the international audience) reads English best. Times on pages are the festival's
(its time zone), in the language's forms, as are numbers. The catalogue is
``dashboard/translations``; how to extract, update and compile it, and how to add a
language, is in docs/dashboard.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote
from zoneinfo import ZoneInfo

import flask_babel
from babel.dates import format_skeleton, get_datetime_format
from flask import Blueprint, Flask, has_request_context, redirect, request
from flask_babel import Babel
from werkzeug.wrappers import Response

from consent.sources import FestivalInfo
from hub.registry import RegistryError

#: The languages the catalogue has, the first being the source and the fallback.
LANGUAGES: Final = ("en", "nl")
#: Each language's name in itself, for the switch.
NAMES: Final = {"en": "English", "nl": "Nederlands"}
TRANSLATIONS: Final = Path(__file__).parent / "translations"
#: The cookie that keeps a reader's choice (a year; it holds nothing but the language).
COOKIE: Final = "tapshare_lang"
COOKIE_SECONDS: Final = 365 * 24 * 3600
#: Where times are given when no festival is named.
DEFAULT_TIMEZONE: Final = "Europe/Amsterdam"

blueprint = Blueprint("languages", __name__)


def gettext(string: str, **variables: Any) -> str:
    """``string`` in this request's language, with ``variables`` filled in."""
    return str(flask_babel.gettext(string, **variables))


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The singular or plural form for ``num`` in this request's language; ``%(num)d``
    in the text is ``num``."""
    return str(flask_babel.ngettext(singular, plural, num, **variables))


def refusal(error: RegistryError) -> str:
    """A refused registry change in this request's language (the command line says it in
    English, as ``str(error)``)."""
    params = {
        name: gettext(value) if name == "kind" and isinstance(value, str) else value
        for name, value in error.params.items()
    }
    return gettext(error.message, **params)


def current_language() -> str:
    """This request's language, one of :data:`LANGUAGES`."""
    found = flask_babel.get_locale()
    return found.language if found is not None and found.language in LANGUAGES else LANGUAGES[0]


def select_locale() -> str:
    """The reader's choice (the cookie), else the best of our languages for the request's
    ``Accept-Language``, else English."""
    if not has_request_context():
        return LANGUAGES[0]
    chosen = request.cookies.get(COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def number(n: int | float) -> str:
    """``n`` as the reader's language writes it (1,234 or 1.234)."""
    return str(flask_babel.format_decimal(n))


def festival_time(moment: datetime | str | None, festival: FestivalInfo | None = None) -> str:
    """``moment`` (a time or RFC 3339 text) in the festival's time zone, as the reader's
    language writes a date and time, with the zone's abbreviation: ``1 dec 2026, 19:00 CET``.
    Nothing for no time."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return str(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(ZoneInfo(festival.timezone if festival else DEFAULT_TIMEZONE))
    lang = current_language()
    # The language's own date and its way of joining a date and a time; hours 0-23 in
    # both, as festival programmes give them.
    day = format_skeleton("yMMMd", local, locale=lang)
    time = format_skeleton("Hm", local, locale=lang)
    joined = str(get_datetime_format("medium", locale=lang)).replace("{1}", day)
    return f"{joined.replace('{0}', time)} {local.tzname()}"


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never an open redirect to another one.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@blueprint.get("/language/<lang>")
def choose(lang: str) -> Response:
    """Keep the reader's language in a cookie and go back to the page they were on."""
    response = redirect(_safe_next(request.args.get("next")), code=303)
    if lang in LANGUAGES:
        response.set_cookie(
            COOKIE, lang, max_age=COOKIE_SECONDS, samesite="Lax", secure=request.is_secure
        )
    return response


def _here() -> str:
    path = request.full_path
    return path[:-1] if path.endswith("?") else path


def language_links() -> list[dict[str, str]]:
    """The switch: each other language, with the address that chooses it and comes back
    to this page."""
    current = current_language()
    back = quote(_here(), safe="/")
    return [
        {
            "lang": lang,
            "name": NAMES[lang],
            "href": f"/language/{lang}?next={back}",
        }
        for lang in LANGUAGES
        if lang != current
    ]


def _vary(response: Response) -> Response:
    # A page differs by the reader's language: caches must keep one copy per language.
    if response.mimetype == "text/html":
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    return response


def init_app(app: Flask) -> None:
    """Install the catalogue, the per-request choice of language, the switch and the
    helpers pages use: ``lang()``, ``language_links()`` and the filters ``number`` and
    ``festival_time``."""
    Babel(
        app,
        locale_selector=select_locale,
        default_locale=LANGUAGES[0],
        default_translation_directories=str(TRANSLATIONS),
    )
    app.register_blueprint(blueprint)
    app.after_request(_vary)
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["festival_time"] = festival_time

    @app.context_processor
    def _helpers() -> dict[str, object]:
        return {"lang": current_language, "language_links": language_links}
