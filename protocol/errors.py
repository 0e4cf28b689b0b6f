"""Why a message is refused: one reason code per rule of docs/protocol.md."""

from __future__ import annotations

from typing import Final

#: Every reason a hub may give for refusing a message, with a short explanation.
REASONS: Final[dict[str, str]] = {
    "qos0": "published at QoS 0 (stations publish at QoS 1)",
    "oversize": "payload over 2048 bytes",
    "not_utf8": "payload is not UTF-8",
    "not_json": "payload is not JSON",
    "not_object": "payload is not a JSON object",
    "bad_version": "field v is not 1",
    "missing_field": "a required field is missing",
    "unknown_field": "a field is not part of the message",
    "bad_type": "a field has the wrong type",
    "bad_seq": "seq is below 0 or too large",
    "bad_id": "id is not a UUID",
    "bad_slug": "an identifier is not a slug",
    "bad_visitor": "visitor is not 64 lowercase hex",
    "bad_timestamp": "a timestamp is not RFC 3339 UTC with a Z suffix",
    "bad_value": "a field has a value outside its range",
    "missing_signature": "sig is missing",
    "bad_signature": "sig is malformed or does not verify",
    "unknown_topic": "topic is not one of tapshare/v1/F/S/{opinion,erase,status}",
    "topic_mismatch": "the topic disagrees with the payload",
    "unknown_festival": "festival is not registered",
    "unknown_station": "station is not registered",
    "foreign_station": "station belongs to another festival",
    "station_disabled": "station is disabled",
    "unknown_artwork": "artwork is not registered for the festival",
    "unknown_choice": "choice is not one of the festival's choices",
    "future_timestamp": "timestamp is more than 5 minutes ahead of the hub's clock",
}


class Rejected(ValueError):
    """A message was refused; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise KeyError(f"unknown rejection reason {reason!r}")
        self.reason = reason
        self.detail = detail or REASONS[reason]
        super().__init__(f"{reason}: {self.detail}")
