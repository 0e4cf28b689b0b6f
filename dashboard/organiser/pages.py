"""The organiser's pages for one festival: registry and health, policy editor with
preview, history, access log and receipts."""

from __future__ import annotations

import json
from typing import Any, cast

from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.wrappers import Response

from consent.boards import Board, policy_warnings
from consent.policy import ACTIONS, Action, Policy, PolicyError, load_json, viewer_for
from consent.receipts import receipt
from consent.store import PolicyStore
from dashboard import festivals, opinions
from dashboard.access import current_organiser
from dashboard.board_view import section_titles
from dashboard.database import get_db
from dashboard.i18n import current_language, gettext
from dashboard.ngsi import entities as ngsi
from dashboard.organiser.area import blueprint
from dashboard.organiser.auth import owner_required
from dashboard.organiser.health import alerts, station_views
from dashboard.organiser.policy_form import (
    PolicyForm,
    change_words,
    checked_policy,
    describe_form,
    form_of,
    policy_words,
    read_form,
)
from hub import queries, registry_store
from hub.models import WEB_STATION

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
    known = {f.id: f for f in festivals.festivals(db)}
    return render_template(
        "organiser/home.html",
        festivals=[known[f] for f in organiser.festivals if f in known],
    )


@blueprint.get("/<festival_id>/")
@owner_required
def overview(festival_id: str) -> str:
    """The festival's artworks and stations, with each station's health in words."""
    return overview_page(festival_id)


def overview_page(festival_id: str, **extra: Any) -> str:
    """The overview, with ``extra`` for the forms that add artworks and stations (a
    refusal and what was typed)."""
    db = get_db()
    stations = queries.stations(db, festival_id)
    now = opinions.now()
    return render_template(
        "organiser/overview.html",
        festival=festivals.festival(db, festival_id),
        artworks=registry_store.list_artworks(db, festival_id),
        stations=station_views(stations, now),
        alerts=alerts(stations, now),
        web_station=WEB_STATION,
        **extra,
    )


def audiences(db: Any, festival_id: str) -> list[tuple[str, str]]:
    """The audiences a policy can be previewed for: (viewer, label)."""
    others = [f for f in festivals.festivals(db) if f.id != festival_id]
    return [
        ("public", gettext("The public (web board)")),
        ("network", gettext("The network (a festival without a rule of its own)")),
        ("platform", gettext("The platform operator")),
        (URBAN_PLATFORM, gettext("The urban data platform (NGSI-LD entities, export)")),
        *[
            (viewer_for(f.id), gettext("Festival %(name)s (%(id)s)", name=f.name, id=f.id))
            for f in others
        ],
    ]


def network_member(db: Any, festival_id: str, draft: Policy, action: str) -> str | None:
    """Another festival that no rule of ``draft`` names for ``action``: it sees what the
    network sees."""
    named = {rule.to for rule in draft.rules if rule.action == action}
    for other in festivals.festivals(db):
        if other.id != festival_id and viewer_for(other.id) not in named:
            return other.id
    return None


def _policy_json(policy: Policy) -> str:
    return json.dumps(policy.wire(), indent=2, ensure_ascii=False)


def parse_policy(text: str, known_festivals: set[str]) -> Policy:
    """A policy from the editor's JSON; raises ``PolicyError`` listing every problem."""
    return Policy.checked(load_json(text), known_festivals)


def _editor(
    festival_id: str,
    text: str,
    form: PolicyForm,
    draft: Policy | None,
    status: int = 200,
    **extra: Any,
) -> tuple[str, int]:
    """The editor page: the form (with words, warnings and problems), the advanced JSON,
    the change against the current version and the preview for the chosen audience."""
    db = get_db()
    info = festivals.festival(db, festival_id)
    current = PolicyStore(db).current(festival_id)
    names = festivals.festival_names(db)
    describe_form(form, draft, names)
    audience = extra.pop("audience", "public")
    action = extra.pop("action", "display")
    if draft is not None and "preview" not in extra and "errors" not in extra:
        extra.update(_preview(db, festival_id, draft, audience, cast("Action", action)))
    changes = change_words(current.policy, draft, names) if draft is not None else []
    others = [f for f in festivals.festivals(db) if f.id != festival_id]
    page = render_template(
        "organiser/policy.html",
        festival=info,
        form=form,
        names=names,
        addable=[f for f in others if f.id not in form.festivals],
        policy_text=text,
        current_version=current.version,
        changes=changes,
        audiences=audiences(db, festival_id),
        audience=audience,
        action=action,
        actions=ACTIONS,
        **extra,
    )
    return page, status


@blueprint.get("/<festival_id>/policy")
@owner_required
def policy(festival_id: str) -> tuple[str, int]:
    """The policy editor, opened on the current policy."""
    current = PolicyStore(get_db()).current(festival_id).policy
    return _editor(festival_id, _policy_json(current), form_of(current), current)


def _preview(
    db: Any, festival_id: str, draft: Policy, audience: str, action: Action
) -> dict[str, Any]:
    """What ``audience`` would get for ``action`` under ``draft``: the board (or the
    platform's entities), in words when it is nothing; or ``errors`` when it cannot say."""
    viewer = audience
    if audience == URBAN_PLATFORM:
        viewer = "platform"
    if audience == "network":
        found = network_member(db, festival_id, draft, action)
        if found is None:
            problem = gettext("every other festival has a rule of its own: preview them one by one")
            return {"errors": [problem]}
        viewer = viewer_for(found)
    preview = opinions.board(db, viewer, action, draft=(festival_id, draft))
    body = preview.model_dump(mode="json")
    body["sections"] = [s for s in body["sections"] if s["festival"] == festival_id]
    info = festivals.festival(db, festival_id)
    who = dict(audiences(db, festival_id)).get(audience, audience).split(" (")[0]
    nothing = ""
    if not body["sections"]:
        nothing = gettext(
            "%(who)s will see nothing from %(festival)s (%(action)s).",
            who=who,
            festival=info.name,
            action=ACTION_WORDS[action],
        )
    elif not body["sections"][0]["cells"]:
        nothing = gettext(
            "%(who)s will see %(festival)s's section, but nothing in it yet: every "
            "figure is withheld until enough visitors have taken part.",
            who=who,
            festival=info.name,
        )
    extra: dict[str, Any] = {
        "preview": body,
        "nothing": nothing,
        "titles": section_titles(db, body),
        "warnings": policy_warnings(
            draft, names=festivals.festival_names(db), lang=current_language()
        ),
        "explanation": festivals.explanation(db, info, draft),
    }
    if audience == URBAN_PLATFORM:
        extra["entities"] = _platform_entities(db, preview, festival_id)
    return extra


ACTION_WORDS = {
    "display": lazy_gettext("on boards"),
    "analyse": lazy_gettext("to analyse"),
    "export": lazy_gettext("to export"),
}


@blueprint.post("/<festival_id>/policy")
@owner_required
def policy_submit(festival_id: str) -> Response | tuple[str, int]:
    """Preview the edited policy (from the form, or the advanced JSON) for an audience,
    add a festival's row, or save the policy as a new version."""
    db = get_db()
    known = {f.id for f in festivals.festivals(db)}
    audience = request.form.get("audience", "public")
    action = request.form.get("action", "display")
    if audience == URBAN_PLATFORM:
        action = "export"  # what a platform reads is what the festival exports to it
    reason = request.form.get("reason", "").strip()[:MAX_REASON_LENGTH]
    current = PolicyStore(db).current(festival_id).policy
    draft: Policy | None
    if "policy" in request.form:  # the advanced view: the policy as JSON
        text = request.form["policy"]
        json_errors: list[str] = []
        try:
            draft = parse_policy(text, known).canonical()
        except PolicyError as exc:
            draft, json_errors = None, exc.problems
        form = form_of(draft or current)
        form.errors = json_errors
    else:
        form = read_form(request.form, known - {festival_id})
        draft = checked_policy(form, known)
        text = _policy_json(draft) if draft is not None else _policy_json(current)
    shown: dict[str, Any] = {"audience": audience, "action": action}
    if audience not in {viewer for viewer, _ in audiences(db, festival_id)}:
        problem = gettext("unknown audience: %(audience)s", audience=audience)
        return _editor(festival_id, text, form, draft, 400, errors=[problem])
    if action not in ACTIONS:
        problem = gettext("unknown action: %(action)s", action=action)
        return _editor(festival_id, text, form, draft, 400, errors=[problem])
    if draft is None:
        return _editor(festival_id, text, form, None, 400, **shown)
    if request.form.get("do") == "save":
        if draft == current.canonical():
            flash(gettext("Nothing has changed, so no new version was saved."))
            return redirect(url_for("organiser.policy", festival_id=festival_id))
        if not reason:
            return _editor(
                festival_id,
                text,
                form,
                draft,
                400,
                reason_error="Say why the policy changes: the reason is kept in the history.",
                **shown,
            )
        organiser = current_organiser()
        assert organiser is not None  # owner_required let us in
        saved = PolicyStore(db).set(festival_id, draft, organiser.email, reason, known)
        flash(gettext("Saved as version %(version)d.", version=saved.version))
        return redirect(url_for("organiser.policy", festival_id=festival_id))
    return _editor(festival_id, text, form, draft, **shown)


def _platform_entities(db: Any, preview: Board, festival_id: str) -> str:
    """The festival's NGSI-LD entities (keyValues) in a preview board, as JSON text."""
    found = [
        ngsi.key_values(entity)
        for entity in ngsi.board_entities(preview, festivals.registration_dates(db))
        if ngsi.festival_of(entity["id"]) == festival_id
    ]
    return json.dumps(found, indent=2, ensure_ascii=False)


@blueprint.get("/<festival_id>/history")
@owner_required
def history(festival_id: str) -> str:
    """Every version of the policy, newest first, in words with what it changed, and a
    way to restore an earlier one."""
    db = get_db()
    store = PolicyStore(db)
    names = festivals.festival_names(db)
    versions = store.history(festival_id)
    previous = [store.version(festival_id, 0), *versions]
    changes = {
        v.version: change_words(before.policy, v.policy, names)
        for before, v in zip(previous, versions, strict=False)
    }
    return render_template(
        "organiser/history.html",
        festival=festivals.festival(db, festival_id),
        versions=list(reversed(versions)),
        current=versions[-1].version if versions else 0,
        changes=changes,
        words={v.version: policy_words(v.policy, names) for v in versions},
    )


@blueprint.post("/<festival_id>/history/restore")
@owner_required
def restore(festival_id: str) -> Response | tuple[str, int]:
    """Save an earlier version's policy again, as a new version with its reason."""
    db = get_db()
    store = PolicyStore(db)
    reason = request.form.get("reason", "").strip()[:MAX_REASON_LENGTH]
    try:
        number = int(request.form.get("version", ""))
        earlier = store.version(festival_id, number)
    except (ValueError, LookupError):
        return gettext("There is no such version of this policy."), 400
    if not reason:
        flash(
            gettext(
                "Say why you restore version %(version)d: the reason is kept in the history.",
                version=number,
            )
        )
        return redirect(url_for("organiser.history", festival_id=festival_id))
    known = {f.id for f in festivals.festivals(db)}
    before = store.current(festival_id).version
    organiser = current_organiser()
    assert organiser is not None  # owner_required let us in
    try:
        saved = store.set(festival_id, earlier.policy, organiser.email, reason, known)
    except PolicyError as exc:  # a festival it names has gone since
        flash(
            gettext(
                "Version %(version)d cannot be restored: %(problem)s", version=number, problem=exc
            )
        )
        return redirect(url_for("organiser.history", festival_id=festival_id))
    if saved.version == before:
        flash(
            gettext(
                "Version %(version)d decides what the current version decides; nothing was saved.",
                version=number,
            )
        )
    else:
        flash(
            gettext(
                "Version %(earlier)d restored as version %(version)d.",
                earlier=number,
                version=saved.version,
            )
        )
    return redirect(url_for("organiser.history", festival_id=festival_id))


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
        choices = ", ".join(map(str, allowed)) if allowed else gettext("a whole number from 1")
        raise BadRequest(
            gettext(
                "%(name)s must be %(choices)s, not %(given)s",
                name=name,
                choices=choices,
                given=repr(raw[:40]),
            )
        )
    return int(raw)


@blueprint.get("/<festival_id>/access-log")
@owner_required
def access_log(festival_id: str) -> str:
    """Who read this festival's data for analysis or export, when, under which version:
    newest first, a page at a time, all actions or one."""
    action = request.args.get("action", "")
    if action and action not in ACCESS_LOG_ACTIONS:
        raise BadRequest(
            gettext("action must be analyse or export, not %(given)s", given=repr(action[:40]))
        )
    per_page = _page_argument("per_page", ACCESS_LOG_PAGE_SIZES[1], ACCESS_LOG_PAGE_SIZES)
    db = get_db()
    store = PolicyStore(db)
    only = cast("Action | None", action or None)
    total = store.access_count(festival_id, only)
    pages = max(1, -(-total // per_page))
    page = min(_page_argument("page", 1), pages)  # past the end: the oldest entries
    return render_template(
        "organiser/access_log.html",
        festival=festivals.festival(db, festival_id),
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
    """Consent receipts in words: what each policy version granted, to whom, from when;
    each with its JSON record to download."""
    db = get_db()
    info = festivals.festival(db, festival_id)
    store = PolicyStore(db)
    current = store.current(festival_id).version
    names = festivals.festival_names(db)
    versions = store.history(festival_id)
    # A version is in force from its own time until the next version's.
    # (A festival that never set a policy has no version at all.)
    untils = [later.created_at for later in versions[1:]] + [None] if versions else []
    found = [
        {
            "receipt": receipt(info, version, current=current),
            "words": policy_words(version.policy, names),
            "since": version.created_at,
            "until": until,
        }
        for version, until in reversed(list(zip(versions, untils, strict=True)))
    ]
    return render_template("organiser/receipts.html", festival=info, receipts=found)


@blueprint.get("/<festival_id>/receipts/<int:number>.json")
@owner_required
def receipt_download(festival_id: str, number: int) -> Response:
    """One version's consent receipt as a JSON file."""
    db = get_db()
    info = festivals.festival(db, festival_id)
    store = PolicyStore(db)
    try:
        version = store.version(festival_id, number)
    except LookupError:
        raise NotFound(
            gettext(
                "%(festival)s has no policy version %(version)d", festival=info.name, version=number
            )
        ) from None
    body = receipt(info, version, current=store.current(festival_id).version)
    response = Response(json.dumps(body, indent=2, ensure_ascii=False), mimetype="application/json")
    name = f"tapshare-{festival_id}-receipt-{number}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
