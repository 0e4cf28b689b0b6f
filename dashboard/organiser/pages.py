"""The organiser's pages for one festival: registry and health, policy editor with
preview, history, access log, receipts and the analyse view."""

from __future__ import annotations

import json
from typing import Any, cast

from flask import flash, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from consent.boards import Board, policy_warnings
from consent.policy import Action, Policy, PolicyError, load_json
from consent.receipts import receipt
from dashboard import data
from dashboard.database import get_db
from dashboard.ngsi import entities as ngsi
from dashboard.organiser.area import blueprint
from dashboard.organiser.auth import current_organiser, owner_required
from dashboard.streams import section_titles

MAX_REASON_LENGTH = 500
#: The preview of what an urban data platform reads: viewer platform, action export.
URBAN_PLATFORM = "urban-platform"


@blueprint.get("/")
def home() -> Response | str:
    """The festivals this organiser manages (straight to the one, when there is one)."""
    organiser = current_organiser()
    if organiser is None:
        return redirect(url_for("organiser.login", next=request.path))
    if len(organiser.festivals) == 1:
        return redirect(url_for("organiser.overview", festival_id=organiser.festivals[0]))
    db = get_db()
    known = {f.id: f for f in data.festivals(db)}
    return render_template(
        "organiser/home.html",
        festivals=[known[f] for f in organiser.festivals if f in known],
    )


@blueprint.get("/<festival_id>/")
@owner_required
def overview(festival_id: str) -> str:
    """The festival's artworks and stations, with each station's health."""
    db = get_db()
    return render_template(
        "organiser/overview.html",
        festival=data.festival(db, festival_id),
        artworks=data.artworks(db, festival_id),
        stations=data.stations(db, festival_id),
    )


def audiences(db: Any, festival_id: str) -> list[tuple[str, str]]:
    """The audiences a policy can be previewed for: (viewer, label)."""
    others = [f for f in data.festivals(db) if f.id != festival_id]
    return [
        ("public", "The public (web board)"),
        ("network", "The network (a festival without a rule of its own)"),
        ("platform", "The platform operator"),
        (URBAN_PLATFORM, "The urban data platform (NGSI-LD entities, export)"),
        *[(f"festival:{f.id}", f"Festival {f.name} ({f.id})") for f in others],
    ]


def network_member(db: Any, festival_id: str, draft: Policy, action: str) -> str | None:
    """Another festival that no rule of ``draft`` names for ``action``: it sees what the
    network sees."""
    named = {rule.to for rule in draft.rules if rule.action == action}
    for other in data.festivals(db):
        if other.id != festival_id and f"festival:{other.id}" not in named:
            return other.id
    return None


def _policy_json(policy: Policy) -> str:
    return json.dumps(policy.wire(), indent=2, ensure_ascii=False)


def parse_policy(text: str, known_festivals: set[str]) -> Policy:
    """A policy from the editor's JSON; raises ``PolicyError`` listing every problem."""
    return Policy.checked(load_json(text), known_festivals)


def _editor(festival_id: str, text: str, **extra: Any) -> str:
    db = get_db()
    store = data.policy_store(db)
    return render_template(
        "organiser/policy.html",
        festival=data.festival(db, festival_id),
        policy_text=text,
        current_version=store.current(festival_id).version,
        audiences=audiences(db, festival_id),
        audience=extra.pop("audience", "public"),
        action=extra.pop("action", "display"),
        actions=data.ACTIONS,
        **extra,
    )


@blueprint.get("/<festival_id>/policy")
@owner_required
def policy(festival_id: str) -> str:
    """The policy editor, opened on the current policy."""
    current = data.policy_store(get_db()).current(festival_id)
    return _editor(festival_id, _policy_json(current.policy))


@blueprint.post("/<festival_id>/policy")
@owner_required
def policy_submit(festival_id: str) -> Response | str | tuple[str, int]:
    """Preview the edited policy for an audience, or save it as a new version."""
    db = get_db()
    text = request.form.get("policy", "")
    audience = request.form.get("audience", "public")
    action = request.form.get("action", "display")
    if audience == URBAN_PLATFORM:
        action = "export"  # what a platform reads is what the festival exports to it
    reason = request.form.get("reason", "").strip()[:MAX_REASON_LENGTH]
    if audience not in {viewer for viewer, _ in audiences(db, festival_id)}:
        return _editor(festival_id, text, errors=[f"unknown audience: {audience}"]), 400
    if action not in data.ACTIONS:
        return _editor(festival_id, text, errors=[f"unknown action: {action}"]), 400
    known = {f.id for f in data.festivals(db)}
    try:
        draft = parse_policy(text, known)
    except PolicyError as exc:
        return _editor(
            festival_id, text, errors=exc.problems, audience=audience, action=action
        ), 400
    if request.form.get("do") == "save":
        organiser = current_organiser()
        assert organiser is not None  # owner_required let us in
        saved = data.policy_store(db).set(
            festival_id, draft, organiser.email, reason or "changed in the dashboard", known
        )
        flash(f"Saved as version {saved.version}.")
        return redirect(url_for("organiser.policy", festival_id=festival_id))
    viewer = audience
    if audience == URBAN_PLATFORM:
        viewer = "platform"
    if audience == "network":
        found = network_member(db, festival_id, draft, action)
        if found is None:
            problem = "every other festival has a rule of its own: preview them one by one"
            return _editor(
                festival_id, text, errors=[problem], audience=audience, action=action
            ), 400
        viewer = f"festival:{found}"
    preview = data.board(db, viewer, action, draft=(festival_id, draft))
    body = preview.model_dump(mode="json")
    body["sections"] = [s for s in body["sections"] if s["festival"] == festival_id]
    extra = {}
    if audience == URBAN_PLATFORM:
        extra["entities"] = _platform_entities(db, preview, festival_id)
    return _editor(
        festival_id,
        text,
        audience=audience,
        action=action,
        preview=body,
        titles=section_titles(db, body),
        warnings=policy_warnings(draft),
        explanation=data.explanation(db, data.festival(db, festival_id), draft),
        **extra,
    )


def _platform_entities(db: Any, preview: Board, festival_id: str) -> str:
    """The festival's NGSI-LD entities (keyValues) in a preview board, as JSON text."""
    found = [
        ngsi.key_values(entity)
        for entity in ngsi.board_entities(preview, data.registration_dates(db))
        if ngsi.festival_of(entity["id"]) == festival_id
    ]
    return json.dumps(found, indent=2, ensure_ascii=False)


@blueprint.get("/<festival_id>/history")
@owner_required
def history(festival_id: str) -> str:
    """Every version of the policy, newest first, each with its diff from the one before."""
    db = get_db()
    store = data.policy_store(db)
    versions = store.history(festival_id)
    # Version 0 is "nothing shared", so the first saved version has a diff too.
    diffs = {v.version: store.diff(festival_id, v.version - 1, v.version) for v in versions}
    return render_template(
        "organiser/history.html",
        festival=data.festival(db, festival_id),
        versions=list(reversed(versions)),
        diffs=diffs,
    )


ACCESS_LOG_PAGE_SIZES = (25, 50, 100, 200)
ACCESS_LOG_ACTIONS = ("analyse", "export")


def _page_argument(name: str, default: int, allowed: tuple[int, ...] | None = None) -> int:
    raw = request.args.get(name, "")
    if not raw:
        return default
    if (
        not (raw.isascii() and raw.isdigit() and len(raw) <= 9)
        or int(raw) < 1
        or (allowed is not None and int(raw) not in allowed)
    ):
        choices = ", ".join(map(str, allowed)) if allowed else "a whole number from 1"
        raise BadRequest(f"{name} must be {choices}, not {raw[:40]!r}")
    return int(raw)


@blueprint.get("/<festival_id>/access-log")
@owner_required
def access_log(festival_id: str) -> str:
    """Who read this festival's data for analysis or export, when, under which version:
    newest first, a page at a time, all actions or one."""
    action = request.args.get("action", "")
    if action and action not in ACCESS_LOG_ACTIONS:
        raise BadRequest(f"action must be analyse or export, not {action[:40]!r}")
    per_page = _page_argument("per_page", ACCESS_LOG_PAGE_SIZES[1], ACCESS_LOG_PAGE_SIZES)
    db = get_db()
    store = data.policy_store(db)
    only = cast("Action | None", action or None)
    total = store.access_count(festival_id, only)
    pages = max(1, -(-total // per_page))
    page = min(_page_argument("page", 1), pages)  # past the end: the oldest entries
    return render_template(
        "organiser/access_log.html",
        festival=data.festival(db, festival_id),
        entries=store.access_log(festival_id, per_page, offset=(page - 1) * per_page, action=only),
        total=total,
        page=page,
        pages=pages,
        per_page=per_page,
        page_sizes=ACCESS_LOG_PAGE_SIZES,
        action=action,
        actions=ACCESS_LOG_ACTIONS,
    )


@blueprint.get("/<festival_id>/receipts")
@owner_required
def receipts(festival_id: str) -> str:
    """Consent receipts: what each policy version granted, to whom, from when."""
    db = get_db()
    info = data.festival(db, festival_id)
    store = data.policy_store(db)
    current = store.current(festival_id).version
    found = [receipt(info, version, current=current) for version in store.history(festival_id)]
    return render_template("organiser/receipts.html", festival=info, receipts=list(reversed(found)))


@blueprint.route("/<festival_id>/analyse", methods=["GET", "POST"])
@owner_required
def analyse(festival_id: str) -> str:
    """The analyse view: this festival's data and what others share for analysis.

    Reading others' data writes their access logs, so only the page's form (a POST with
    its CSRF token) reads it; a GET shows the form.
    """
    db = get_db()
    info = data.festival(db, festival_id)
    if request.method == "GET":
        return render_template("organiser/analyse.html", festival=info, board=None)
    organiser = current_organiser()
    assert organiser is not None
    body = data.board(
        db, f"festival:{festival_id}", "analyse", accessor=organiser.email
    ).model_dump(mode="json")
    return render_template(
        "organiser/analyse.html", festival=info, board=body, titles=section_titles(db, body)
    )
