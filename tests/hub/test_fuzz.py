"""Hostile input at the hub: arbitrary bytes and near-valid messages on every topic it
listens to (6,000 examples in all), through the hub's own validation and storage on a real
SQLite database. Nothing crashes; a refused message leaves every stored fact as it was and
becomes one dead letter with a reason code of the protocol; an accepted one is stored once.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

import storage
from hub import metrics, write_path
from hub.validate import Received, RegistryView, classify
from protocol import parse_key
from protocol.errors import REASONS
from protocol.signing import signed
from storage import connect
from tapshare.database import migrate
from tests.conftest import Registered

NOW = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
EXAMPLES = 2000  # per test; three tests: 6,000 messages
pytestmark = pytest.mark.slow

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Every stored fact except dead letters and counters.
_FACTS = (
    "SELECT (SELECT count(*) FROM taps), (SELECT count(*) FROM accepted_ids), "
    "(SELECT count(*) FROM current_opinions), (SELECT coalesce(sum(n), 0) FROM opinion_counts), "
    "(SELECT count(*) FROM erasures), (SELECT count(*) FROM station_status), "
    "(SELECT count(*) FROM festivals), (SELECT count(*) FROM stations), "
    "(SELECT count(*) FROM artworks)"
)


class Harness:
    """A migrated database with a registry, and the hub's handling of one message."""

    def __init__(self, path: Path) -> None:
        migrate(path)
        self.db: Database = connect(path)
        self.registered = Registered(self.db)
        self.secret = parse_key(self.registered.st1.station_secret)
        self.seen: set[str] = set()
        #: requested_at (microseconds) of the latest erasure of each pseudonym.
        self.erased: dict[str, int] = {}

    def facts(self) -> tuple[int, ...]:
        return tuple(self.db.conn.execute(_FACTS).fetchone())

    def dead_letters(self) -> int:
        return int(self.db.conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0])

    def handle(self, topic: str, payload: bytes) -> write_path.StoreItem:
        """What the hub's writer does with one message: classify, then write and count."""
        item = classify(RegistryView(self.db), Received(topic, payload, NOW), NOW)
        write_path.write_batch(self.db, [item], metrics.new_counters(), metrics.outcome)
        return item

    def carrying(self, visitor: str) -> int:
        """Dead letters whose payload carries the pseudonym (in strp: the only festival
        these messages name), in any letter case."""
        rows = self.db.conn.execute("SELECT payload FROM dead_letters")
        return sum(visitor.encode() in bytes(row[0]).lower() for row in rows)

    def check(self, topic: str, payload: bytes) -> write_path.StoreItem:
        facts, letters = self.facts(), self.dead_letters()
        item = self.handle(topic, payload)
        if isinstance(item, write_path.StoreRejection):
            assert item.reason in REASONS, item.reason
            assert self.facts() == facts, (item.reason, item.detail)
            assert self.dead_letters() == letters + 1
        elif isinstance(item, write_path.StoreErase):
            e = item.erase
            if e.id not in self.seen:
                # The erasure takes the dead letters carrying its pseudonym with it.
                assert self.carrying(e.visitor) == 0
            self.seen.add(e.id)
            self.erased[e.visitor] = max(self.erased.get(e.visitor, 0), storage.micros(e.instant))
        else:
            assert self.dead_letters() == letters
            if isinstance(item, write_path.StoreOpinion):
                grew = self.facts()[0] - facts[0]
                o = item.opinion
                covered = item.tapped_us <= self.erased.get(o.visitor, -1)
                assert grew == (0 if o.id in self.seen or covered else 1)
                self.seen.add(o.id)
        return item


def opinion_body(h: Harness, n: int) -> dict[str, Any]:
    return signed(
        {
            "v": 1,
            "id": str(uuid.UUID(int=n)),
            "festival": "strp",
            "station": "st-01",
            "artwork": "aw-1",
            "visitor": f"{n:064x}",
            "choice": "love",
            "tapped_at": "2026-05-01T19:59:00Z",
            "seq": n,
        },
        h.secret,
    )


def erase_body(h: Harness, n: int) -> dict[str, Any]:
    return signed(
        {
            "v": 1,
            "id": str(uuid.UUID(int=10**9 + n)),
            "festival": "strp",
            "station": "st-01",
            "visitor": f"{n:064x}",
            "requested_at": "2026-05-01T19:59:30.5Z",
            "seq": n,
        },
        h.secret,
    )


def status_body(n: int) -> dict[str, Any]:
    return {
        "v": 1,
        "station": "st-01",
        "state": "online",
        "at": (NOW - timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "outbox": n,
        "readers": [{"device": "sim:", "ok": True}],
        "version": "1.0",
    }


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = [
    "v",
    "id",
    "festival",
    "station",
    "artwork",
    "visitor",
    "choice",
    "tapped_at",
    "seq",
    "sig",
    "requested_at",
    "state",
    "at",
    "outbox",
    "readers",
    "version",
    "extra",
]
TOPICS = st.sampled_from(
    [
        "tapshare/v1/strp/st-01/opinion",
        "tapshare/v1/strp/st-01/erase",
        "tapshare/v1/strp/st-01/status",
        "tapshare/v1/strp/st-02/opinion",
        "tapshare/v1/dfest/st-01/opinion",
        "tapshare/v1/nope/st-01/opinion",
        "tapshare/v1/strp/st-99/status",
        "tapshare/v1/strp/st-01/other",
        "tapshare/v2/strp/st-01/opinion",
        "tapshare/v1/strp/st-01",
        "tapshare/v1/STRP/st-01/opinion",
        "tapshare/",
    ]
) | st.text(max_size=40).map(lambda t: f"tapshare/{t}")


@st.composite
def mutations(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    """A valid body with one to three fields removed, replaced or added."""
    body = dict(body)
    for _ in range(draw(st.integers(1, 3))):
        field = draw(st.sampled_from(FIELDS))
        action = draw(st.sampled_from(["drop", "set", "set"]))
        if action == "drop":
            body.pop(field, None)
        else:
            body[field] = draw(JSON)
    return body


def test_arbitrary_bytes_on_every_topic(tmp_path):
    h = Harness(tmp_path / "hub.db")

    @FUZZ
    @given(topic=TOPICS, payload=st.binary(max_size=3000))
    def run(topic: str, payload: bytes) -> None:
        item = h.check(topic, payload)
        assert isinstance(item, write_path.StoreRejection)

    run()


def test_near_valid_messages_signed_or_not(tmp_path):
    h = Harness(tmp_path / "hub.db")

    @FUZZ
    @given(
        data=st.data(),
        kind=st.sampled_from(["opinion", "erase", "status"]),
        n=st.integers(0, 50),
        resign=st.booleans(),
        topic_kind=st.sampled_from(["opinion", "erase", "status"]),
    )
    def run(data: st.DataObject, kind: str, n: int, resign: bool, topic_kind: str) -> None:
        valid = {"opinion": opinion_body, "erase": erase_body}.get(kind)
        body = valid(h, n) if valid else status_body(n)
        mutated = data.draw(mutations(body))
        if resign and kind != "status":
            # Signed by the station: only the deeper checks can refuse it.
            mutated = signed(mutated, h.secret)
        payload = json.dumps(mutated).encode()
        h.check(f"tapshare/v1/strp/st-01/{topic_kind}", payload)

    run()


def test_valid_messages_mixed_with_hostile_ones_are_each_stored_once(tmp_path):
    h = Harness(tmp_path / "hub.db")

    @FUZZ
    @given(
        n=st.integers(0, 300),
        noise=st.binary(max_size=64),
        wrapper=st.sampled_from(["plain", "padded", "truncated", "bom", "list", "nested"]),
    )
    def run(n: int, noise: bytes, wrapper: str) -> None:
        text = json.dumps(opinion_body(h, n))
        payload = {
            "plain": text.encode(),
            "padded": text.encode() + b" " * 2100,  # over 2048 bytes
            "truncated": text.encode()[: max(1, len(noise))],
            "bom": b"\xef\xbb\xbf" + text.encode(),
            "list": f"[{text}]".encode(),
            "nested": json.dumps({"opinion": json.loads(text)}).encode(),
        }[wrapper]
        item = h.check("tapshare/v1/strp/st-01/opinion", payload)
        assert isinstance(item, write_path.StoreOpinion) == (wrapper == "plain"), item

    run()
    (taps, ids) = h.db.conn.execute("SELECT count(*), count(DISTINCT id) FROM taps").fetchone()
    assert taps == ids == len(h.seen) > 0
