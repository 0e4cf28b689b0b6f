"""The dashboard's languages: one message catalogue (Babel), chosen per request.

Pages pick English or Dutch from the browser's ``Accept-Language`` (English otherwise).
The catalogue is ``dashboard/translations``; how to extract, update and compile it is in
docs/dashboard.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from flask import Flask, request
from flask_babel import Babel

#: The languages the catalogue has, the first being the source and the fallback.
LANGUAGES: Final = ("en", "nl")
TRANSLATIONS: Final = Path(__file__).parent / "translations"


def select_locale() -> str:
    """The best of our languages for this request's ``Accept-Language``."""
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def init_app(app: Flask) -> None:
    """Install the catalogue and the per-request choice of language."""
    Babel(
        app,
        locale_selector=select_locale,
        default_locale=LANGUAGES[0],
        default_translation_directories=str(TRANSLATIONS),
    )
