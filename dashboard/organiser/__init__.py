"""The organiser area: login, the festival's registry and station health, the policy
editor, history, access log, receipts, exports and screen keys. Every page needs a login,
and an organiser sees only the festivals they manage."""

from __future__ import annotations

# Importing the route modules adds their routes to the blueprint.
from dashboard.organiser import auth, exports, pages, screens
from dashboard.organiser.area import blueprint

__all__ = ["auth", "blueprint", "exports", "pages", "screens"]
