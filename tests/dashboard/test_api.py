"""The JSON API of docs/api.md, its errors and its OpenAPI document."""

from __future__ import annotations

from tests.dashboard.conftest import keyed
from tests.dashboard.opinions import add_opinions
from tests.dashboard.policies import permit, set_policy


def test_festivals_lists_every_festival_with_its_choices(client):
    body = client.get("/api/v1/festivals").get_json()
    assert body == {
        "festivals": [
            {"id": "ddw", "name": "Dutch Design Week", "choices": ["yes", "no"]},
            {"id": "glow", "name": "GLOW", "choices": ["love", "like", "meh", "dislike"]},
            {"id": "strp", "name": "STRP", "choices": ["love", "like", "meh", "dislike"]},
        ]
    }


def test_a_festivals_screen_board_shows_its_own_opinions(client, dash_db, screen_keys):
    add_opinions(dash_db, "strp", "aw-1", ["love", "love", "meh"])
    body = client.get(keyed("/api/v1/boards/strp", screen_keys)).get_json()
    assert body["viewer"] == "festival:strp"
    assert list(body) == ["viewer", "generated_at", "sections"]
    [section] = body["sections"]
    assert (section["festival"], section["rule"], section["level"]) == ("strp", "own", "artwork")
    [cell] = section["cells"]
    assert cell == {
        "artwork": "aw-1",
        "title": "Cloud",
        "visitors": 3,
        "counts": {"love": 2, "like": 0, "meh": 1, "dislike": 0},
    }


def test_the_public_board_shows_only_what_policies_share(client, dash_db):
    add_opinions(dash_db, "strp", "aw-1", ["love", "like"])
    add_opinions(dash_db, "ddw", "chair", ["yes"])
    assert client.get("/api/v1/boards/public").get_json()["sections"] == []
    set_policy(dash_db, "strp", [permit("public", level="artwork", min_visitors=2)])
    body = client.get("/api/v1/boards/public").get_json()
    assert body["viewer"] == "public"
    assert [s["festival"] for s in body["sections"]] == ["strp"]
    assert body["sections"][0]["rule"] == "public"
    assert body["sections"][0]["cells"][0]["visitors"] == 2


def test_withheld_cells_are_listed_never_counted(client, dash_db):
    add_opinions(dash_db, "strp", "aw-1", ["love", "like", "meh"])
    add_opinions(dash_db, "strp", "aw-2", ["love"], first_visitor=10)
    set_policy(dash_db, "strp", [permit("public", level="artwork", min_visitors=2)])
    [section] = client.get("/api/v1/boards/public").get_json()["sections"]
    assert [c["artwork"] for c in section["cells"]] == ["aw-1"]
    assert section["withheld"] == ["aw-2"]


def test_unknown_festivals_are_a_json_404(client):
    for path in ["/api/v1/boards/nope", "/api/v1/boards/nope/stream", "/api/v1/boards/NOPE!"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.get_json() == {
            "error": "not_found",
            "message": response.get_json()["message"],
            "status": 404,
        }
    assert "nope" in client.get("/api/v1/boards/nope").get_json()["message"]


def test_other_api_errors_are_json_without_a_stack_trace(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.is_json
    response = client.post("/api/v1/festivals")
    assert response.status_code == 405 and response.get_json()["error"] == "method_not_allowed"
    assert "Traceback" not in response.get_data(as_text=True)


def test_the_openapi_document_describes_the_models_the_handlers_return(
    client, dash_db, screen_keys
):
    add_opinions(dash_db, "strp", "aw-1", ["love"])
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {
        "/api/v1/festivals",
        "/api/v1/boards/{board_id}",
        "/api/v1/boards/{board_id}/stream",
    } <= set(doc["paths"])
    schemas = doc["components"]["schemas"]
    board = client.get(keyed("/api/v1/boards/strp", screen_keys)).get_json()
    assert set(board) == set(schemas["Board"]["properties"])
    section_schema = schemas[
        schemas["Board"]["properties"]["sections"]["items"]["$ref"].rsplit("/", 1)[1]
    ]
    assert set(board["sections"][0]) == set(section_schema["properties"])
    assert set(client.get("/api/v1/festivals").get_json()) == set(
        schemas["FestivalList"]["properties"]
    )
    # Every reference resolves.
    text = str(doc)
    for name in schemas:
        assert f"#/components/schemas/{name}" in text or name in (
            "Board",
            "FestivalList",
            "ErrorBody",
        )


def test_metrics_in_prometheus_text(client, screen_keys):
    client.get(keyed("/api/v1/boards/strp", screen_keys))
    client.get(keyed("/boards/strp", screen_keys))
    response = client.get("/metrics")
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert 'tapshare_dashboard_board_requests_total{kind="api"} 1' in text
    assert 'tapshare_dashboard_board_requests_total{kind="page"} 1' in text
    assert "# TYPE tapshare_dashboard_open_streams gauge" in text
    assert "tapshare_dashboard_open_streams 0" in text


def test_an_unexpected_failure_is_a_json_500_without_details(dash_db):
    from dashboard import create_app

    app = create_app(dash_db, start_streams=False)

    def boom():
        raise RuntimeError("secret internals")

    app.add_url_rule("/api/v1/boom", view_func=boom)
    app.add_url_rule("/boom", view_func=boom)
    client = app.test_client()
    response = client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.get_json()["error"] == "internal_server_error"
    assert "secret internals" not in response.get_data(as_text=True)
    page = client.get("/boom")
    assert page.status_code == 500 and "secret internals" not in page.get_data(as_text=True)
    assert "Traceback" not in page.get_data(as_text=True)
