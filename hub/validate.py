"""Decide what becomes of one received message: store it, or reject it with a reason.

Every rule of the protocol (docs/protocol.md) is checked here, in an order that gives the
most telling reason: the QoS it came at first, then the topic, the payload's form (a
well-formed opinion is read the fast way, :mod:`hub.wire`), whether
topic and payload agree, the registry, the signature (nothing a station did not sign is
looked at further), the artwork and choice, and last the clock. Duplicates are found by
the store, which knows every accepted id.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import NamedTuple

from sqlite_utils import Database

import storage
from hub import registry_store, write_path
from hub.models import Festival
from hub.wire import WireOpinion, read_opinion
from protocol import (
    EraseRequest,
    Opinion,
    Rejected,
    canonical_bytes,
    canonical_opinion,
    check_clock,
    decode_object,
    parse_key,
    parse_opinion,
    parse_status,
    parse_timestamp,
    parse_topic,
)
from protocol.messages import MAX_CLOCK_AHEAD, validate
from protocol.topics import Topic, TopicKind


class Received(NamedTuple):
    """A message as it came from the broker."""

    topic: str
    payload: bytes
    received_at: datetime
    retained: bool = False
    #: The QoS it was delivered at: the hub subscribes at 1, so 0 means it was published at 0.
    qos: int = 1


class Verifier:
    """Checks signatures under one station secret: HMAC-SHA256 (RFC 2104) with the key's
    inner and outer hash states worked out once, so that each message costs two copies
    and two short hashes instead of setting up an HMAC."""

    _BLOCK = 64  # SHA-256's block size; a station secret (32 bytes) is shorter

    def __init__(self, key: bytes) -> None:
        padded = key.ljust(self._BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def verify(self, canonical: bytes, sig: str) -> bool:
        """Whether ``sig`` (64 lowercase hex, as validated) signs these canonical bytes,
        compared in constant time."""
        inner = self._inner.copy()
        inner.update(canonical)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return hmac.compare_digest(outer.hexdigest(), sig)


class _Sender(NamedTuple):
    festival: Festival
    verifier: Verifier


class RegistryView:
    """The registry as one batch sees it: each fact is read once per batch.

    A new view per batch means a station disabled a moment ago is refused from the next
    batch on.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._festivals: dict[str, Festival | None] = {}
        self._stations: dict[tuple[str, str], registry_store.StationKey | None] = {}
        self._artworks: dict[tuple[str, str], bool] = {}
        self._senders: dict[tuple[str, str], _Sender] = {}

    def festival(self, festival_id: str) -> Festival | None:
        if festival_id not in self._festivals:
            self._festivals[festival_id] = registry_store.get_festival(self.db, festival_id)
        return self._festivals[festival_id]

    def station(self, festival_id: str, station_id: str) -> registry_store.StationKey | None:
        key = (festival_id, station_id)
        if key not in self._stations:
            self._stations[key] = registry_store.station_key(self.db, festival_id, station_id)
        return self._stations[key]

    def sender(self, festival_id: str, station_id: str) -> _Sender:
        """The festival and signature check of a known, enabled station of the festival;
        raises Rejected otherwise."""
        sender = self._senders.get((festival_id, station_id))
        if sender is None:
            festival = _check_sender(self, festival_id, station_id)
            station = self.station(festival_id, station_id)
            assert station is not None  # checked by _check_sender
            sender = _Sender(festival, Verifier(parse_key(station.secret)))
            self._senders[festival_id, station_id] = sender
        return sender

    def artwork(self, festival_id: str, artwork_id: str) -> bool:
        key = (festival_id, artwork_id)
        known = self._artworks.get(key)
        if known is None:
            known = self._artworks[key] = registry_store.artwork_exists(
                self.db, festival_id, artwork_id
            )
        return known


def _check_sender(registry: RegistryView, festival_id: str, station_id: str) -> Festival:
    """The festival, once the station is known, of this festival, and enabled."""
    festival = registry.festival(festival_id)
    if festival is None:
        raise Rejected("unknown_festival", f"festival {festival_id!r} is not registered")
    station = registry.station(festival_id, station_id)
    if station is None:
        if registry_store.station_registered_elsewhere(registry.db, festival_id, station_id):
            raise Rejected(
                "foreign_station",
                f"station {station_id!r} is not a station of festival {festival_id!r}",
            )
        raise Rejected("unknown_station", f"station {station_id!r} is not registered")
    if not station.enabled:
        raise Rejected("station_disabled", f"station {festival_id}.{station_id} is disabled")
    return festival


def _check_route(topic: Topic, message: Opinion | WireOpinion | EraseRequest) -> None:
    if (message.festival, message.station) != (topic.festival, topic.station):
        raise Rejected(
            "topic_mismatch",
            f"payload is from {message.festival}.{message.station}, "
            f"topic from {topic.festival}.{topic.station}",
        )


def _signed(
    registry: RegistryView,
    topic: Topic,
    message: Opinion | WireOpinion | EraseRequest,
    canonical: bytes,
) -> Festival:
    _check_route(topic, message)
    festival, verifier = registry.sender(message.festival, message.station)
    if not verifier.verify(canonical, message.sig):
        raise Rejected("bad_signature", "sig does not verify under the station's secret")
    return festival


def _instant(text: str) -> datetime:
    """A validated time stamp as a datetime: what :func:`protocol.parse_timestamp` reads,
    without matching its pattern again."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return parse_timestamp(text)


def classify(registry: RegistryView, received: Received, now: datetime) -> write_path.StoreItem:
    """What to store for one message: an opinion, an erasure, a status or a dead letter."""
    try:
        if received.qos == 0:
            # Stations publish everything at QoS 1 (docs/protocol.md); QoS 0 has no delivery
            # guarantee, and no in-flight window limits it.
            raise Rejected("qos0", "published at QoS 0; stations publish at QoS 1")
        topic = parse_topic(received.topic)
        if topic.kind is TopicKind.OPINION:
            fast = read_opinion(received.payload)
            if fast is None:
                opinion: Opinion | WireOpinion = parse_opinion(received.payload)
                instant = None
            else:
                opinion, instant = fast
            festival = _signed(registry, topic, opinion, canonical_opinion(opinion))
            if not registry.artwork(opinion.festival, opinion.artwork):
                raise Rejected(
                    "unknown_artwork",
                    f"artwork {opinion.artwork!r} is not registered for {opinion.festival!r}",
                )
            if opinion.choice not in festival.choices:
                raise Rejected(
                    "unknown_choice",
                    f"choice {opinion.choice!r} is not one of {','.join(festival.choices)}",
                )
            if instant is None:
                instant = _instant(opinion.tapped_at)
            if instant - now > MAX_CLOCK_AHEAD:
                # Raises, with the reason and detail (from the reference reading: rare).
                check_clock(parse_opinion(received.payload), now)
            return write_path.StoreOpinion(opinion, received.received_at, storage.micros(instant))
        if topic.kind is TopicKind.ERASE:
            body = decode_object(received.payload)
            erase = validate(EraseRequest, body)
            # The validated model holds exactly the decoded object (strict, no extra
            # fields), so the object's canonical bytes are the model's.
            _signed(registry, topic, erase, canonical_bytes(body))
            check_clock(erase, now)
            return write_path.StoreErase(erase, received.received_at)
        status = parse_status(received.payload)
        if status.station != topic.station:
            raise Rejected(
                "topic_mismatch", f"status of {status.station!r} on {topic.station!r}'s topic"
            )
        _check_sender(registry, topic.festival, topic.station)
        return write_path.StoreStatus(
            topic.festival, status, received.received_at, received.retained
        )
    except Rejected as rejected:
        return write_path.StoreRejection(
            received.topic, rejected.reason, rejected.detail, received.payload, received.received_at
        )
