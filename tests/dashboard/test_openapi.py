"""The OpenAPI document is generated from the app's routes: every ``/api/v1`` route is in
it, including routes added after this module was written."""

from __future__ import annotations

import re

import schemathesis
from flask import Flask, jsonify

from dashboard import create_app
from dashboard.openapi import document

IMPLICIT = {"HEAD", "OPTIONS"}


def _api_operations(app: Flask) -> set[tuple[str, str]]:
    """(method, path) of every API route the app answers, ``<int:n>`` written ``{n}``."""
    return {
        (method, re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - IMPLICIT
    }


def _documented(doc: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item}


def test_every_api_route_is_in_the_document(client, app):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert _api_operations(app) <= _documented(doc)
    assert ("GET", "/api/v1/ping") in _documented(doc)
    assert ("GET", "/api/v1/openapi.json") in _documented(doc)
    ping = doc["paths"]["/api/v1/ping"]["get"]
    assert ping["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Ping"
    }
    assert client.get("/api/v1/ping").get_json() == {"ok": True}


def test_a_route_added_later_is_documented_from_its_rule_and_docstring(dash_db):
    app = create_app(dash_db, start_streams=False)

    def votes(festival_id: str, n: int):
        """A festival's votes of round n.

        More words that are not the summary.
        """
        return jsonify([])

    def vote(festival_id: str):
        """Cast a vote."""
        return jsonify({})

    def undocumented_page():
        return "a page"

    app.add_url_rule("/api/v1/festivals/<festival_id>/rounds/<int:n>", "api.votes", votes)
    app.add_url_rule("/api/v1/festivals/<festival_id>/votes", "api.vote", vote, methods=["POST"])
    app.add_url_rule("/api/v1/festivals/<festival_id>/rounds", "api.votes", votes)
    app.add_url_rule("/somewhere/<name>", "somewhere", undocumented_page)
    doc = document("http://127.0.0.1:8000", app)
    assert _api_operations(app) <= _documented(doc)
    added = doc["paths"]["/api/v1/festivals/{festival_id}/rounds/{n}"]["get"]
    assert added["summary"] == "A festival's votes of round n"
    assert added["operationId"] == "votes"
    assert [(p["name"], p["schema"]["type"]) for p in added["parameters"]] == [
        ("festival_id", "string"),
        ("n", "integer"),
    ]
    assert added["responses"]["default"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    posted = doc["paths"]["/api/v1/festivals/{festival_id}/votes"]
    assert list(posted) == ["post"] and posted["post"]["operationId"] == "postVote"
    # Pages outside the API are not in it, unless described (the organiser's exports).
    assert not any(
        path.startswith("/somewhere") or path.startswith("/boards") for path in doc["paths"]
    )
    assert "/organiser/{festival_id}/export.csv" in doc["paths"]
    # Ids are unique, and the document is one that an OpenAPI tool reads.
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    schema = schemathesis.openapi.from_dict(doc)
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert "POST /api/v1/festivals/{festival_id}/votes" in labels
    assert "GET /api/v1/ping" in labels
