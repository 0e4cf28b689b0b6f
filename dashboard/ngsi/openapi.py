"""The NGSI-LD operations in the OpenAPI document (see :mod:`dashboard.openapi`).

``GET /ngsi-ld/v1/entities/{id}`` is left out: NGSI-LD answers an id that is not a URI
with 400, which an OpenAPI path parameter cannot describe exactly (docs/api.md has it).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from dashboard.ngsi.entities import TYPES
from dashboard.ngsi.query import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET

PROBLEM_REF = "#/components/schemas/ProblemDetails"


class ProblemDetails(BaseModel):
    """An NGSI-LD error (IETF RFC 7807)."""

    type: str = Field(description="e.g. https://uri.etsi.org/ngsi-ld/errors/BadRequestData")
    title: str
    status: int
    detail: str


_ENTITY = {
    "type": "object",
    "required": ["id", "type"],
    "properties": {"id": {"type": "string"}, "type": {"type": "string", "enum": list(TYPES)}},
}
_JSON_TYPES = ("application/json", "application/ld+json")
# What the server accepts, as patterns (see dashboard.ngsi.query).
_ID = r"[A-Za-z][A-Za-z0-9+.-]*:[!-+.0-~-]{1,200}"
_TYPE = r"[A-Za-z0-9_][A-Za-z0-9_:/.#~-]{0,100}"


def _answer(description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {kind: {"schema": schema} for kind in _JSON_TYPES},
        **extra,
    }


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": PROBLEM_REF}}},
    }


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_COMMON = {
    "400": _problem("A query parameter that is not understood: BadRequestData."),
    "401": _problem("The platform key is not valid."),
}
_VIEWERS = "Read as the viewer `platform` with a platform key, as `public` without."
_SECURITY: list[dict[str, list[str]]] = [{}, {"platformKey": []}]
_OPTIONS = _query(
    "options",
    "`keyValues` (or `simplified`) for the simplified form; `normalized` (default).",
    {"type": "string", "enum": ["keyValues", "simplified", "normalized"]},
)
_TYPES = _query(
    "type",
    "Comma-separated entity types (short names or full IRIs).",
    {"type": "string", "pattern": f"^{_TYPE}(,{_TYPE}){{0,10}}$"},
)


def paths() -> dict[str, Any]:
    """The NGSI-LD paths of the document."""
    return {
        "/ngsi-ld/v1/entities": {
            "get": {
                "summary": "NGSI-LD entities: what each festival exports to the viewer",
                "description": "One entity: `GET /ngsi-ld/v1/entities/{id}` (see docs/api.md). "
                + _VIEWERS,
                "operationId": "queryEntities",
                "security": _SECURITY,
                "parameters": [
                    _TYPES,
                    _query(
                        "id",
                        "Comma-separated entity ids (URIs), at most 100.",
                        {"type": "string", "pattern": f"^{_ID}(,{_ID}){{0,20}}$"},
                    ),
                    _query(
                        "limit",
                        f"Entities per page (default {DEFAULT_LIMIT}); 0 only with count=true.",
                        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                    ),
                    _query(
                        "offset",
                        "Entities to skip.",
                        {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
                    ),
                    _query(
                        "count", "`true`: the header NGSILD-Results-Count.", {"type": "boolean"}
                    ),
                    _OPTIONS,
                ],
                "responses": {
                    "200": _answer("The entities.", {"type": "array", "items": _ENTITY}),
                    **_COMMON,
                },
            }
        },
        "/ngsi-ld/v1/types": {
            "get": {
                "summary": "The entity types the viewer can read",
                "operationId": "entityTypes",
                "description": _VIEWERS,
                "security": _SECURITY,
                "parameters": [
                    _query("details", "`true`: EntityType objects.", {"type": "boolean"})
                ],
                "responses": {
                    "200": _answer(
                        "An EntityTypeList, or with details a list of EntityType.",
                        {"type": ["object", "array"]},
                    ),
                    **_COMMON,
                },
            }
        },
    }
