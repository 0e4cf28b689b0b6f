"""What a policy becomes outside the hub: ODRL, plain words, consent receipts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from consent.odrl import to_odrl
from consent.plain import explain
from consent.policy import EMPTY_POLICY, Policy
from consent.receipts import receipt, record_id
from consent.sources import FestivalInfo
from consent.store import PolicyVersion

KNOWN = {"strp", "dd"}
STRP = FestivalInfo("strp", "STRP", ("love", "like", "meh", "dislike"), 1)
WHEN = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
POLICY = Policy.checked(
    {
        "rules": [
            {"effect": "permit", "to": "public", "action": "display", "delay_minutes": 60},
            {
                "effect": "permit",
                "to": "network",
                "action": "display",
                "level": "artwork",
                "valid_from": "2026-05-01T18:00:00Z",
                "valid_until": "2026-05-04T00:00:00Z",
            },
            {"effect": "prohibit", "to": "festival:dd", "action": "export"},
            {
                "effect": "permit",
                "to": "platform",
                "action": "analyse",
                "level": "artwork",
                "min_visitors": 1,
            },
        ]
    },
    KNOWN,
)
VERSION = PolicyVersion("strp", 3, POLICY, "ann@strp.nl", "network weekend", WHEN)


def test_odrl_document() -> None:
    doc = to_odrl("strp", VERSION)
    assert doc["@context"] == "http://www.w3.org/ns/odrl.jsonld"
    assert doc["@type"] == "Set"
    assert doc["uid"] == "urn:tapshare:policy:strp:3"
    assert doc["assigner"] == "urn:tapshare:festival:strp"
    public, network, platform = doc["permission"]
    assert public["assignee"] == "urn:tapshare:public" and public["action"] == "display"
    assert public["constraint"] == [
        {"leftOperand": "urn:tapshare:level", "operator": "eq", "rightOperand": "festival"},
        {"leftOperand": "urn:tapshare:minVisitors", "operator": "gteq", "rightOperand": 5},
        {
            "leftOperand": "delayPeriod",
            "operator": "gteq",
            "rightOperand": {"@value": "PT60M", "@type": "xsd:duration"},
        },
    ]
    assert network["assignee"] == "urn:tapshare:network"
    assert network["constraint"][-2:] == [
        {
            "leftOperand": "dateTime",
            "operator": "gteq",
            "rightOperand": {"@value": "2026-05-01T18:00:00Z", "@type": "xsd:dateTime"},
        },
        {
            "leftOperand": "dateTime",
            "operator": "lt",
            "rightOperand": {"@value": "2026-05-04T00:00:00Z", "@type": "xsd:dateTime"},
        },
    ]
    assert platform["assignee"] == "urn:tapshare:platform" and platform["action"] == "read"
    assert doc["prohibition"] == [
        {
            "target": "urn:tapshare:opinions:strp",
            "assigner": "urn:tapshare:festival:strp",
            "assignee": "urn:tapshare:festival:dd",
            "action": "distribute",
        }
    ]
    json.dumps(doc)  # serialisable as it is


def test_odrl_of_the_empty_policy() -> None:
    doc = to_odrl("gl", PolicyVersion("gl", 0, EMPTY_POLICY, None, None, None))
    assert doc["uid"] == "urn:tapshare:policy:gl:0"
    assert (doc["permission"], doc["prohibition"]) == ([], [])


def test_plain_words() -> None:
    lines = explain(STRP, POLICY, {"dd": "Dutch Design Week"})
    assert lines[0] == (
        "Your opinion is counted on STRP's own screens once at least 1 visitor has given an "
        "opinion on an artwork."
    )
    assert (
        "Anyone can see STRP's total for the whole festival on the public web board once at "
        "least 5 visitors have given an opinion, 1 hour late." in lines
    )
    # Times in the festival's time zone (Europe/Amsterdam: summer time in May).
    assert (
        "Other festivals in this network see STRP's totals per artwork on their screens once at "
        "least 5 visitors have given an opinion on an artwork, from 1 May 2026 20:00 CEST until "
        "4 May 2026 02:00 CEST." in lines
    )
    assert "Dutch Design Week does not see STRP's opinions in datasets it downloads." in lines
    assert (
        "The operator of this platform sees STRP's totals per artwork in its reports once at "
        "least 1 visitor has given an opinion on an artwork." in lines
    )
    assert all(len(line) < 220 for line in lines)


def test_plain_words_for_a_festival_that_shares_nothing() -> None:
    festival = FestivalInfo("gl", "GLOW", ("yes", "no"), board_min_visitors=3)
    lines = explain(festival, EMPTY_POLICY)
    assert lines[0] == (
        "Your opinion is counted on GLOW's own screens once at least 3 visitors have given an "
        "opinion on an artwork."
    )
    assert "GLOW shares your opinions with no one else." in lines


def test_receipt_fields() -> None:
    record = receipt(STRP, VERSION, current=3)
    for field in (
        "schema_version",
        "record_id",
        "controller",
        "recipients",
        "purposes",
        "time",
        "state",
    ):
        assert field in record
    assert record["schema_version"] == "ISO/IEC TS 27560:2023"
    assert (
        record["record_id"]
        == record_id("strp", 3)
        == receipt(STRP, VERSION, current=4)["record_id"]
    )
    assert record["record_id"] != record_id("strp", 2)
    assert record["controller"] == {"id": "urn:tapshare:festival:strp", "name": "STRP"}
    assert record["recipients"] == [
        "urn:tapshare:network",
        "urn:tapshare:platform",
        "urn:tapshare:public",
    ]
    assert record["time"] == "2026-05-01T20:00:00Z" and record["state"] == "active"
    assert receipt(STRP, VERSION, current=4)["state"] == "superseded"
    export = next(p for p in record["purposes"] if p["action"] == "export")
    assert export["refused_to"] == ["urn:tapshare:festival:dd"]
    assert [g["recipient"] for g in export["granted_to"]] == ["urn:tapshare:festival:strp"]
    assert record["event"][0]["event_by"] == "ann@strp.nl"
    json.dumps(record)
