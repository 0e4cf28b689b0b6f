"""A fast first reading of opinion payloads, for the writer's hot path.

Nearly every opinion the hub receives is well formed. :func:`read_opinion` takes such a
payload with msgspec (types, field names and JSON checked in one C call) and checks each
field's form with one regular expression over all of them; it returns ``None`` for
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

from protocol import MAX_PAYLOAD_BYTES, SLUG_PATTERN

_MAX_SEQ: Final = 2**63 - 1
_HEX64: Final = r"[0-9a-f]{64}"
# The forms of the text fields, in one pattern over the fields joined by spaces (which no
# field may hold, so each part is one field): id, visitor, sig, festival, station,
# artwork, choice, tapped_at. ASCII digits only: the reference's timestamp pattern also
# takes other scripts' digits, which the fast reading leaves to it.
_FORMS: Final = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    rf" {_HEX64} {_HEX64} {SLUG_PATTERN} {SLUG_PATTERN} {SLUG_PATTERN} {SLUG_PATTERN}"
    r" [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z"
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


def read_opinion(payload: bytes) -> tuple[WireOpinion, datetime] | None:
    """A well-formed opinion payload and its ``tapped_at`` as a datetime, or ``None`` when
    the payload is anything else (signature not checked here)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        o = _DECODER.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if not (o.v == 1 and 0 <= o.seq <= _MAX_SEQ):
        return None
    fields = (
        f"{o.id} {o.visitor} {o.sig} {o.festival} {o.station} {o.artwork} {o.choice} {o.tapped_at}"
    )
    if _FORMS.fullmatch(fields) is None:
        return None
    try:
        # What protocol.parse_timestamp returns for the forms the pattern above allows.
        instant = datetime.fromisoformat(o.tapped_at)
    except ValueError:
        return None
    return o, instant
