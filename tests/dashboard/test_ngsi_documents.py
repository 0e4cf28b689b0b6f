"""The entities as other software reads them: expanded by a JSON-LD processor (pyld)
against the context the dashboard serves, and the KPI checked against the Smart Data
Models' KeyPerformanceIndicator attributes with a JSON Schema validator. Offline: the
document loader serves the context from the app and a stand-in for the NGSI-LD core
context written here with the core terms the entities use (and no ``@vocab``, so that an
undefined term would be dropped rather than quietly mapped)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from pyld import jsonld

from dashboard.ngsi.entities import CORE_CONTEXT
from tests.dashboard.ngsi import ENTITIES, add_platform_key, exporting_festivals
from tests.dashboard.policies import permit, set_policy

CORE_STAND_IN = {
    "@context": {
        "@version": 1.1,
        "@protected": True,
        "ngsi-ld": "https://uri.etsi.org/ngsi-ld/",
        "id": "@id",
        "type": "@type",
        "value": "ngsi-ld:hasValue",
        "object": {"@id": "ngsi-ld:hasObject", "@type": "@id"},
        "Property": "ngsi-ld:Property",
        "Relationship": "ngsi-ld:Relationship",
        "DateTime": "ngsi-ld:DateTime",
        "observedAt": {"@id": "ngsi-ld:observedAt", "@type": "DateTime"},
        "EntityType": "ngsi-ld:EntityType",
        "EntityTypeList": "ngsi-ld:EntityTypeList",
        "typeList": {"@id": "ngsi-ld:typeList", "@type": "@vocab"},
        "typeName": {"@id": "ngsi-ld:typeName", "@type": "@vocab"},
        "attributeNames": {"@id": "ngsi-ld:attributeNames", "@type": "@vocab"},
    }
}
ABSOLUTE = re.compile(r"[a-z][a-z0-9+.-]*:\S+")


@pytest.fixture
def loader(client):
    served = {"http://localhost/ngsi-ld/context.jsonld", CORE_CONTEXT}

    def load(url: str, options: Any = None) -> dict[str, Any]:
        assert url in served, f"the processor asked for {url}"
        if url == CORE_CONTEXT:
            document = CORE_STAND_IN
        else:
            response = client.get("/ngsi-ld/context.jsonld")
            assert response.status_code == 200
            document = response.get_json()
        return {"contextUrl": None, "documentUrl": url, "document": document}

    return load


def _compact_leaves(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_compact_leaves(v) for k, v in value.items() if k != "@context")
    if isinstance(value, list):
        return sum(_compact_leaves(v) for v in value)
    return 1


def _expanded_leaves(value: Any) -> int:
    """Scalars of an expanded document, each checked to be under an absolute IRI."""
    if isinstance(value, list):
        return sum(_expanded_leaves(v) for v in value)
    assert isinstance(value, dict)
    if "@value" in value:
        assert "@type" not in value or ABSOLUTE.fullmatch(value["@type"]), value
        return 1
    count = 0
    if "@id" in value:
        assert ABSOLUTE.fullmatch(value["@id"]), value
        count += 1
    for kind in value.get("@type", []):
        assert ABSOLUTE.fullmatch(kind), f"type {kind!r} did not expand to an IRI"
        count += 1
    for key, inner in value.items():
        if key.startswith("@"):
            continue
        assert ABSOLUTE.fullmatch(key), f"term {key!r} did not expand to an IRI"
        count += _expanded_leaves(inner)
    return count


def _check_expands(document: Any, loader, context: str | None = None) -> None:
    options: dict[str, Any] = {"documentLoader": loader}
    if context is not None:
        options["expandContext"] = {"@context": context}
    expanded = jsonld.expand(document, options)
    # Nothing dropped: every scalar emitted is still there after expansion.
    assert _expanded_leaves(expanded) == _compact_leaves(document)


@pytest.fixture
def everything(dash_db):
    """Both levels shown to the platform: strp per artwork, ddw as a festival total."""
    exporting_festivals(dash_db)
    set_policy(dash_db, "ddw", [permit("platform", "export", level="festival", min_visitors=1)])
    return add_platform_key(dash_db)


@pytest.mark.parametrize("options", ["", "options=keyValues"])
def test_every_term_of_every_entity_expands_to_an_iri(client, everything, loader, options):
    ld = client.get(
        f"{ENTITIES}?{options}", headers={**everything.headers, "Accept": "application/ld+json"}
    ).get_json()
    assert {entity["type"] for entity in ld} == {
        "Event",
        "OpinionSummary",
        "KeyPerformanceIndicator",
    }
    for entity in ld:
        _check_expands(entity, loader)
    # As plain JSON, the context is the one the Link header names.
    plain = client.get(f"{ENTITIES}?{options}", headers=everything.headers)
    link = re.match(r"<([^>]+)>", plain.headers["Link"])
    assert link
    for entity in plain.get_json():
        _check_expands(entity, loader, link.group(1))


def test_the_check_notices_a_term_the_context_does_not_define(client, everything, loader):
    ld = client.get(ENTITIES, headers={**everything.headers, "Accept": "application/ld+json"})
    entity = ld.get_json()[1]
    with pytest.raises(AssertionError):
        _check_expands({**entity, "undefinedTerm": {"type": "Property", "value": 1}}, loader)
    counts = entity["counts"]
    with pytest.raises(AssertionError):
        _check_expands({**entity, "counts": {**counts, "value": {"@bad": 1}}}, loader)


def test_the_type_lists_expand_too(client, everything, loader):
    ld = {"Accept": "application/ld+json"}
    _check_expands(client.get("/ngsi-ld/v1/types", headers=ld).get_json(), loader)
    for entity_type in client.get("/ngsi-ld/v1/types?details=true", headers=ld).get_json():
        _check_expands(entity_type, loader)


# The Smart Data Models' KeyPerformanceIndicator (dataModel.KeyPerformanceIndicator,
# schema.json): the attributes tapshare fills, with their published types and enumerations.
KPI_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": [
        "id",
        "type",
        "kpiValue",
        "category",
        "organization",
        "process",
        "calculationMethod",
        "calculationFrequency",
        "calculationPeriod",
    ],
    "properties": {
        "id": {"type": "string", "pattern": "^urn:ngsi-ld:KeyPerformanceIndicator:"},
        "type": {"type": "string", "enum": ["KeyPerformanceIndicator"]},
        "category": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "string",
                "enum": [
                    "actionable",
                    "directional",
                    "financial",
                    "input",
                    "lagging",
                    "leading",
                    "output",
                    "practical",
                    "process",
                    "qualitative",
                    "quantitative",
                ],
            },
        },
        "organization": {"type": "string"},
        "process": {"type": "string"},
        "calculationFrequency": {
            "type": "string",
            "enum": [
                "hourly",
                "daily",
                "weekly",
                "monthly",
                "yearly",
                "quarterly",
                "bimonthly",
                "biweekly",
            ],
        },
        "calculationMethod": {"type": "string", "enum": ["manual", "automatic", "semiautomatic"]},
        "calculationPeriod": {
            "type": "object",
            "required": ["from", "to"],
            "properties": {
                "from": {"type": "string", "format": "date"},
                "to": {"type": "string", "format": "date"},
            },
        },
        "kpiValue": {
            "oneOf": [
                {"type": "string"},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "object"},
                {"type": "array"},
            ]
        },
    },
}


def test_the_kpi_in_key_values_is_a_smart_data_models_kpi(client, everything):
    validator = Draft202012Validator(KPI_SCHEMA, format_checker=FormatChecker())
    Draft202012Validator.check_schema(KPI_SCHEMA)
    found = client.get(
        f"{ENTITIES}?type=KeyPerformanceIndicator&options=keyValues", headers=everything.headers
    ).get_json()
    assert [kpi["organization"] for kpi in found] == ["Dutch Design Week"]
    for kpi in found:
        errors = [error.message for error in validator.iter_errors(kpi)]
        assert not errors, errors
        assert kpi["category"] == ["quantitative"] and kpi["calculationMethod"] == "automatic"
    # The validator does check dates: a period with a time in it is refused.
    wrong = dict(found[0], calculationPeriod={"from": "2026-05-01T10:00:00Z", "to": "x"})
    assert not validator.is_valid(wrong)
