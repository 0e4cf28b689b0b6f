"""The organiser area: login, the festival's registry and station health, the policy
editor, history, access log, receipts, exports and screen keys. Every page needs a login,
and an organiser sees only the festivals they manage."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("organiser", __name__, url_prefix="/organiser")

from dashboard.organiser import auth, exports, pages, screens  # noqa: E402  (routes register here)

__all__ = ["auth", "blueprint", "exports", "pages", "screens"]
