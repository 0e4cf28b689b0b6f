"""Golden vectors written out by hand from docs/protocol.md, and what breaks a signature."""

import json

import pytest

from protocol import (
    EraseRequest,
    Opinion,
    canonical_bytes,
    parse_key,
    parse_opinion,
    sign,
    signed,
    verify,
    visitor_pseudonym,
)

STATION_SECRET = parse_key("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
VISITOR_KEY = parse_key("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf")
UID = bytes.fromhex("04a1b2c3d4e580")  # a 7-byte NTAG UID
VISITOR = "0833497b9213df3562809b4afa9000dce3bb6054b3d894f9d219662717760d8c"

OPINION = {
    "v": 1,
    "id": "3f1c2a4e-8b7d-4c21-9e5f-0a1b2c3d4e5f",
    "festival": "strp",
    "station": "st-01",
    "artwork": "aw-1",
    "visitor": VISITOR,
    "choice": "love",
    "tapped_at": "2026-05-01T20:00:00.250Z",
    "seq": 7,
}
# Keys sorted, separators "," and ":", no spaces: written out by hand.
CANONICAL = (
    '{"artwork":"aw-1","choice":"love","festival":"strp",'
    '"id":"3f1c2a4e-8b7d-4c21-9e5f-0a1b2c3d4e5f","seq":7,"station":"st-01",'
    '"tapped_at":"2026-05-01T20:00:00.250Z","v":1,'
    '"visitor":"0833497b9213df3562809b4afa9000dce3bb6054b3d894f9d219662717760d8c"}'
)
# HMAC-SHA256 of CANONICAL under STATION_SECRET, computed with openssl dgst -mac HMAC.
SIG = "3728b47544233ed4dfbf50f8aa3aa3cf22cd55b8b986901499cf53b3e6d63742"

ERASE = {
    "v": 1,
    "id": "0b7e4d1c-2a3f-4e5d-8c9b-1a2b3c4d5e6f",
    "festival": "strp",
    "station": "st-01",
    "visitor": VISITOR,
    "requested_at": "2026-05-01T21:30:00Z",
    "seq": 8,
}
ERASE_SIG = "34bac808c125e91b0b9b8cded30fd28fa8181a5548aee535f245e334df26c941"


def test_pseudonym_is_hmac_of_uid_bytes_under_visitor_key():
    assert visitor_pseudonym(UID, VISITOR_KEY) == VISITOR


def test_canonical_bytes_follow_the_recipe():
    assert canonical_bytes(OPINION) == CANONICAL.encode()
    assert canonical_bytes({**OPINION, "sig": "ignored"}) == CANONICAL.encode()


def test_golden_opinion_signature():
    assert sign(OPINION, STATION_SECRET) == SIG
    message = parse_opinion(json.dumps({**OPINION, "sig": SIG}).encode())
    assert verify(message, STATION_SECRET)
    assert verify({**OPINION, "sig": SIG}, STATION_SECRET)


def test_golden_erase_signature():
    assert sign(ERASE, STATION_SECRET) == ERASE_SIG
    assert verify(EraseRequest.model_validate({**ERASE, "sig": ERASE_SIG}), STATION_SECRET)


def test_signature_is_independent_of_key_order_and_spacing():
    shuffled = dict(reversed(list({**OPINION, "sig": SIG}.items())))
    payload = json.dumps(shuffled, indent=2).encode()
    assert verify(parse_opinion(payload), STATION_SECRET)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "3f1c2a4e-8b7d-4c21-9e5f-0a1b2c3d4e50"),
        ("festival", "strq"),
        ("station", "st-02"),
        ("artwork", "aw-2"),
        ("visitor", "1" + VISITOR[1:]),
        ("choice", "like"),
        ("tapped_at", "2026-05-01T20:00:00.251Z"),
        ("seq", 8),
    ],
)
def test_changing_any_field_breaks_the_signature(field, value):
    assert not verify({**OPINION, field: value, "sig": SIG}, STATION_SECRET)


def test_another_key_does_not_verify():
    other = parse_key("ff" * 32)
    assert not verify({**OPINION, "sig": SIG}, other)


def test_missing_or_non_string_signature_does_not_verify():
    assert not verify(OPINION, STATION_SECRET)
    assert not verify({**OPINION, "sig": 5}, STATION_SECRET)


def test_signed_adds_the_signature():
    assert signed(OPINION, STATION_SECRET)["sig"] == SIG


def test_build_signs_what_it_makes():
    from datetime import UTC, datetime

    built = Opinion.build(
        id=OPINION["id"],
        festival="strp",
        station="st-01",
        artwork="aw-1",
        visitor=VISITOR,
        choice="love",
        tapped_at=datetime(2026, 5, 1, 20, 0, 0, 250000, tzinfo=UTC),
        seq=7,
        station_secret=STATION_SECRET,
    )
    assert built.sig == SIG
    assert built.wire() == {**OPINION, "sig": SIG}


@pytest.mark.parametrize("text", ["", "00" * 31, "00" * 33, "AB" * 32, "zz" * 32, None])
def test_bad_keys_are_refused(text):
    with pytest.raises(ValueError, match="64 lowercase hex"):
        parse_key(text)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"seq": 0},
        {"seq": 2**63 - 1},
        {"tapped_at": "2026-05-01T20:00:00Z"},
        {"tapped_at": "2026-05-01T20:00:00.123456789Z"},
        # \d in the timestamp pattern also takes other scripts' digits: written unescaped.
        {"tapped_at": "\u0662026-05-01T20:00:00Z"},
        {"festival": "a", "station": "0-9", "artwork": "x" * 63, "choice": "z-"},
    ],
)
def test_an_opinions_own_canonical_bytes_are_the_general_ones(changes):
    opinion = Opinion.model_validate(signed({**OPINION, **changes}, STATION_SECRET))
    assert opinion.canonical() == canonical_bytes(opinion)
    assert verify(opinion, STATION_SECRET)


@pytest.mark.parametrize(
    "text",
    [
        '{"seq":7,"seq":8,REST}',  # a repeated key: the last one counts, as in json.loads
        '{"seq":8,"seq":7,REST}',
        '  {"seq":7,REST}\n',
    ],
)
def test_the_quick_parse_of_an_opinion_agrees_with_the_general_one(text):
    body = signed(OPINION, STATION_SECRET)
    rest = json.dumps({k: v for k, v in body.items() if k != "seq"})[1:-1]
    payload = text.replace("REST", rest).encode()
    assert parse_opinion(payload) == Opinion.model_validate(json.loads(payload))
