"""The writer's fast path gives exactly what the plain definitions give: signatures,
time stamps and the text of ``received_at``."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hub import store
from hub.validate import Verifier, _instant
from protocol import Opinion, format_timestamp, parse_timestamp
from protocol.signing import verify_canonical
from tests.hub.messages import BASE

keys = st.binary(min_size=32, max_size=32)


@given(keys, st.binary(max_size=600))
def test_the_verifier_accepts_exactly_the_hmac(key, canonical):
    sig = hmac.digest(key, canonical, "sha256").hex()
    verifier = Verifier(key)
    assert verifier.verify(canonical, sig)
    assert verify_canonical(canonical, sig, key)
    wrong = ("0" if sig[0] != "0" else "1") + sig[1:]
    assert not verifier.verify(canonical, wrong)
    assert not verifier.verify(canonical + b" ", sig)


@given(keys, keys, st.binary(max_size=100))
def test_the_verifier_refuses_another_key(key, other, canonical):
    sig = hmac.digest(other, canonical, "sha256").hex()
    assert Verifier(key).verify(canonical, sig) == (key == other)


moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)
)


@given(moments, st.sampled_from(["", ".5", ".123", ".123456", ".123456789"]))
def test_instant_reads_what_parse_timestamp_reads(moment, fraction):
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"
    assert _instant(text) == parse_timestamp(text)


_OPINION = Opinion.build(
    id="0b2e4c1a-1f7e-4c8e-9d3b-5a6f7e8d9c0b", festival="strp", station="st-01",
    artwork="aw-1", visitor="ab" * 32, choice="love", tapped_at=BASE, seq=1,
    station_secret=bytes(32),
)  # fmt: skip


@given(st.lists(st.integers(min_value=0, max_value=5_000_000), min_size=1, max_size=50))
def test_received_texts_are_each_format_timestamp(offsets):
    items = [
        store.StoreOpinion(_OPINION, BASE + timedelta(microseconds=us), 0) for us in sorted(offsets)
    ]
    texts: dict[int, str] = {}
    assert [store._received_text(i.received_at, texts) for i in items] == [
        format_timestamp(i.received_at) for i in items
    ]
