"""A read-only subset of the NGSI-LD API (ETSI GS CIM 009) for urban data platforms.

Every read builds the export board of the viewer through the consent layer
(:func:`dashboard.opinions.board`, action ``export``) and turns its cells into entities, so a
platform gets exactly what each festival's ``export`` rules grant it. A request with
``Authorization: Bearer KEY`` of a platform key (``tapshare platform-key add``) reads as
the viewer ``platform``; one without reads as ``public``; any other credential is refused
with 401. Reads of a festival's data are recorded in its access log by the board function,
one entry per request and festival. See docs/api.md, "NGSI-LD".
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request

from consent.policy import PUBLIC
from dashboard import festivals, opinions
from dashboard.database import get_db
from dashboard.ngsi.entities import (
    ATTRIBUTES,
    CONTEXT_PATH,
    TYPE_IRIS,
    board_entities,
    context_document,
    festival_of,
    key_values,
    types_of,
)
from dashboard.ngsi.problems import access_denied, not_found
from dashboard.ngsi.query import (
    Query,
    check_entity_id,
    entity_query,
    one_entity_query,
    types_query,
)
from hub import registry

__all__ = ["blueprint", "platform_entities"]

blueprint = Blueprint("ngsi", __name__)


LD_JSON = "application/ld+json"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"


def _viewer() -> tuple[str, str | None]:
    """(viewer, accessor): ``platform`` and the key's name, or ``public``."""
    header = request.headers.get("Authorization")
    if header is None:
        return PUBLIC, None
    scheme, _, key = header.partition(" ")
    name = registry.platform_key_name(get_db(), key.strip()) if scheme == "Bearer" else None
    if name is None:
        raise access_denied("the platform key is not valid (revoked, or never made)")
    return "platform", name


def platform_entities(
    db: Any, viewer: str, *, accessor: str | None = None, **board_options: Any
) -> list[dict[str, Any]]:
    """Every entity ``viewer`` may read now, normalized (``board_options`` go to
    :func:`dashboard.opinions.board`, e.g. ``draft`` or ``owners``)."""
    board = opinions.board(db, viewer, "export", accessor=accessor, **board_options)
    return board_entities(board, festivals.registration_dates(db))


def _context_url() -> str:
    return request.url_root.rstrip("/") + CONTEXT_PATH


def _wants_ld() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", LD_JSON])
    return best == LD_JSON


def _render(entity: dict[str, Any], query: Query, ld: bool) -> dict[str, Any]:
    shown = key_values(entity) if query.key_values else dict(entity)
    if ld:
        shown["@context"] = _context_url()
    return shown


def _respond(body: Any, ld: bool, count: int | None = None) -> Response:
    response = Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        mimetype=LD_JSON if ld else "application/json",
    )
    if not ld:
        response.headers["Link"] = f'<{_context_url()}>; rel="{CONTEXT_REL}"; type="{LD_JSON}"'
    if count is not None:
        response.headers["NGSILD-Results-Count"] = str(count)
    return response


def _read(ids: tuple[str, ...] | None) -> list[dict[str, Any]]:
    viewer, accessor = _viewer()
    owners = None
    if ids is not None:
        # Only the festivals the ids name are read (and logged as read).
        owners = {found for found in map(festival_of, ids) if found is not None}
        if not owners:
            return []
    return platform_entities(get_db(), viewer, accessor=accessor, owners=owners)


# The specification writes the collections with a trailing slash; clients use both. No
# slashes are merged: "/entities//" is an id of "/" (not found), not a redirect.
@blueprint.get("/ngsi-ld/v1/entities", merge_slashes=False)
@blueprint.get("/ngsi-ld/v1/entities/", merge_slashes=False)
def query_entities() -> Response:
    """Query entities: ``type``, ``id``, ``limit``, ``offset``, ``count``, ``options``."""
    query = entity_query(request.args)
    found = _read(query.ids)
    if query.types is not None:
        found = [entity for entity in found if entity["type"] in query.types]
    if query.ids is not None:
        wanted = set(query.ids)
        found = [entity for entity in found if entity["id"] in wanted]
    page = found[query.offset : query.offset + query.limit]
    ld = _wants_ld()
    return _respond(
        [_render(entity, query, ld) for entity in page],
        ld,
        len(found) if query.count else None,
    )


# An id is never a path: "//" in it is part of the id, not a slash to merge.
@blueprint.get("/ngsi-ld/v1/entities/<path:entity_id>", merge_slashes=False)
def retrieve_entity(entity_id: str) -> Response:
    """One entity by id (``type`` and ``options`` as for the query)."""
    check_entity_id(entity_id)
    query = one_entity_query(request.args)
    for entity in _read((entity_id,)):
        if entity["id"] == entity_id and (query.types is None or entity["type"] in query.types):
            ld = _wants_ld()
            return _respond(_render(entity, query, ld), ld)
    raise not_found(f"no entity {entity_id} for this viewer")


@blueprint.get("/ngsi-ld/v1/types")
@blueprint.get("/ngsi-ld/v1/types/")
def entity_types() -> Response:
    """The entity types this viewer can read (``details=true``: with their attributes)."""
    query = types_query(request.args)
    present = types_of(_read(None))
    ld = _wants_ld()
    body: Any
    if query.details:
        body = [
            {
                "id": TYPE_IRIS[name],
                "type": "EntityType",
                "typeName": name,
                "attributeNames": list(ATTRIBUTES[name]),
                **({"@context": _context_url()} if ld else {}),
            }
            for name in present
        ]
    else:
        body = {"id": "urn:ngsi-ld:EntityTypeList:tapshare", "type": "EntityTypeList"}
        body["typeList"] = present
        if ld:
            body["@context"] = _context_url()
    return _respond(body, ld)


@blueprint.get(CONTEXT_PATH)
def context() -> Response:
    """The JSON-LD context of tapshare's entities."""
    response = Response(json.dumps(context_document(), indent=2), mimetype=LD_JSON)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
