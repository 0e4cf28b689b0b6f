"""The festival's organisers: list them, add one, remove one — with the account functions
and validation of ``tapshare organiser add|list|remove``.

A new organiser's password is either typed by that organiser (standing beside whoever adds
them) or made here and shown this once; only its hash is kept. An existing account gains
the festival only with its current password, as on the command line, so that nobody can
attach someone else's account to a festival.
"""

from __future__ import annotations

import secrets

from flask import current_app, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from dashboard import accounts
from dashboard.access import current_organiser
from dashboard.database import get_db
from dashboard.i18n import gettext as _
from dashboard.organiser.area import blueprint
from dashboard.organiser.auth import owner_required
from dashboard.organiser.owner_page import owner_page

#: Characters of a password made here (about 96 bits).
MADE_PASSWORD_BYTES = 12


_page = owner_page(
    "organisers",
    "organisers",
    "organiser/organisers.html",
    lambda db, festival_id: {
        "organisers": accounts.festival_organisers(db, festival_id),
        "min_password": accounts.MIN_PASSWORD_LENGTH,
    },
    "Who manages this festival, and the forms to add and remove organisers.",
)


@blueprint.post("/<festival_id>/organisers")
@owner_required
def organisers_submit(festival_id: str) -> Response | str | tuple[str, int]:
    """Add an organiser (``do=add``: ``email``, and ``password`` or ``make_password``) or
    remove one (``do=remove``: ``email``)."""
    action = request.form.get("do", "")
    email = request.form.get("email", "").strip()
    if action == "add":
        return _add(festival_id, email)
    if action == "remove":
        return _remove(festival_id, email)
    return _page(festival_id, error=_("Unknown action."), email=email), 400


def _add(festival_id: str, email: str) -> str | tuple[str, int]:
    made = request.form.get("make_password") == "yes"
    password = (
        secrets.token_urlsafe(MADE_PASSWORD_BYTES) if made else request.form.get("password", "")
    )
    checks: accounts.PasswordChecks = current_app.extensions["tapshare_password_checks"]
    try:
        with checks.slot():
            created = accounts.add_organiser(get_db(), festival_id, email, password)
    except accounts.AccountError as exc:
        return _page(festival_id, error=str(exc), email=email), 400
    except accounts.ChecksBusy:
        busy = _("The dashboard is checking too many passwords right now; try again.")
        return _page(festival_id, error=busy, email=email), 503
    email = accounts.normalise_email(email)
    if created:
        done = _("%(email)s can now log in and manage this festival.", email=email)
    else:
        done = _("%(email)s already had an account and now manages this festival too.", email=email)
    return _page(
        festival_id,
        done=done,
        made_for=email if made else None,
        password=password if made else None,
    )


def _remove(festival_id: str, email: str) -> Response | tuple[str, int]:
    organiser = current_organiser()
    assert organiser is not None  # owner_required let us in
    try:
        accounts.remove_organiser(get_db(), festival_id, email)
    except accounts.AccountError as exc:
        return _page(festival_id, error=str(exc)), 400
    removed = accounts.normalise_email(email)
    flash(_("%(email)s no longer manages this festival.", email=removed))
    if removed == organiser.email:  # they removed themselves: this festival is closed to them
        return redirect(url_for("organiser.home"))
    return redirect(url_for("organiser.organisers", festival_id=festival_id))
