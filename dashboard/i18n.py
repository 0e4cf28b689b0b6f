"""The dashboard's languages: one message catalogue (Babel), chosen per request.

Pages pick English or Dutch from the browser's ``Accept-Language`` (English otherwise).
The catalogue is ``dashboard/translations``; how to extract, update and compile it is in
docs/dashboard.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import flask_babel
from flask import Flask, has_request_context, request
from flask_babel import Babel

#: The languages the catalogue has, the first being the source and the fallback.
LANGUAGES: Final = ("en", "nl")
TRANSLATIONS: Final = Path(__file__).parent / "translations"


def gettext(string: str, **variables: Any) -> str:
    """``string`` in this request's language, with ``variables`` filled in."""
    return str(flask_babel.gettext(string, **variables))


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The singular or plural form for ``num`` in this request's language; ``%(num)d``
    in the text is ``num``."""
    return str(flask_babel.ngettext(singular, plural, num, **variables))


def select_locale() -> str:
    """The best of our languages for this request's ``Accept-Language``."""
    if not has_request_context():
        return LANGUAGES[0]
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def init_app(app: Flask) -> None:
    """Install the catalogue and the per-request choice of language."""
    Babel(
        app,
        locale_selector=select_locale,
        default_locale=LANGUAGES[0],
        default_translation_directories=str(TRANSLATIONS),
    )
