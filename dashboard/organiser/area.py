"""The organiser area's blueprint, which its route modules add their routes to."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("organiser", __name__, url_prefix="/organiser")
