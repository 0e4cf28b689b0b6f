"""An NGSI-LD client that nobody here wrote reads the entities: FiLiP (the FIWARE Library
for Python) lists and fetches them from a real waitress server, as a platform would."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from filip.clients.ngsi_ld.cb import ContextBrokerLDClient
from filip.models.ngsi_ld.context import ContextLDEntity, ContextLDEntityKeyValues

from dashboard import create_app
from storage import connect
from tests.dashboard.live import LiveServer
from tests.dashboard.ngsi import add_platform_key, exporting_festivals

pytestmark = pytest.mark.e2e


@pytest.fixture
def live(dash_db):
    exporting_festivals(dash_db)
    platform = add_platform_key(dash_db)
    server = LiveServer(create_app(dash_db, start_streams=False), threads=4)
    yield server, platform
    server.close()


def _client(url: str, key: str | None) -> tuple[ContextBrokerLDClient, requests.Session]:
    session = requests.Session()
    if key is not None:
        session.headers["Authorization"] = f"Bearer {key}"
    return ContextBrokerLDClient(url=url, session=session), session


def test_filip_lists_and_fetches_what_the_platform_may_read(live):
    server, platform = live
    client, session = _client(server.url, platform.key)
    try:
        # The client pages by itself (count=true, then offset) two entities at a time.
        client.pagination_limit = 2
        listed = client.get_entity_list(id_pattern=None)
        assert all(isinstance(entity, ContextLDEntity) for entity in listed)
        assert [entity.id for entity in listed] == [
            "urn:ngsi-ld:Event:tapshare:ddw",
            "urn:ngsi-ld:OpinionSummary:tapshare:ddw:chair",
            "urn:ngsi-ld:Event:tapshare:strp",
            "urn:ngsi-ld:OpinionSummary:tapshare:strp:aw-1",
        ]
        # Its default query (every id) works too, and so does a type filter.
        assert len(client.get_entity_list()) == 4
        summaries = client.get_entity_list(entity_type="OpinionSummary", options="keyValues")
        assert all(isinstance(entity, ContextLDEntityKeyValues) for entity in summaries)
        chair = next(e for e in summaries if e.id.endswith(":chair"))
        assert chair.model_dump()["counts"] == {"yes": 1, "no": 1}
        fetched = client.get_entity("urn:ngsi-ld:OpinionSummary:tapshare:strp:aw-1")
        assert fetched.model_dump()["visitors"]["value"] == 3
        with pytest.raises(requests.HTTPError) as refused:
            client.get_entity("urn:ngsi-ld:OpinionSummary:tapshare:strp:aw-2")  # withheld
        assert refused.value.response.status_code == 404
    finally:
        session.close()


def test_filip_without_a_key_reads_as_the_public_and_a_wrong_key_is_refused(live):
    server, _ = live
    client, session = _client(server.url, None)
    try:
        assert [e.type for e in client.get_entity_list(id_pattern=None)] == [
            "Event",
            "OpinionSummary",
            "KeyPerformanceIndicator",
        ]
    finally:
        session.close()
    client, session = _client(server.url, "wrong-key")
    try:
        with pytest.raises(requests.HTTPError) as refused:
            client.get_entity_list(id_pattern=None)
        assert refused.value.response.status_code == 401
    finally:
        session.close()


def test_many_platform_reads_at_once_each_get_their_answer_and_log_entries(live, dash_db):
    server, platform = live

    def read(_: int) -> int:
        response = requests.get(
            f"{server.url}/ngsi-ld/v1/entities", headers=platform.headers, timeout=30
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(read, range(24)))
    assert statuses == [200] * 24
    db = connect(dash_db)
    try:
        rows = db.execute(
            "select festival, count(*) from consent_access_log where viewer = 'platform' "
            "group by festival order by festival"
        ).fetchall()
    finally:
        db.close()
    assert [tuple(row) for row in rows] == [("ddw", 24), ("strp", 24)]
