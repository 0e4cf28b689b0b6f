"""Pages for visitors' phones: the vote page a sticker opens, and the visitor's own page.

``/t/FESTIVAL/TAG`` is what a sticker's tap opens (see docs/phones.md): it shows the
artwork and the festival's choices, and its form sends the vote with the tap's message,
checked once more and used up in one transaction (:func:`hub.stickers.accept_tap`).
``/my/FESTIVAL`` shows a browser its current opinions at the festival and erases them.

Every refusal is a page in the visitor's language with its own status, and nothing is
stored then. The browser is known by a random id in a per-festival cookie; its pseudonym is
HMAC-SHA256 of ``web:`` + id under the festival's visitor key. Pages work without
JavaScript and say "recorded" only once the broker has acknowledged the message.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from flask import Blueprint, Response, current_app, make_response, render_template, request
from flask_babel import lazy_gettext
from sqlite_utils import Database

from consent.receipts import receipt
from consent.sources import FestivalInfo
from consent.store import PolicyStore
from dashboard import festivals
from dashboard.database import get_db
from dashboard.i18n import festival_time
from dashboard.web_votes import Kept, WebVotes, web_pseudonym, web_votes
from hub import registry_store, stickers
from hub.models import Festival
from hub.opinions import festival_info
from hub.stickers import Refusal, Sticker, TapRefused
from protocol import is_slug
from reader_agent.outbox import OutboxError, OutboxFull

blueprint = Blueprint("phones", __name__)

#: A browser's visitor id: 32 random bytes, URL-safe base64 without padding.
_VISITOR_ID: Final = re.compile(r"[A-Za-z0-9_-]{43}")
#: A visitor id lasts as long as a festival might: a year.
_COOKIE_SECONDS: Final = 365 * 24 * 3600

#: Titles and advice of the refusal pages, by status.
REFUSALS: Final = {
    Refusal.UNKNOWN: (
        lazy_gettext("This sticker is not in use"),
        lazy_gettext("Ask the festival's staff, or vote at a station with your wristband."),
    ),
    Refusal.MALFORMED: (
        lazy_gettext("This address is incomplete"),
        lazy_gettext("Tap the sticker again with your phone to open a fresh address."),
    ),
    Refusal.FORGED: (
        lazy_gettext("This tap could not be checked"),
        lazy_gettext("The address does not come from this sticker. Tap the sticker itself again."),
    ),
    Refusal.USED: (
        lazy_gettext("This tap has been used"),
        lazy_gettext("Each tap gives one vote. Tap the sticker again to vote once more."),
    ),
    Refusal.EXPIRED: (
        lazy_gettext("This tap is too old"),
        lazy_gettext("A tap is good for 10 minutes. Tap the sticker again to vote."),
    ),
}
#: Names of the default choices in the visitor's language; other choices show their id.
CHOICE_NAMES: Final = {
    "love": lazy_gettext("Love it"),
    "like": lazy_gettext("Like it"),
    "meh": lazy_gettext("Meh"),
    "dislike": lazy_gettext("Dislike it"),
}


def choice_name(choice: str) -> str:
    """A choice as the visitor reads it."""
    return str(CHOICE_NAMES.get(choice, choice))


@blueprint.app_context_processor
def _helpers() -> dict[str, object]:
    return {"choice_name": choice_name}


def _cookie_name(festival_id: str) -> str:
    return f"tapshare_visitor_{festival_id}"


def _visitor_id(festival_id: str) -> str | None:
    value = request.cookies.get(_cookie_name(festival_id))
    return value if value is not None and _VISITOR_ID.fullmatch(value) else None


def _with_visitor(response: Response, festival_id: str, visitor_id: str) -> Response:
    response.set_cookie(
        _cookie_name(festival_id),
        visitor_id,
        max_age=_COOKIE_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


def _page(template: str, status: int = 200, **context: object) -> Response:
    response = make_response(render_template(template, **context), status)
    # The address carries a tap's message: keep it out of caches and other sites' logs.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


def _refused(refusal: Refusal, festival_name: str | None = None) -> Response:
    title, advice = REFUSALS[refusal]
    return _page(
        "phone/refused.html",
        refusal.value,
        title=title,
        advice=advice,
        festival_name=festival_name,
    )


def _unavailable(reason: str) -> Response:
    return _page("phone/unavailable.html", 503, reason=reason)


def _festival(db: Database, festival_id: str) -> Festival | None:
    """The festival (with the visitor key that pseudonyms are made with), or None."""
    return registry_store.get_festival(db, festival_id) if is_slug(festival_id) else None


def _web_votes() -> WebVotes:
    votes = web_votes()
    assert votes is not None  # checked by _needs_web_votes
    return votes


def _sticker(db: Database, festival_id: str, tag: str) -> tuple[Festival, Sticker]:
    info = _festival(db, festival_id)
    sticker = stickers.get(db, festival_id, tag) if info and is_slug(tag) else None
    if info is None or sticker is None or not sticker.enabled:
        raise TapRefused(Refusal.UNKNOWN)
    return info, sticker


def _needs_web_votes(view: Callable[..., Response]) -> Callable[..., Response]:
    """Answer 503 (voting by phone is not set up) when the dashboard has no broker."""

    @functools.wraps(view)
    def checked(**kwargs: str) -> Response:
        if web_votes() is None:
            return _unavailable("not_set_up")
        return view(**kwargs)

    return checked


@blueprint.get("/t/<festival_id>/<tag>")
@_needs_web_votes
def vote_page(festival_id: str, tag: str) -> Response:
    """The page a sticker's tap opens: the artwork and the choices."""
    db = get_db()
    picc_data, cmac = request.args.get("picc_data"), request.args.get("cmac")
    try:
        info, sticker = _sticker(db, festival_id, tag)
        stickers.open_tap(db, festival_id, tag, picc_data, cmac)
    except TapRefused as refused:
        known = _festival(db, festival_id)
        return _refused(refused.refusal, known.name if known else None)
    artwork = stickers.artwork_title(db, sticker)
    choices = [sticker.choice] if sticker.choice else list(info.choices)
    response = _page(
        "phone/vote.html",
        festival=info,
        sticker=sticker,
        artwork=artwork,
        choices=choices,
        picc_data=picc_data,
        cmac=cmac,
    )
    visitor = _visitor_id(festival_id) or secrets.token_urlsafe(32)
    return _with_visitor(response, festival_id, visitor)


@blueprint.post("/t/<festival_id>/<tag>")
@_needs_web_votes
def vote(festival_id: str, tag: str) -> Response:
    """Record a vote: check the tap once more, use it up, keep and publish the Opinion."""
    votes = _web_votes()
    db = get_db()
    picc_data, cmac = request.form.get("picc_data"), request.form.get("cmac")
    choice = request.form.get("choice")
    try:
        info, sticker = _sticker(db, festival_id, tag)
    except TapRefused as refused:
        known = _festival(db, festival_id)
        return _refused(refused.refusal, known.name if known else None)
    allowed = [sticker.choice] if sticker.choice else list(info.choices)
    if choice not in allowed:
        return _refused(Refusal.MALFORMED, info.name)
    visitor_id = _visitor_id(festival_id) or secrets.token_urlsafe(32)
    visitor = web_pseudonym(visitor_id, info.visitor_key)

    def record(used: Sticker) -> Kept:
        return votes.opinion(festival_id, used.artwork, visitor, str(choice))

    try:
        kept = stickers.accept_tap(db, festival_id, tag, picc_data, cmac, record)
    except TapRefused as refused:
        return _refused(refused.refusal, info.name)
    except (OutboxFull, OutboxError):
        return _unavailable("outbox")
    acknowledged = kept.wait()
    response = _page(
        "phone/voted.html",
        festival=info,
        artwork=stickers.artwork_title(db, sticker),
        choice=str(choice),
        acknowledged=acknowledged,
    )
    return _with_visitor(response, festival_id, visitor_id)


def _when(tapped_us: int, festival: FestivalInfo) -> str:
    return festival_time(datetime.fromtimestamp(tapped_us / 1_000_000, UTC), festival)


def _csrf(festival_id: str, visitor_id: str) -> str:
    # Bound to the browser's own id, so another site can neither read nor guess it.
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"my:{festival_id}:{visitor_id}".encode(), hashlib.sha256).hexdigest()


@blueprint.get("/my/<festival_id>")
def my_page(festival_id: str) -> Response:
    """A browser's current opinions at a festival, erase-all, the policy, the receipt."""
    db = get_db()
    info = _festival(db, festival_id)
    if info is None:
        return _refused(Refusal.UNKNOWN)
    visitor_id = _visitor_id(festival_id)
    opinions = []
    if visitor_id is not None:
        visitor = web_pseudonym(visitor_id, info.visitor_key)
        opinions = [
            {"title": o.title, "choice": o.choice, "when": _when(o.tapped_us, festival_info(info))}
            for o in stickers.visitor_opinions(db, festival_id, visitor)
        ]
    current = PolicyStore(db).current(festival_id)
    return _page(
        "phone/my.html",
        festival=info,
        opinions=opinions,
        csrf=_csrf(festival_id, visitor_id) if visitor_id else None,
        explanation=festivals.explanation(db, festival_info(info), current.policy),
        receipt=json.dumps(
            receipt(festival_info(info), current, current=current.version), indent=2
        ),
    )


@blueprint.post("/my/<festival_id>/erase")
@_needs_web_votes
def erase(festival_id: str) -> Response:
    """Erase every opinion this browser gave at the festival (an Erase request)."""
    votes = _web_votes()
    db = get_db()
    info = _festival(db, festival_id)
    if info is None:
        return _refused(Refusal.UNKNOWN)
    visitor_id = _visitor_id(festival_id)
    token = request.form.get("csrf")
    if (
        visitor_id is None
        or not isinstance(token, str)
        or not hmac.compare_digest(token.encode(), _csrf(festival_id, visitor_id).encode())
    ):
        return _refused(Refusal.FORGED, info.name)
    try:
        kept = votes.erase(festival_id, web_pseudonym(visitor_id, info.visitor_key))
    except (OutboxFull, OutboxError):
        return _unavailable("outbox")
    return _page("phone/erased.html", festival=info, acknowledged=kept.wait())
