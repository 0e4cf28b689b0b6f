"""The organiser area: login, the festival's registry and station health (artworks and
stations managed from the web), the policy editor, history, access log, receipts, the
analyse view, exports, screen keys, stickers, organisers and posters. Every page needs a
login, and an organiser sees only the festivals they manage."""

from __future__ import annotations

# Importing the route modules adds their routes to the blueprint.
from dashboard.organiser import (
    analyse,
    auth,
    exports,
    manage,
    pages,
    people,
    posters,
    screens,
    stickers,
)
from dashboard.organiser.area import blueprint

__all__ = [
    "analyse",
    "auth",
    "blueprint",
    "exports",
    "manage",
    "pages",
    "people",
    "posters",
    "screens",
    "stickers",
]
