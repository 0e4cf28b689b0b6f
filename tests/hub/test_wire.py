"""The fast reading of opinion payloads (hub.wire) against the reference (pydantic): what the
fast reading accepts, the reference accepts with the same fields, instant and signed bytes;
a well-formed opinion takes the fast way; and the hub decides every message the same with
the fast reading as without it, on random and malformed payloads."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub import validate, write_path
from hub.validate import Received, RegistryView, classify
from hub.wire import read_opinion
from protocol import Opinion, Rejected, canonical_bytes, canonical_opinion, parse_key, parse_opinion
from protocol.signing import signed
from storage import connect
from tapshare.database import migrate
from tests.conftest import Registered

NOW = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
PROPERTY = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FIELDS = ["v", "id", "festival", "station", "artwork", "visitor", "choice", "tapped_at", "seq"]

SLUGS = st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,62}\Z")
HEX64 = st.from_regex(r"\A[0-9a-f]{64}\Z")
STAMPS = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
STAMP_FORMS = STAMPS | st.sampled_from(
    ["2026-05-01T19:59:00Z", "2026-05-01T19:59:00.5Z", "2026-05-01T19:59:00.123456789Z"]
)


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A valid opinion body, signed under a random key."""
    body = {
        "v": 1,
        "id": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))),
        "festival": draw(SLUGS),
        "station": draw(SLUGS),
        "artwork": draw(SLUGS),
        "visitor": draw(HEX64),
        "choice": draw(SLUGS),
        "tapped_at": draw(STAMP_FORMS),
        "seq": draw(st.integers(0, 2**63 - 1)),
    }
    return signed(body, draw(st.binary(min_size=32, max_size=32)))


#: Near misses of each form: a character changed, added or dropped; other letter cases,
#: scripts and newlines; and any JSON value.
TRICKY = st.text(alphabet='0123456789abcdefABCDEF-zZT:. \n\t\u0663\xe9\x00"\\', max_size=70)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TRICKY,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(TRICKY, inner, max_size=2),
    max_leaves=4,
)


@st.composite
def near_miss(draw: st.DrawFn, value: Any) -> Any:
    if not isinstance(value, str) or draw(st.booleans()):
        return draw(JSON | st.integers(-2, 2**64))
    at = draw(st.integers(0, len(value)))
    change = draw(st.sampled_from(["insert", "replace", "drop", "upper", "newline"]))
    char = draw(st.sampled_from(list("0aAg-_. \n\u0663Z")))
    return {
        "insert": value[:at] + char + value[at:],
        "replace": value[:at] + char + value[at + 1 :],
        "drop": value[:at] + value[at + 1 :],
        "upper": value.upper(),
        "newline": value + "\n",
    }[change]


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    """A valid opinion payload, or one with fields changed, dropped, added or repeated, in
    any JSON spelling, sometimes wrapped in noise."""
    body = draw(bodies())
    for _ in range(draw(st.integers(0, 2))):
        field = draw(st.sampled_from([*FIELDS, "sig", "extra"]))
        if draw(st.integers(0, 3)) == 0:
            body.pop(field, None)
        else:
            body[field] = draw(near_miss(body.get(field)))
    text = json.dumps(
        body,
        ensure_ascii=draw(st.booleans()),
        separators=draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,\n", " :\t")])),
    )
    if draw(st.integers(0, 5)) == 0:  # a key again: the last one counts
        key = draw(st.sampled_from(FIELDS))
        text = text[:-1] + f',"{key}":{json.dumps(draw(near_miss(body.get(key))))}}}'
    data = text.encode()
    wrap = draw(st.sampled_from(["plain"] * 6 + ["bom", "trailing", "cut", "latin-1", "pad"]))
    return {
        "plain": data,
        "bom": b"\xef\xbb\xbf" + data,
        "trailing": data + b" x",
        "cut": data[: draw(st.integers(0, len(data)))],
        "latin-1": text.encode("latin-1", "replace"),
        "pad": data + b" " * 2048,
    }[wrap]


def reference(payload: bytes) -> Opinion | None:
    try:
        return parse_opinion(payload)
    except Rejected:
        return None


@PROPERTY
@given(body=bodies())
def test_a_well_formed_opinion_takes_the_fast_way(body: dict[str, Any]) -> None:
    payload = json.dumps(body, separators=(",", ":")).encode()
    fast = read_opinion(payload)
    assert fast is not None
    assert msgspec.structs.asdict(fast[0]) == body


@PROPERTY
@given(payload=payloads())
def test_what_the_fast_way_accepts_the_reference_accepts_the_same(payload: bytes) -> None:
    fast = read_opinion(payload)
    ref = reference(payload)
    if fast is None:
        return
    wire, instant = fast
    assert ref is not None, payload
    assert msgspec.structs.asdict(wire) == ref.model_dump()
    assert instant == ref.instant
    assert canonical_opinion(wire) == ref.canonical() == canonical_bytes(ref)


def test_malformed_forms_are_left_to_the_reference():
    body = {
        "v": 1, "id": str(uuid.UUID(int=7)), "festival": "strp", "station": "st-01",
        "artwork": "aw-1", "visitor": "a" * 64, "choice": "love",
        "tapped_at": "2026-05-01T19:59:00Z", "seq": 7, "sig": "b" * 64,
    }  # fmt: skip
    assert read_opinion(json.dumps(body).encode()) is not None
    misses: list[tuple[str, Any]] = [
        ("v", True), ("v", 1.0), ("v", 2), ("seq", -1), ("seq", 2**63), ("seq", "7"),
        ("id", str(uuid.UUID(int=2**128 - 1)).upper()), ("id", "0" * 36), ("visitor", "A" * 64),
        ("visitor", "a" * 63 + "\n"), ("sig", "a" * 65), ("festival", "-strp"),
        ("festival", "strp\n"), ("station", "x" * 64), ("artwork", ""), ("choice", "Love"),
        ("tapped_at", "2026-05-01T19:59:00+00:00"), ("tapped_at", "2026-05-01T19:59:\u0660\u0660Z"),
        ("tapped_at", "2026-13-01T19:59:00Z"), ("tapped_at", "2026-05-01T19:59:00Z\n"),
    ]  # fmt: skip
    for field, value in misses:
        assert read_opinion(json.dumps({**body, field: value}).encode()) is None, (field, value)
    assert read_opinion(json.dumps({**body, "extra": 1}).encode()) is None
    assert read_opinion(json.dumps({k: v for k, v in body.items() if k != "sig"}).encode()) is None


@pytest.fixture
def registered_db(tmp_path):
    migrate(tmp_path / "hub.db")
    db = connect(tmp_path / "hub.db")
    yield db, Registered(db)
    db.close()


def decided(item: write_path.StoreItem) -> tuple[Any, ...]:
    if isinstance(item, write_path.StoreOpinion):
        o = item.opinion
        fields = {name: getattr(o, name) for name in [*FIELDS, "sig"]}
        return ("opinion", fields, item.tapped_us, canonical_opinion(o))
    assert isinstance(item, write_path.StoreRejection)
    return ("rejected", item.reason, item.detail)


def test_the_hub_decides_the_same_with_or_without_the_fast_way(registered_db, monkeypatch):
    db, registered = registered_db
    secret = parse_key(registered.st1.station_secret)
    topic = "tapshare/v1/strp/st-01/opinion"

    @PROPERTY
    @given(payload=payloads(), body=bodies(), tamper=st.integers(0, 3), ahead=st.integers(0, 9))
    def run(payload: bytes, body: dict[str, Any], tamper: int, ahead: int) -> None:
        if tamper == 0:
            # Of this station, signed, tapped up to 9 minutes from now: the deeper checks
            # (registry, signature, artwork, choice, clock) decide.
            at = NOW + timedelta(minutes=ahead - 4, seconds=0.5)
            body = {k: v for k, v in body.items() if k != "sig"}
            body.update(festival="strp", station="st-01", artwork=f"aw-{ahead % 3}",
                        choice=("love", "like", "mehh")[ahead % 3],
                        tapped_at=at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))  # fmt: skip
            payload = json.dumps(signed(body, secret)).encode()
        message = Received(topic, payload, NOW)
        fast = decided(classify(RegistryView(db), message, NOW))
        with monkeypatch.context() as patch:
            patch.setattr(validate, "read_opinion", lambda payload: None)
            ref = decided(classify(RegistryView(db), message, NOW))
        assert fast == ref

    run()
