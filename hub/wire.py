"""A fast first reading of opinion payloads, for the writer's hot path.

Nearly every opinion the hub receives is well formed. :func:`read_opinion` takes such a
payload with msgspec (types, field names and JSON checked in one C call) and checks each
field's form with string operations instead of regular expressions; it returns ``None`` for
anything it is not sure of, and the caller then reads the payload the reference way
(:func:`protocol.parse_opinion`), which finds the reason to refuse it. So the fast reading
never decides a refusal, and what it accepts the reference accepts with the same fields:
``tests/hub/test_wire.py`` checks both on random and malformed payloads.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

import msgspec

from protocol import MAX_PAYLOAD_BYTES

_HEX: Final = "0123456789abcdef"
_SLUG_CHARACTERS: Final = "abcdefghijklmnopqrstuvwxyz0123456789-"
_MAX_SEQ: Final = 2**63 - 1
# ASCII digits only: the reference's pattern also takes other scripts' digits, which the
# fast reading leaves to it.
_TIMESTAMP: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z"
)


class WireOpinion(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An opinion as the fast reading took it: the fields of :class:`protocol.Opinion`
    (a :class:`protocol.OpinionFields`)."""

    v: int
    id: str
    festival: str
    station: str
    visitor: str
    seq: int
    sig: str
    artwork: str
    choice: str
    tapped_at: str


_DECODER: Final = msgspec.json.Decoder(WireOpinion)


def _hex64(text: str) -> bool:
    # strip() leaves nothing exactly when every character is one of _HEX.
    return len(text) == 64 and not text.strip(_HEX)


def _slug(text: str) -> bool:
    return 0 < len(text) < 64 and text[0] != "-" and not text.strip(_SLUG_CHARACTERS)


def _message_id(text: str) -> bool:
    if len(text) != 36 or text[8] != "-" or text[13] != "-" or text[18] != "-":
        return False
    digits = text.replace("-", "")
    return text[23] == "-" and len(digits) == 32 and not digits.strip(_HEX)


def read_opinion(payload: bytes) -> tuple[WireOpinion, datetime] | None:
    """A well-formed opinion payload and its ``tapped_at`` as a datetime, or ``None`` when
    the payload is anything else (signature not checked here)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        o = _DECODER.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if not (
        o.v == 1
        and 0 <= o.seq <= _MAX_SEQ
        and _message_id(o.id)
        and _hex64(o.visitor)
        and _hex64(o.sig)
        and _slug(o.festival)
        and _slug(o.station)
        and _slug(o.artwork)
        and _slug(o.choice)
        and _TIMESTAMP.fullmatch(o.tapped_at) is not None
    ):
        return None
    try:
        # What protocol.parse_timestamp returns for the forms the pattern above allows.
        instant = datetime.fromisoformat(o.tapped_at)
    except ValueError:
        return None
    return o, instant
