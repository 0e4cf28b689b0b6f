"""Artworks and stations managed from the organiser's overview, with the registry functions
and validation of ``tapshare artwork add``, ``station add`` and ``station disable``.

A station added here gets its station.toml once, in the answer to the form: only a hash of
its broker password is kept, so no page can show the file again.
"""

from __future__ import annotations

import base64

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from dashboard import festivals
from dashboard.database import get_db
from dashboard.i18n import gettext as _
from dashboard.i18n import refusal
from dashboard.organiser.area import blueprint
from dashboard.organiser.auth import owner_required
from dashboard.organiser.pages import overview_page
from hub import registry
from protocol.broker import parse_broker_url


def _back(festival_id: str) -> Response:
    return redirect(url_for("organiser.overview", festival_id=festival_id))


@blueprint.post("/<festival_id>/artworks")
@owner_required
def artwork_add(festival_id: str) -> Response | tuple[str, int]:
    """Register an artwork (``artwork``: its id, ``title``), as ``tapshare artwork add``."""
    artwork_id = request.form.get("artwork", "").strip()
    title = request.form.get("title", "").strip()
    try:
        added = registry.add_artwork(get_db(), festival_id, artwork_id, title)
    except registry.RegistryError as exc:
        page = overview_page(
            festival_id, artwork_error=refusal(exc), artwork_id=artwork_id, artwork_title=title
        )
        return page, 400
    flash(_("Artwork %(title)s (%(id)s) added.", title=added.title, id=added.id))
    return _back(festival_id)


@blueprint.post("/<festival_id>/stations")
@owner_required
def station_add(festival_id: str) -> str | tuple[str, int]:
    """Register a station (``station``: its id), as ``tapshare station add``, and answer
    with its station.toml, shown and offered as a download this once."""
    station_id = request.form.get("station", "").strip()
    broker = parse_broker_url(current_app.config["TAPSHARE_STATION_BROKER"])
    try:
        text = registry.add_station_file(get_db(), festival_id, station_id, broker)
    except registry.RegistryError as exc:
        return overview_page(festival_id, station_error=refusal(exc), station_id=station_id), 400
    # A data: address, so that the file never has to be kept on the server to be fetched.
    download = "data:application/toml;base64," + base64.b64encode(text.encode()).decode()
    return render_template(
        "organiser/station_added.html",
        festival=festivals.festival(get_db(), festival_id),
        station=station_id,
        toml=text,
        download=download,
    )


@blueprint.post("/<festival_id>/stations/disable")
@owner_required
def station_disable(festival_id: str) -> Response | tuple[str, int]:
    """Disable a station (``station``), as ``tapshare station disable``."""
    station_id = request.form.get("station", "").strip()
    try:
        registry.disable_station(get_db(), festival_id, station_id)
    except registry.RegistryError as exc:
        return overview_page(festival_id, station_error=refusal(exc)), 400
    flash(
        _(
            "Station %(station)s disabled: its taps are refused from now on. The operator "
            "runs `tapshare broker-config` to shut it out of the broker too.",
            station=station_id,
        )
    )
    return _back(festival_id)
