"""Properties of the NGSI-LD entities, with hypothesis.

1. For generated festivals, taps and export policies, the entities of the viewers
   ``public`` and ``platform`` carry exactly the cells of the export board the consent
   layer builds for that viewer: one Event per section, one OpinionSummary per shown cell
   with its figures, a KPI per shown festival cell, nothing of a withheld cell and nothing
   at all of a festival without a section.
2. Hostile input on every query parameter (and in the entity id) is a 400 with problem
   details, never a 500; nothing else changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from consent.boards import WITHHELD_FESTIVAL, build_board
from consent.sources import FestivalInfo
from consent.store import PolicyStore
from dashboard.ngsi.entities import (
    KPI,
    OPINION_SUMMARY,
    board_entities,
    event_id,
    festival_of,
    kpi_id,
    summary_id,
)
from storage import connect
from tapshare.database import migration_sets
from tests.consent.memory import MemorySource
from tests.dashboard.ngsi import ENTITIES, add_platform_key, exporting_festivals

NOW = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
FESTIVALS = ("alpha", "beta", "gamma")
CHOICES = ("love", "meh")


def _policy_db() -> Database:
    db = connect(":memory:")
    for migrations in migration_sets():
        migrations.apply(db)
    return db


@st.composite
def export_rule(draw: st.DrawFn, to: str) -> dict[str, Any]:
    if draw(st.integers(0, 4)) == 0:
        return {"effect": "prohibit", "to": to, "action": "export"}
    return {
        "effect": "permit",
        "to": to,
        "action": "export",
        "level": draw(st.sampled_from(["artwork", "festival"])),
        "min_visitors": draw(st.integers(1, 4)),
        "delay_minutes": draw(st.sampled_from([0, 0, 30])),
    }


@st.composite
def cases(draw: st.DrawFn) -> tuple[MemorySource, dict[str, list[dict[str, Any]]]]:
    source = MemorySource()
    policies = {}
    for festival in FESTIVALS:
        source.add_festival(FestivalInfo(festival, festival.upper(), CHOICES), {})
        rules = [draw(export_rule(to)) for to in ("public", "platform") if draw(st.booleans())]
        # One of the other actions too, which must change nothing here.
        if draw(st.booleans()):
            rules.append({"effect": "permit", "to": "public", "action": "display"})
        policies[festival] = rules
    for number in range(draw(st.integers(0, 30))):
        source.tap(
            draw(st.sampled_from(FESTIVALS)),
            draw(st.sampled_from(["aw-1", "aw-2", "aw-3"])),
            f"{draw(st.integers(1, 6)):064x}",
            draw(st.sampled_from(CHOICES)),
            NOW - timedelta(minutes=draw(st.sampled_from([1, 20, 45, 90]))),
            number,
        )
    return source, policies


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.sampled_from(["public", "platform"]))
def test_entities_carry_exactly_the_cells_of_the_export_board(case, viewer):
    source, policies = case
    policy_db = _policy_db()
    store = PolicyStore(policy_db, clock=lambda: NOW)
    for festival, rules in policies.items():
        store.set(festival, {"rules": rules}, "test", "generated", set(FESTIVALS))
    board = build_board(source, store, viewer, "export", NOW)
    found = board_entities(board, {})
    by_id = {entity["id"]: entity for entity in found}
    assert len(by_id) == len(found), "entity ids are unique"

    expected_ids = set()
    for section in board.sections:
        expected_ids.add(event_id(section.festival))
        for cell in section.cells:
            summary = by_id[summary_id(section.festival, cell.artwork)]
            assert summary["counts"]["value"] == cell.counts
            assert summary["visitors"]["value"] == cell.visitors
            assert summary["level"]["value"] == section.level
            assert summary["delayMinutes"]["value"] == section.delay_minutes
            assert summary["policyVersion"]["value"] == section.policy_version
            expected_ids.add(summary["id"])
            if cell.artwork is None:
                assert by_id[kpi_id(section.festival)]["kpiValue"]["value"] == cell.visitors
                expected_ids.add(kpi_id(section.festival))
        for artwork in section.withheld:
            withheld = None if artwork == WITHHELD_FESTIVAL else artwork
            assert summary_id(section.festival, withheld) not in by_id
            if withheld is None:
                assert kpi_id(section.festival) not in by_id
    assert set(by_id) == expected_ids
    counted = [e for e in found if e["type"] in (OPINION_SUMMARY, KPI)]
    assert len([e for e in counted if e["type"] == OPINION_SUMMARY]) == sum(
        len(section.cells) for section in board.sections
    )
    shown = {section.festival for section in board.sections}
    assert {festival_of(entity["id"]) for entity in found} == shown


# ---------------------------------------------------------------------------------------
# Hostile input.

PARAMETERS = [
    "type",
    "id",
    "idPattern",
    "limit",
    "offset",
    "count",
    "options",
    "format",
    "local",
    "details",
    "q",
    "attrs",
]
hostile_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet="0123456789-+.,:eE xX", max_size=30),
    st.sampled_from(["", ",", ",,", "true,true", "99999999999999999999", "-0", "1e3", " 1"]),
    st.binary(max_size=60).map(lambda raw: raw.decode("latin-1")),
)


@pytest.fixture
def hostile(client, dash_db):
    exporting_festivals(dash_db)
    return client, add_platform_key(dash_db)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(["/ngsi-ld/v1/entities", "/ngsi-ld/v1/types"]),
    st.dictionaries(st.sampled_from([*PARAMETERS, "x"]), hostile_text, min_size=1, max_size=3),
    st.booleans(),
)
def test_hostile_query_parameters_are_problems_never_errors(hostile, path, params, as_platform):
    client, platform = hostile
    response = client.get(
        path, query_string=params, headers=platform.headers if as_platform else {}
    )
    assert response.status_code in (200, 400), (params, response.get_data(as_text=True))
    if response.status_code == 400:
        body = response.get_json()
        assert body["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"
        assert body["status"] == 400 and body["detail"]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(min_size=1, max_size=300), hostile_text)
@example(entity_id="/", option="")  # "/entities//": a route, never a redirect
@example(entity_id="//x", option="")
def test_hostile_entity_ids_are_problems_never_errors(hostile, entity_id, option):
    client, _ = hostile
    response = client.get(
        f"{ENTITIES}/{quote(entity_id, safe='')}",
        query_string={"options": option} if option else {},
    )
    assert response.status_code in (200, 400, 404), response.get_data(as_text=True)
    body = response.get_json()
    if response.status_code != 200:
        assert body["type"].startswith("https://uri.etsi.org/ngsi-ld/errors/")


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=200))
def test_hostile_authorization_headers_are_refused_with_401(hostile, header):
    client, platform = hostile
    if header.strip() == f"Bearer {platform.key}":
        return
    try:
        response = client.get(ENTITIES, headers={"Authorization": header})
    except ValueError:
        return  # not a header value at all (a newline in it): nothing reaches the server
    assert response.status_code == 401
    assert response.get_json()["status"] == 401
