"""Every rejection reason of docs/protocol.md that a message alone can show has its own test."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import (
    SLUG_PATTERN,
    EraseRequest,
    Opinion,
    Rejected,
    StationStatus,
    check_clock,
    decode_object,
    parse_key,
    parse_opinion,
    parse_status,
    verify,
)
from protocol.errors import REASONS
from protocol.messages import validate
from tests.protocol.test_signing import ERASE, ERASE_SIG, OPINION, SIG, STATION_SECRET

VALID = {**OPINION, "sig": SIG}


def payload(obj) -> bytes:
    return json.dumps(obj).encode()


def parse_erase(data: bytes) -> EraseRequest:
    """An erase request read as the hub reads one (``hub.validate``)."""
    return validate(EraseRequest, decode_object(data))


def reason_of(data: bytes, parse=parse_opinion) -> str:
    with pytest.raises(Rejected) as caught:
        parse(data)
    assert caught.value.reason in REASONS
    return caught.value.reason


def test_valid_opinion_parses_to_the_same_object():
    message = parse_opinion(payload(VALID))
    assert message.wire() == VALID
    assert message.instant == datetime(2026, 5, 1, 20, 0, 0, 250000, tzinfo=UTC)


def test_models_are_frozen():
    message = parse_opinion(payload(VALID))
    with pytest.raises(ValueError):
        message.choice = "meh"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe{}", "not_utf8"),
        (b"{not json", "not_json"),
        (b'{"v": NaN}', "not_json"),
        (b"[1, 2]", "not_object"),
        (b'"text"', "not_object"),
        (b"", "not_json"),
    ],
)
def test_payloads_that_are_not_json_objects(data, reason):
    assert reason_of(data) == reason


@pytest.mark.parametrize(
    "payload", [b"[" * 1000 + b"]" * 1000, b'{"v":' + b"[" * 1000 + b"]" * 1000 + b"}"]
)
@pytest.mark.parametrize("parse", [parse_opinion, parse_status, parse_erase])
def test_deeply_nested_payloads_are_rejected_not_raised(payload, parse):
    # Within 2048 bytes, deep enough for Python's JSON decoder to give up by recursion.
    assert len(payload) <= 2048
    assert reason_of(payload, parse) == "not_json"


def test_oversize_is_refused_before_parsing():
    # Over 2048 bytes and not even JSON: the size decides first.
    assert reason_of(b"{" + b" " * 2048 + b"}") == "oversize"
    padded = json.dumps(VALID).encode()
    assert len(padded) <= 2048
    assert reason_of(padded + b" " * (2049 - len(padded))) == "oversize"
    parse_opinion(padded + b" " * (2048 - len(padded)))  # exactly 2048 is fine


@pytest.mark.parametrize("version", [2, 0, "1", 1.0, True, None])
def test_version_other_than_1(version):
    assert reason_of(payload({**VALID, "v": version})) == "bad_version"


def test_missing_field():
    body = dict(VALID)
    del body["choice"]
    assert reason_of(payload(body)) == "missing_field"


def test_missing_signature():
    body = dict(VALID)
    del body["sig"]
    assert reason_of(payload(body)) == "missing_signature"


def test_unknown_field():
    assert reason_of(payload({**VALID, "comment": "hi"})) == "unknown_field"


@pytest.mark.parametrize(
    ("field", "value"),
    [("seq", True), ("seq", "7"), ("seq", 7.0), ("choice", 3), ("artwork", None), ("id", 12)],
)
def test_wrong_types(field, value):
    assert reason_of(payload({**VALID, field: value})) == "bad_type"


@pytest.mark.parametrize("seq", [-1, 2**63])
def test_seq_out_of_range(seq):
    assert reason_of(payload({**VALID, "seq": seq})) == "bad_seq"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("id", "not-a-uuid", "bad_id"),
        ("id", "3F1C2A4E-8B7D-4C21-9E5F-0A1B2C3D4E5F", "bad_id"),
        ("festival", "STRP", "bad_slug"),
        ("station", "-st", "bad_slug"),
        ("artwork", "a" * 64, "bad_slug"),
        ("choice", "lo ve", "bad_slug"),
        ("visitor", "AB" * 32, "bad_visitor"),
        ("visitor", "ab" * 31, "bad_visitor"),
        ("sig", "xyz", "bad_signature"),
        ("tapped_at", "2026-05-01 20:00:00Z", "bad_timestamp"),
        ("tapped_at", "2026-05-01T20:00:00+02:00", "bad_timestamp"),
        ("tapped_at", "2026-02-30T20:00:00Z", "bad_timestamp"),
        ("tapped_at", "2026-05-01T20:00:00", "bad_timestamp"),
        # A final newline is not part of a slug, id, pseudonym or time.
        ("festival", "strp\n", "bad_slug"),
        ("station", "st-01\n", "bad_slug"),
        ("artwork", "aw-1\n", "bad_slug"),
        ("choice", "love\n", "bad_slug"),
        ("id", OPINION["id"] + "\n", "bad_id"),
        ("visitor", "ab" * 32 + "\n", "bad_visitor"),
        ("tapped_at", "2026-05-01T20:00:00Z\n", "bad_timestamp"),
    ],
)
def test_malformed_values(field, value, reason):
    assert reason_of(payload({**VALID, field: value})) == reason


def test_future_timestamp_beyond_five_minutes():
    message = parse_opinion(payload(VALID))
    check_clock(message, message.instant - timedelta(minutes=5))  # exactly 5: accepted
    with pytest.raises(Rejected) as caught:
        check_clock(message, message.instant - timedelta(minutes=5, seconds=1))
    assert caught.value.reason == "future_timestamp"
    check_clock(message, message.instant + timedelta(days=30))  # the past is fine


def test_forged_signature():
    message = parse_opinion(payload({**VALID, "sig": "0" * 64}))
    assert not verify(message, STATION_SECRET)
    assert verify(parse_opinion(payload(VALID)), STATION_SECRET)


def test_erase_request():
    message = parse_erase(payload({**ERASE, "sig": ERASE_SIG}))
    assert isinstance(message, EraseRequest)
    assert verify(message, STATION_SECRET)
    assert reason_of(payload({**ERASE, "sig": ERASE_SIG, "artwork": "aw-1"}), parse_erase) == (
        "unknown_field"
    )
    # An opinion is not an erase request and the other way round.
    assert reason_of(payload(VALID), parse_erase) == "unknown_field"
    assert reason_of(payload({**ERASE, "sig": ERASE_SIG})) == "unknown_field"


STATUS = {
    "v": 1,
    "station": "st-01",
    "state": "online",
    "at": "2026-05-01T20:00:00Z",
    "outbox": 3,
    "readers": [{"device": "tty:AMA0:pn532", "ok": True}],
    "version": "0.1.0",
}


def test_station_status():
    status = parse_status(payload(STATUS))
    assert isinstance(status, StationStatus)
    assert status.wire() == {**STATUS, "outbox_full": False}
    assert reason_of(payload({**STATUS, "state": "sleeping"}), parse_status) == "bad_value"
    assert reason_of(payload({**STATUS, "outbox": -1}), parse_status) == "bad_value"
    assert reason_of(payload({**STATUS, "readers": [{"ok": 1}]}), parse_status) == ("missing_field")


slugs = st.from_regex(rf"\A{SLUG_PATTERN}\Z")
hex64 = st.binary(min_size=32, max_size=32).map(bytes.hex)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(
    uuid=st.uuids(),
    festival=slugs,
    station=slugs,
    artwork=slugs,
    choice=slugs,
    visitor=hex64,
    key=st.binary(min_size=32, max_size=32),
    tapped_at=instants,
    seq=st.integers(min_value=0, max_value=2**63 - 1),
)
def test_opinion_round_trip(uuid, festival, station, artwork, choice, visitor, key, tapped_at, seq):
    built = Opinion.build(
        id=str(uuid),
        festival=festival,
        station=station,
        artwork=artwork,
        visitor=visitor,
        choice=choice,
        tapped_at=tapped_at,
        seq=seq,
        station_secret=key,
    )
    data = built.payload()
    assert len(data) <= 2048
    parsed = parse_opinion(data)
    assert parsed == built
    assert verify(parsed, key)
    assert abs(parsed.instant - tapped_at) < timedelta(milliseconds=1)


@given(uuid=st.uuids(), visitor=hex64, requested_at=instants, seq=st.integers(0, 10**12))
def test_erase_round_trip(uuid, visitor, requested_at, seq):
    key = parse_key("11" * 32)
    built = EraseRequest.build(
        id=str(uuid),
        festival="strp",
        station="st-01",
        visitor=visitor,
        requested_at=requested_at,
        seq=seq,
        station_secret=key,
    )
    parsed = parse_erase(built.payload())
    assert parsed == built
    assert verify(parsed, key)


@given(st.binary(max_size=3000))
def test_arbitrary_bytes_are_parsed_or_refused_with_a_reason(data):
    for parse in (parse_opinion, parse_erase, parse_status):
        try:
            parse(data)
        except Rejected as rejected:
            assert rejected.reason in REASONS


@pytest.mark.parametrize(
    "text",
    [
        "2026-05-01T20:00:00Z",
        "2026-05-01T20:00:00.1Z",
        "2026-05-01T20:00:00.123456Z",
        "2026-05-01T20:00:00.123456789Z",
        "\u0662026-05-01T20:00:00Z",
    ],
)
def test_timestamps_read_in_c_and_by_hand_agree(text):
    from protocol.timestamps import _TIMESTAMP, parse_timestamp

    fields = _TIMESTAMP.match(text).groups()  # type: ignore[union-attr]
    micro = int((fields[6] or "0")[:6].ljust(6, "0"))
    by_hand = datetime(*(int(f) for f in fields[:6]), micro, tzinfo=UTC)  # type: ignore[misc]
    assert parse_timestamp(text) == by_hand
    assert parse_timestamp(text).tzinfo is UTC
