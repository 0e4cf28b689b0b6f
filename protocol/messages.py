"""The three messages of the wire protocol, as frozen pydantic models (docs/protocol.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, Final, Literal, Protocol, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from protocol.errors import Rejected
from protocol.signing import signed
from protocol.slugs import Slug
from protocol.timestamps import format_timestamp, parse_timestamp

MAX_PAYLOAD_BYTES: Final = 2048
_MAX_SEQ: Final = 2**63 - 1


def _valid_timestamp(text: str) -> str:
    parse_timestamp(text)
    return text


Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
MessageId = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
]
Timestamp = Annotated[str, AfterValidator(_valid_timestamp)]
Seq = Annotated[int, Field(ge=0, le=_MAX_SEQ)]
# Strict: neither true nor 1.0 is version 1.
Version = Annotated[int, Field(ge=1, le=1)]


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    def wire(self) -> dict[str, Any]:
        """The message as the JSON object sent on the wire."""
        return self.model_dump(exclude_none=True)

    def payload(self) -> bytes:
        """The message as the UTF-8 JSON payload of an MQTT publish."""
        return json.dumps(self.wire(), separators=(",", ":"), ensure_ascii=False).encode()


class _Signed(_Message):
    v: Version
    id: MessageId
    festival: Slug
    station: Slug
    visitor: Hex64
    seq: Seq
    sig: Hex64


class OpinionFields(Protocol):
    """The fields of an opinion that its signed bytes are made of: an :class:`Opinion`, or
    another reading of a valid one."""

    @property
    def v(self) -> int: ...
    @property
    def id(self) -> str: ...
    @property
    def festival(self) -> str: ...
    @property
    def station(self) -> str: ...
    @property
    def artwork(self) -> str: ...
    @property
    def visitor(self) -> str: ...
    @property
    def choice(self) -> str: ...
    @property
    def tapped_at(self) -> str: ...
    @property
    def seq(self) -> int: ...


def canonical_opinion(o: OpinionFields) -> bytes:
    """A valid opinion's signed bytes, as :func:`protocol.canonical_bytes` makes them,
    written directly: every text field is held by its pattern to characters that JSON
    writes as they are (no quote, backslash or control character), so no escaping is
    needed."""
    return (
        f'{{"artwork":"{o.artwork}","choice":"{o.choice}","festival":"{o.festival}",'
        f'"id":"{o.id}","seq":{o.seq},"station":"{o.station}","tapped_at":"{o.tapped_at}",'
        f'"v":{o.v},"visitor":"{o.visitor}"}}'
    ).encode()


class Opinion(_Signed):
    """A visitor's tap at an artwork, signed by the station."""

    artwork: Slug
    choice: Slug
    tapped_at: Timestamp

    @property
    def instant(self) -> datetime:
        """When the tag was read, as an aware datetime."""
        return parse_timestamp(self.tapped_at)

    def canonical(self) -> bytes:
        """The signed bytes (see :func:`canonical_opinion`)."""
        return canonical_opinion(self)

    @classmethod
    def build(
        cls,
        *,
        id: str,
        festival: str,
        station: str,
        artwork: str,
        visitor: str,
        choice: str,
        tapped_at: datetime,
        seq: int,
        station_secret: bytes,
    ) -> Opinion:
        """Make and sign an opinion."""
        body = {
            "v": 1,
            "id": id,
            "festival": festival,
            "station": station,
            "artwork": artwork,
            "visitor": visitor,
            "choice": choice,
            "tapped_at": format_timestamp(tapped_at),
            "seq": seq,
        }
        return cls.model_validate(signed(body, station_secret))


class EraseRequest(_Signed):
    """A visitor's request to erase their opinions in one festival."""

    requested_at: Timestamp

    @property
    def instant(self) -> datetime:
        """When the erase tap was read, as an aware datetime."""
        return parse_timestamp(self.requested_at)

    @classmethod
    def build(
        cls,
        *,
        id: str,
        festival: str,
        station: str,
        visitor: str,
        requested_at: datetime,
        seq: int,
        station_secret: bytes,
    ) -> EraseRequest:
        """Make and sign an erase request."""
        body = {
            "v": 1,
            "id": id,
            "festival": festival,
            "station": station,
            "visitor": visitor,
            "requested_at": format_timestamp(requested_at),
            "seq": seq,
        }
        return cls.model_validate(signed(body, station_secret))


class ReaderState(_Message):
    """One NFC reader of a station, as its status reports it."""

    device: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    ok: bool
    error: Annotated[str, StringConstraints(max_length=300)] | None = None


class StationStatus(_Message):
    """A station's health, retained on its status topic; also its last will."""

    v: Version
    station: Slug
    state: Literal["online", "offline"]
    at: Timestamp
    outbox: Annotated[int, Field(ge=0, le=_MAX_SEQ)]
    readers: Annotated[list[ReaderState], Field(max_length=32)]
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    outbox_full: bool = False


def decode_object(payload: bytes) -> dict[str, Any]:
    """Check the size, then decode a payload as a UTF-8 JSON object."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Rejected("oversize", f"payload is {len(payload)} bytes, at most 2048")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected("not_utf8", f"payload is not UTF-8 ({exc.reason})") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise Rejected("not_json", f"payload is not JSON ({exc})") from None
    except RecursionError:  # 2048 bytes hold about 1,000 nested brackets
        raise Rejected("not_json", "payload is JSON nested too deeply") from None
    if not isinstance(value, dict):
        raise Rejected("not_object", f"payload is a JSON {type(value).__name__}, not an object")
    return value


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# The order in which reasons are reported when a message breaks several rules.
_PRIORITY: Final = (
    "bad_version",
    "unknown_field",
    "missing_field",
    "missing_signature",
    "bad_type",
    "bad_seq",
    "bad_id",
    "bad_slug",
    "bad_visitor",
    "bad_timestamp",
    "bad_signature",
    "bad_value",
)
_PATTERN_REASONS: Final = {
    "id": "bad_id",
    "visitor": "bad_visitor",
    "sig": "bad_signature",
    "festival": "bad_slug",
    "station": "bad_slug",
    "artwork": "bad_slug",
    "choice": "bad_slug",
}


def _reason_for(error: Mapping[str, Any]) -> str:
    loc = error.get("loc", ())
    field = str(loc[0]) if loc else ""
    kind = str(error.get("type", ""))
    if kind == "extra_forbidden":
        return "unknown_field"
    if field == "v":
        return "bad_version"
    if kind == "missing":
        return "missing_signature" if field == "sig" else "missing_field"
    if kind.endswith("_type") or kind in {"bool_parsing", "int_from_float"}:
        return "bad_type"
    if field == "seq":
        return "bad_seq"
    if field in {"tapped_at", "requested_at", "at"} and len(loc) == 1:
        return "bad_timestamp"
    if kind == "string_pattern_mismatch" and len(loc) == 1 and field in _PATTERN_REASONS:
        return _PATTERN_REASONS[field]
    return "bad_value"


_M = TypeVar("_M", bound=_Message)


def validate(model: type[_M], obj: dict[str, Any]) -> _M:
    """Validate a decoded object as ``model``; refuse with the most telling reason."""
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        errors = exc.errors()
        reasons = {_reason_for(error) for error in errors}
        reason = next(r for r in _PRIORITY if r in reasons)
        first = next(e for e in errors if _reason_for(e) == reason)
        where = ".".join(str(part) for part in first["loc"]) or "message"
        raise Rejected(reason, f"{where}: {first['msg']}") from None


def parse_opinion(payload: bytes) -> Opinion:
    """Decode and validate an opinion payload (signature not checked here)."""
    if len(payload) <= MAX_PAYLOAD_BYTES:
        # pydantic's own JSON parser takes a valid payload in one step; only a payload it
        # refuses goes the long way, which finds the reason to report.
        try:
            return Opinion.model_validate_json(payload)
        except ValidationError:
            pass
    return validate(Opinion, decode_object(payload))


def parse_status(payload: bytes) -> StationStatus:
    """Decode and validate a station status payload."""
    return validate(StationStatus, decode_object(payload))


MAX_CLOCK_AHEAD: Final = timedelta(minutes=5)


def check_clock(message: Opinion | EraseRequest, now: datetime) -> None:
    """Refuse a message stamped more than 5 minutes ahead of ``now`` (the hub's clock)."""
    if message.instant - now > MAX_CLOCK_AHEAD:
        raise Rejected(
            "future_timestamp",
            f"stamped {message.instant.isoformat()}, more than 5 minutes after {now.isoformat()}",
        )
