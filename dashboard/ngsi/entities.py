"""Boards as NGSI-LD entities (ETSI GS CIM 009; docs/api.md, "NGSI-LD").

Pure functions: an export board in, entities out. Every figure comes from the board's
cells, so what the consent layer withholds or delays is withheld or delayed here too, and a
festival without a section has no entity at all.

- ``Event`` per section: ``urn:ngsi-ld:Event:tapshare:FESTIVAL``, with ``name``.
- ``OpinionSummary`` per cell: ``urn:ngsi-ld:OpinionSummary:tapshare:FESTIVAL:ARTWORK``
  (at festival level without ``:ARTWORK``).
- ``KeyPerformanceIndicator`` (Smart Data Models) per festival-level cell:
  ``urn:ngsi-ld:KeyPerformanceIndicator:tapshare:FESTIVAL:visitors``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from consent.boards import Board, BoardCell, Section

CORE_CONTEXT: Final = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CONTEXT_PATH: Final = "/ngsi-ld/context.jsonld"

EVENT: Final = "Event"
OPINION_SUMMARY: Final = "OpinionSummary"
KPI: Final = "KeyPerformanceIndicator"
TYPES: Final = (EVENT, OPINION_SUMMARY, KPI)

_TERMS: Final = "urn:tapshare:ngsi-ld:"
_SDM: Final = "https://smartdatamodels.org/"
_KPI_MODEL: Final = _SDM + "dataModel.KeyPerformanceIndicator/"

#: Full IRIs of the entity types, as the context expands their short names.
TYPE_IRIS: Final = {
    EVENT: "https://schema.org/Event",
    OPINION_SUMMARY: _TERMS + OPINION_SUMMARY,
    KPI: _KPI_MODEL + KPI,
}

#: Attributes of each type, in the order entities carry them.
ATTRIBUTES: Final = {
    EVENT: ("name",),
    OPINION_SUMMARY: ("counts", "visitors", "level", "delayMinutes", "policyVersion", "refEvent"),
    KPI: (
        "kpiValue",
        "category",
        "organization",
        "process",
        "calculationMethod",
        "calculationFrequency",
        "calculationPeriod",
    ),
}

#: The Smart Data Models' KPI has no value for "at every read"; the most frequent it offers.
KPI_FREQUENCY: Final = "hourly"
KPI_PROCESS: Final = "visitors sharing an opinion by tapping at the festival's artworks"


def context_document() -> dict[str, Any]:
    """The JSON-LD context served at :data:`CONTEXT_PATH`: the NGSI-LD core context, then
    tapshare's terms (Smart Data Models' IRIs for the KPI's attributes)."""
    tapshare = {
        "@version": 1.1,
        EVENT: TYPE_IRIS[EVENT],
        OPINION_SUMMARY: TYPE_IRIS[OPINION_SUMMARY],
        KPI: TYPE_IRIS[KPI],
        "name": _SDM + "name",
        # The keys of `counts` are the festival's choices: each becomes a term of its own.
        "counts": {"@id": _TERMS + "counts", "@context": {"@vocab": "urn:tapshare:choice:"}},
        "visitors": _TERMS + "visitors",
        "level": _TERMS + "level",
        "delayMinutes": _TERMS + "delayMinutes",
        "policyVersion": _TERMS + "policyVersion",
        "refEvent": {"@id": _TERMS + "refEvent", "@type": "@id"},
        **{name: _KPI_MODEL + name for name in ATTRIBUTES[KPI]},
        "from": _KPI_MODEL + "from",
        "to": _KPI_MODEL + "to",
    }
    return {"@context": [CORE_CONTEXT, tapshare]}


def event_id(festival: str) -> str:
    """The id of a festival's Event."""
    return f"urn:ngsi-ld:{EVENT}:tapshare:{festival}"


def summary_id(festival: str, artwork: str | None) -> str:
    """The id of a cell's OpinionSummary (``artwork`` None: the festival-level cell)."""
    base = f"urn:ngsi-ld:{OPINION_SUMMARY}:tapshare:{festival}"
    return base if artwork is None else f"{base}:{artwork}"


def kpi_id(festival: str) -> str:
    """The id of a festival's visitors KPI."""
    return f"urn:ngsi-ld:{KPI}:tapshare:{festival}:visitors"


def festival_of(entity_id: str) -> str | None:
    """The festival an entity id of ours names, or None for any other id."""
    parts = entity_id.split(":")
    if len(parts) < 5 or parts[:2] != ["urn", "ngsi-ld"] or parts[3] != "tapshare":
        return None
    return parts[4] if parts[2] in TYPES and parts[4] else None


def _property(value: Any, observed_at: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"type": "Property", "value": value}
    if observed_at is not None:
        found["observedAt"] = observed_at
    return found


def _relationship(target: str) -> dict[str, Any]:
    return {"type": "Relationship", "object": target}


def _summary(section: Section, cell: BoardCell, at: str) -> dict[str, Any]:
    return {
        "id": summary_id(section.festival, cell.artwork),
        "type": OPINION_SUMMARY,
        "counts": _property(dict(cell.counts), at),
        "visitors": _property(cell.visitors, at),
        "level": _property(section.level),
        "delayMinutes": _property(section.delay_minutes),
        "policyVersion": _property(section.policy_version),
        "refEvent": _relationship(event_id(section.festival)),
    }


def _kpi(section: Section, cell: BoardCell, at: str, since: str) -> dict[str, Any]:
    return {
        "id": kpi_id(section.festival),
        "type": KPI,
        "kpiValue": _property(cell.visitors, at),
        "category": _property(["quantitative"]),
        "organization": _property(section.name),
        "process": _property(KPI_PROCESS),
        "calculationMethod": _property("automatic"),
        "calculationFrequency": _property(KPI_FREQUENCY),
        "calculationPeriod": _property({"from": since, "to": at[:10]}),
    }


def board_entities(board: Board, registered: Mapping[str, str]) -> list[dict[str, Any]]:
    """The board's sections as normalized NGSI-LD entities, festival by festival: the
    Event, an OpinionSummary per shown cell, and the KPI where the festival cell is shown.

    ``registered`` maps festival ids to the date (``YYYY-MM-DD``) each was registered,
    where a KPI's calculation period starts.
    """
    at = board.generated_at
    found: list[dict[str, Any]] = []
    for section in board.sections:
        found.append(
            {"id": event_id(section.festival), "type": EVENT, "name": _property(section.name)}
        )
        found += [_summary(section, cell, at) for cell in section.cells]
        found += [
            _kpi(section, cell, at, registered.get(section.festival, at[:10]))
            for cell in section.cells
            if cell.artwork is None
        ]
    return found


def key_values(entity: Mapping[str, Any]) -> dict[str, Any]:
    """The simplified (keyValues) form of a normalized entity."""
    simple: dict[str, Any] = {}
    for name, value in entity.items():
        if isinstance(value, dict) and value.get("type") == "Relationship":
            simple[name] = value["object"]
        elif isinstance(value, dict) and value.get("type") == "Property":
            simple[name] = value["value"]
        else:
            simple[name] = value
    return simple


def types_of(found: Iterable[Mapping[str, Any]]) -> list[str]:
    """The entity types among ``found``, in the order of :data:`TYPES`."""
    present = {entity["type"] for entity in found}
    return [name for name in TYPES if name in present]
