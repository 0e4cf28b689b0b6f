"""CSV and JSON exports: the festival's own data, and others' as their ``export`` rules
allow. Each export of another festival's data lands in that festival's access log, so an
export is a POST with the form's CSRF token: a link from another site cannot make one in
an organiser's name."""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

from flask import Response, render_template, request
from werkzeug.exceptions import NotFound

from consent.policy import viewer_for
from dashboard import festivals, opinions
from dashboard.access import current_organiser
from dashboard.board_view import section_titles
from dashboard.database import get_db
from dashboard.i18n import gettext
from dashboard.organiser.area import blueprint
from dashboard.organiser.auth import owner_required

FORMATS = ("csv", "json")


def export_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per shared cell: festival, rule, level, artwork, visitors and each count.

    Withheld cells are not rows (they are no figures, not even zero).
    """
    rows = []
    for section in body["sections"]:
        for cell in section["cells"]:
            row = {
                "festival": section["festival"],
                "rule": section["rule"],
                "policy_version": section["policy_version"],
                "level": section["level"],
                "delay_minutes": section["delay_minutes"],
                "artwork": cell["artwork"] or "",
                "title": cell.get("title") or "",
                "visitors": cell["visitors"],
            }
            row.update({f"count_{choice}": n for choice, n in cell["counts"].items()})
            rows.append(row)
    return rows


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV; columns are the union of every row's keys, in first-seen order."""
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or ["festival"], restval=0)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@blueprint.get("/<festival_id>/exports")
@owner_required
def exports(festival_id: str) -> str:
    """Whose data the festival may export (decided, not read), and the form that prepares
    an export of it."""
    return _page(festival_id)


def _page(festival_id: str, **extra: Any) -> str:
    db = get_db()
    shared = opinions.grants(db, viewer_for(festival_id), "export")
    sharing = {info.id for info, _ in shared}
    return render_template(
        "organiser/exports.html",
        festival=festivals.festival(db, festival_id),
        grants=shared,
        silent=[f for f in festivals.festivals(db) if f.id not in sharing],
        formats=FORMATS,
        **extra,
    )


def _export(festival_id: str) -> tuple[dict[str, Any], str]:
    """Read the export the form asks for (``festival``: one owner, or every one that
    shares): the board as JSON-ready data, and the files' base name. Reading others' data
    lands in their access logs under the organiser's name."""
    db = get_db()
    owner = request.form.get("festival")
    if owner:
        festivals.festival(db, owner)
    organiser = current_organiser()
    assert organiser is not None
    board = opinions.board(
        db,
        viewer_for(festival_id),
        "export",
        accessor=organiser.email,
        owners=[owner] if owner else None,
    )
    body = board.model_dump(mode="json")
    if owner:
        body["sections"] = [s for s in body["sections"] if s["festival"] == owner]
    return body, f"tapshare-{festival_id}-{owner or 'all'}-export"


def export_files(body: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The export in each format: (media type, text)."""
    return {
        "csv": ("text/csv", to_csv(export_rows(body))),
        "json": ("application/json", json.dumps(body, indent=2, ensure_ascii=False)),
    }


@blueprint.post("/<festival_id>/exports")
@owner_required
def export_prepare(festival_id: str) -> str:
    """Read the export once and answer with what it holds, festival by festival (the
    artworks withheld for too few visitors named), and its files to download."""
    body, name = _export(festival_id)
    titles = section_titles(get_db(), body)
    downloads = [
        (fmt, f"{name}.{fmt}", f"data:{media};base64," + base64.b64encode(text.encode()).decode())
        for fmt, (media, text) in export_files(body).items()
    ]
    withheld_names = {
        section["festival"]: [
            titles.get(section["festival"], {}).get(artwork, artwork)
            for artwork in section["withheld"]
        ]
        for section in body["sections"]
    }
    return _page(festival_id, export=body, withheld_names=withheld_names, downloads=downloads)


@blueprint.post("/<festival_id>/export.<fmt>")
@owner_required
def export(festival_id: str, fmt: str) -> Response:
    """The export as one file, for scripts: the form's ``festival`` keeps one owner's
    data."""
    if fmt not in FORMATS:
        raise NotFound(gettext("no export format %(format)s; use csv or json", format=repr(fmt)))
    body, name = _export(festival_id)
    media, text = export_files(body)[fmt]
    response = Response(text, mimetype=media)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
