"""CSV and JSON exports: the festival's own data, and others' as their ``export`` rules
allow. Each export of another festival's data lands in that festival's access log, so an
export is a POST with the form's CSRF token: a link from another site cannot make one in
an organiser's name."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Response, render_template, request
from werkzeug.exceptions import NotFound

from dashboard import festivals, opinions
from dashboard.database import get_db
from dashboard.i18n import gettext
from dashboard.organiser.area import blueprint
from dashboard.organiser.auth import current_organiser, owner_required

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
    """The export form: whose data, in which format (reading it is a POST)."""
    db = get_db()
    return render_template(
        "organiser/exports.html",
        festival=festivals.festival(db, festival_id),
        festivals=festivals.festivals(db),
        formats=FORMATS,
    )


@blueprint.post("/<festival_id>/export.<fmt>")
@owner_required
def export(festival_id: str, fmt: str) -> Response:
    """The export as the festival may have it: the form's ``festival`` keeps one owner's
    data."""
    if fmt not in FORMATS:
        raise NotFound(gettext("no export format %(format)s; use csv or json", format=repr(fmt)))
    db = get_db()
    owner = request.form.get("festival")
    if owner:
        festivals.festival(db, owner)
    organiser = current_organiser()
    assert organiser is not None
    board = opinions.board(
        db,
        f"festival:{festival_id}",
        "export",
        accessor=organiser.email,
        owners=[owner] if owner else None,
    )
    body = board.model_dump(mode="json")
    if owner:
        body["sections"] = [s for s in body["sections"] if s["festival"] == owner]
    name = f"tapshare-{festival_id}-{owner or 'all'}-export"
    if fmt == "json":
        response = Response(json.dumps(body, indent=2), mimetype="application/json")
    else:
        response = Response(to_csv(export_rows(body)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
