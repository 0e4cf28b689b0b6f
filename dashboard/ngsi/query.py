"""The query parameters of the NGSI-LD subset, checked strictly: anything not understood is
a 400 BadRequestData naming the parameter, never ignored (a filter silently dropped would
return data the platform did not ask for) and never a 500."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from werkzeug.datastructures import MultiDict

from dashboard.ngsi.entities import TYPE_IRIS
from dashboard.ngsi.problems import bad_request

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 1000
MAX_OFFSET: Final = 1_000_000_000
MAX_IDS: Final = 100
MAX_ID_LENGTH: Final = 256
# NGSI-LD parameters this server does not implement: refused by name.
UNSUPPORTED: Final = frozenset(
    {
        "attrs",
        "pick",
        "omit",
        "q",
        "csf",
        "georel",
        "geometry",
        "coordinates",
        "geoproperty",
        "geometryProperty",
        "lang",
        "scopeQ",
        "datasetId",
        "join",
        "joinLevel",
        "containedBy",
        "entityMap",
        "orderBy",
        "collectValues",
    }
)
_URI: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[!-~]+")
_TYPE_NAME: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_:/.#~-]*")
_NUMBER: Final = re.compile(r"[0-9]{1,10}")
_REPRESENTATIONS: Final = {"keyValues": True, "simplified": True, "normalized": False}
_IRI_TYPES: Final = {iri: name for name, iri in TYPE_IRIS.items()}


@dataclass(frozen=True, slots=True)
class Query:
    """What a request asks for; ``types`` and ``ids`` None: no filter."""

    types: frozenset[str] | None = None
    ids: tuple[str, ...] | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    count: bool = False
    key_values: bool = False
    details: bool = False


def _one(args: MultiDict[str, str], name: str) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise bad_request(f"give {name} at most once")
    return values[0] if values else None


def _boolean(args: MultiDict[str, str], name: str) -> bool:
    value = _one(args, name)
    if value is None or value == "false":
        return False
    if value == "true":
        return True
    raise bad_request(f"{name} is true or false, not {value[:40]!r}")


def _number(args: MultiDict[str, str], name: str, default: int, largest: int) -> int:
    value = _one(args, name)
    if value is None:
        return default
    if not _NUMBER.fullmatch(value) or int(value) > largest:
        raise bad_request(f"{name} is a whole number from 0 to {largest}, not {value[:40]!r}")
    return int(value)


def _types(args: MultiDict[str, str]) -> frozenset[str] | None:
    value = _one(args, "type")
    if value is None:
        return None
    names = set()
    for name in value.split(","):
        if not _TYPE_NAME.fullmatch(name) or len(name) > MAX_ID_LENGTH:
            raise bad_request(f"type is a comma-separated list of type names, not {value[:80]!r}")
        # A full IRI of one of our types means that type; any other name matches nothing.
        names.add(_IRI_TYPES.get(name, name))
    return frozenset(names)


def _ids(args: MultiDict[str, str]) -> tuple[str, ...] | None:
    value = _one(args, "id")
    if value is None:
        return None
    ids = tuple(value.split(","))
    if len(ids) > MAX_IDS:
        raise bad_request(f"id lists at most {MAX_IDS} entity ids")
    for entity_id in ids:
        check_entity_id(entity_id)
    return ids


def check_entity_id(entity_id: str) -> str:
    """``entity_id`` when it is a URI (as every NGSI-LD entity id is); else 400."""
    if len(entity_id) > MAX_ID_LENGTH or not _URI.fullmatch(entity_id):
        raise bad_request(f"an entity id is a URI, not {entity_id[:80]!r}")
    return entity_id


def _key_values(args: MultiDict[str, str]) -> bool:
    chosen = []
    for name in ("options", "format"):
        value = _one(args, name)
        for option in [] if value is None else value.split(","):
            if option not in _REPRESENTATIONS:
                raise bad_request(
                    f"{name} takes keyValues, simplified or normalized, not {option[:40]!r}"
                )
            chosen.append(_REPRESENTATIONS[option])
    if len(set(chosen)) > 1:
        raise bad_request("ask for one representation: keyValues or normalized")
    return bool(chosen and chosen[0])


def _check_names(args: MultiDict[str, str], allowed: Collection[str]) -> None:
    for name in args:
        if name in UNSUPPORTED:
            raise bad_request(f"the query parameter {name} is not supported by this server")
        if name not in allowed:
            raise bad_request(f"unknown query parameter {name[:40]!r}")
    # NGSI-LD clients send idPattern=.* for "every id"; no other pattern is supported.
    pattern = _one(args, "idPattern")
    if pattern is not None and pattern != ".*":
        raise bad_request("idPattern is supported only as .* (every id); use id instead")


def entity_query(args: MultiDict[str, str]) -> Query:
    """The query of ``GET /ngsi-ld/v1/entities``."""
    _check_names(
        args,
        {"type", "id", "idPattern", "limit", "offset", "count", "options", "format", "local"},
    )
    _boolean(args, "local")
    count = _boolean(args, "count")
    limit = _number(args, "limit", DEFAULT_LIMIT, MAX_LIMIT)
    if limit == 0 and not count:
        raise bad_request("limit=0 is allowed only with count=true")
    return Query(
        types=_types(args),
        ids=_ids(args),
        limit=limit,
        offset=_number(args, "offset", 0, MAX_OFFSET),
        count=count,
        key_values=_key_values(args),
    )


def one_entity_query(args: MultiDict[str, str]) -> Query:
    """The query of ``GET /ngsi-ld/v1/entities/{id}``."""
    _check_names(args, {"type", "options", "format", "local"})
    _boolean(args, "local")
    return Query(types=_types(args), key_values=_key_values(args))


def types_query(args: MultiDict[str, str]) -> Query:
    """The query of ``GET /ngsi-ld/v1/types``."""
    _check_names(args, {"details", "local"})
    _boolean(args, "local")
    return Query(details=_boolean(args, "details"))
