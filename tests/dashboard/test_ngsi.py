"""The NGSI-LD subset: viewers and keys, entities as the export board has them, paging,
representations, problem details, and the access log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub import registry
from storage import connect
from tests.dashboard.conftest import OWNER, login
from tests.dashboard.ngsi import ENTITIES, Platform, add_platform_key, exporting_festivals
from tests.dashboard.opinions import add_opinions
from tests.dashboard.policies import permit, set_policy

CONTEXT_LINK = (
    '<http://localhost/ngsi-ld/context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; '
    'type="application/ld+json"'
)
STRP = "urn:ngsi-ld:{}:tapshare:strp"


@pytest.fixture
def platform(dash_db: Path) -> Platform:
    exporting_festivals(dash_db)
    return add_platform_key(dash_db)


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [entity["id"] for entity in response.get_json()]


def _access_log(db_path: Path) -> list[tuple[str, str, str, str]]:
    db = connect(db_path)
    try:
        rows = db.execute("select festival, accessor, viewer, action from consent_access_log")
        return [tuple(row) for row in rows.fetchall()]
    finally:
        db.close()


def test_the_public_gets_only_what_is_exported_to_the_public(client, platform):
    assert _ids(client.get(ENTITIES)) == [
        "urn:ngsi-ld:Event:tapshare:strp",
        "urn:ngsi-ld:OpinionSummary:tapshare:strp",
        "urn:ngsi-ld:KeyPerformanceIndicator:tapshare:strp:visitors",
    ]
    summary, kpi = client.get(ENTITIES).get_json()[1:]
    assert summary["visitors"]["value"] == 4 and summary["level"]["value"] == "festival"
    assert summary["counts"]["value"] == {"love": 2, "like": 1, "meh": 1, "dislike": 0}
    assert kpi["kpiValue"]["value"] == 4 and kpi["organization"]["value"] == "STRP"


def test_the_platform_gets_its_own_rules_and_withheld_cells_never_appear(client, platform):
    ids = _ids(client.get(ENTITIES, headers=platform.headers))
    # platform is more specific than public for strp: artworks with at least 2 visitors.
    assert ids == [
        "urn:ngsi-ld:Event:tapshare:ddw",
        "urn:ngsi-ld:OpinionSummary:tapshare:ddw:chair",
        "urn:ngsi-ld:Event:tapshare:strp",
        "urn:ngsi-ld:OpinionSummary:tapshare:strp:aw-1",
    ]
    # aw-2 (1 visitor) is withheld: no entity, not even by id; glow exports nothing.
    for missing in (STRP.format("OpinionSummary") + ":aw-2", "urn:ngsi-ld:Event:tapshare:glow"):
        response = client.get(f"{ENTITIES}/{missing}", headers=platform.headers)
        assert response.status_code == 404
        assert response.get_json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"


def test_a_wrong_or_revoked_key_is_refused_with_401(client, platform, dash_db):
    for header in ("Bearer not-a-key", "Basic " + platform.key, "Bearer", platform.key, ""):
        response = client.get(ENTITIES, headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.get_json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/AccessDenied"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get(ENTITIES, headers=platform.headers).status_code == 200
    db = connect(dash_db)
    registry.revoke_platform_key(db, platform.name)
    db.close()
    assert client.get(ENTITIES, headers=platform.headers).status_code == 401
    # A key in the query string is no key: it is refused as an unknown parameter.
    assert client.get(f"{ENTITIES}?key={platform.key}").status_code == 400


def test_keys_are_stored_hashed_and_marked_when_used(client, platform, dash_db):
    client.get(ENTITIES, headers=platform.headers)
    db = connect(dash_db)
    try:
        dump = "\n".join(db.conn.iterdump())
        (key,) = registry.platform_keys(db)
        name, created, used = key.name, key.created_at, key.last_used_at
    finally:
        db.close()
    assert platform.key not in dump and registry.platform_key_hash(platform.key) in dump
    assert len(platform.key) >= 43 and name == "province" and used is not None and created


def test_delays_apply(client, dash_db):
    add_opinions(dash_db, "strp", "aw-1", ["love", "like"], minutes_ago=90)
    add_opinions(dash_db, "strp", "aw-1", ["meh", "meh", "meh"], 10, minutes_ago=1)
    set_policy(
        dash_db,
        "strp",
        [permit("public", "export", level="artwork", min_visitors=1, delay_minutes=30)],
    )
    (summary,) = client.get(f"{ENTITIES}?type=OpinionSummary").get_json()
    assert summary["visitors"]["value"] == 2 and summary["delayMinutes"]["value"] == 30
    assert summary["counts"]["value"] == {"love": 1, "like": 1, "meh": 0, "dislike": 0}


def test_paging_and_the_results_count(client, platform):
    everything = _ids(client.get(ENTITIES, headers=platform.headers))
    response = client.get(f"{ENTITIES}?limit=2&offset=1&count=true", headers=platform.headers)
    assert _ids(response) == everything[1:3]
    assert response.headers["NGSILD-Results-Count"] == "4"
    assert "NGSILD-Results-Count" not in client.get(ENTITIES).headers
    counted = client.get(f"{ENTITIES}?limit=0&count=true", headers=platform.headers)
    assert counted.get_json() == [] and counted.headers["NGSILD-Results-Count"] == "4"
    assert _ids(client.get(f"{ENTITIES}?offset=99", headers=platform.headers)) == []
    for bad in ("limit=0", "limit=1001", "limit=-1", "offset=x", "count=yes", "limit=1&limit=2"):
        response = client.get(f"{ENTITIES}?{bad}")
        assert response.status_code == 400, bad
        assert response.get_json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"


def test_type_and_id_filters(client, platform):
    summaries = client.get(f"{ENTITIES}?type=OpinionSummary,Event", headers=platform.headers)
    assert len(_ids(summaries)) == 4
    by_iri = client.get(
        f"{ENTITIES}?type=https://schema.org/Event", headers=platform.headers
    ).get_json()
    assert [e["type"] for e in by_iri] == ["Event", "Event"]
    assert _ids(client.get(f"{ENTITIES}?type=Vehicle")) == []
    wanted = f"{STRP.format('Event')},urn:ngsi-ld:OpinionSummary:tapshare:ddw:chair,urn:x:y"
    assert _ids(client.get(f"{ENTITIES}?id={wanted}", headers=platform.headers)) == [
        "urn:ngsi-ld:OpinionSummary:tapshare:ddw:chair",
        STRP.format("Event"),
    ]
    assert client.get(f"{ENTITIES}?id=not a uri").status_code == 400
    assert client.get(f"{ENTITIES}?idPattern=.*").status_code == 200
    assert client.get(f"{ENTITIES}?idPattern=urn.*").status_code == 400


def test_normalized_key_values_link_header_and_context(client, platform):
    response = client.get(f"{ENTITIES}/{STRP.format('OpinionSummary')}")
    assert response.mimetype == "application/json"
    assert response.headers["Link"] == CONTEXT_LINK
    normalized = response.get_json()
    assert normalized["refEvent"] == {"type": "Relationship", "object": STRP.format("Event")}
    generated = normalized["counts"]["observedAt"]
    assert normalized["visitors"] == {"type": "Property", "value": 4, "observedAt": generated}
    simple = client.get(
        f"{ENTITIES}/{STRP.format('OpinionSummary')}?options=keyValues",
        headers={"Accept": "application/ld+json"},
    )
    assert simple.mimetype == "application/ld+json" and "Link" not in simple.headers
    assert simple.get_json() == {
        "id": STRP.format("OpinionSummary"),
        "type": "OpinionSummary",
        "counts": {"love": 2, "like": 1, "meh": 1, "dislike": 0},
        "visitors": 4,
        "level": "festival",
        "delayMinutes": 0,
        "policyVersion": 1,
        "refEvent": STRP.format("Event"),
        "@context": "http://localhost/ngsi-ld/context.jsonld",
    }
    listed = client.get(ENTITIES, headers={"Accept": "application/ld+json"}).get_json()
    assert all(e["@context"] == "http://localhost/ngsi-ld/context.jsonld" for e in listed)
    context = client.get("/ngsi-ld/context.jsonld")
    assert context.mimetype == "application/ld+json"
    assert context.get_json()["@context"][0].startswith("https://uri.etsi.org/ngsi-ld/v1/")


def test_types_list_what_the_viewer_can_read(client, platform):
    public = client.get("/ngsi-ld/v1/types").get_json()
    assert public["type"] == "EntityTypeList"
    assert public["typeList"] == ["Event", "OpinionSummary", "KeyPerformanceIndicator"]
    detailed = client.get("/ngsi-ld/v1/types?details=true", headers=platform.headers).get_json()
    assert [t["typeName"] for t in detailed] == ["Event", "OpinionSummary"]
    assert detailed[1]["attributeNames"][0] == "counts"


def test_unsupported_and_unknown_parameters_and_methods_are_problems(client, platform):
    for query in ("q=visitors>1", "attrs=counts", "nonsense=1", "options=sysAttrs"):
        response = client.get(f"{ENTITIES}?{query}")
        assert response.status_code == 400, query
        assert response.mimetype == "application/json"
        body = response.get_json()
        assert set(body) == {"type", "title", "status", "detail"} and body["status"] == 400
    assert client.get("/ngsi-ld/v1/types?type=Event").status_code == 400
    assert client.post(ENTITIES, json={"id": "urn:x"}).status_code == 405
    missing = client.get("/ngsi-ld/v1/subscriptions")
    assert missing.status_code == 404 and missing.get_json()["status"] == 404


def test_platform_reads_are_in_each_festivals_access_log(client, platform, dash_db):
    client.get(ENTITIES, headers=platform.headers)
    client.get(f"{ENTITIES}/{STRP.format('Event')}", headers=platform.headers)
    platform_reads = [row for row in _access_log(dash_db) if row[2] == "platform"]
    # One entry per request and festival: the list reads ddw and strp, the id only strp.
    assert sorted(platform_reads) == sorted(
        [
            ("ddw", "province", "platform", "export"),
            ("strp", "province", "platform", "export"),
            ("strp", "province", "platform", "export"),
        ]
    )
    login(client)
    page = client.get("/organiser/strp/access-log").get_data(as_text=True)
    assert "province (platform)" in page and "export" in page


def test_the_policy_preview_shows_the_urban_data_platforms_entities(client, platform, dash_db):
    token = login(client, OWNER)
    draft = json.dumps({"rules": [permit("platform", "export", level="festival", min_visitors=1)]})
    before = _access_log(dash_db)
    response = client.post(
        "/organiser/strp/policy",
        data={"csrf_token": token, "policy": draft, "audience": "urban-platform", "do": "preview"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "The urban data platform" in html
    assert "urn:ngsi-ld:KeyPerformanceIndicator:tapshare:strp:visitors" in html
    assert "urn:ngsi-ld:OpinionSummary:tapshare:strp:aw-1" not in html  # the draft's level
    assert "tapshare:ddw" not in html  # only this festival's entities
    # A preview is no read: nothing was logged, nothing saved.
    assert _access_log(dash_db) == before
    assert _ids(client.get(ENTITIES, headers=platform.headers))[-1].endswith("strp:aw-1")


def test_a_festival_that_exports_nothing_has_no_entity(client, platform, dash_db):
    set_policy(dash_db, "strp", [])
    assert [i for i in _ids(client.get(ENTITIES, headers=platform.headers)) if "strp" in i] == []
    assert _ids(client.get(ENTITIES)) == []


def test_an_organisers_login_is_no_platform_key(client, platform):
    login(client, "organiser@ddw.example")
    # The session cookie reads as the public: ddw's artworks go to the platform only.
    assert _ids(client.get(ENTITIES)) == _ids(client.application.test_client().get(ENTITIES))
    assert not [i for i in _ids(client.get(ENTITIES)) if "ddw" in i]
