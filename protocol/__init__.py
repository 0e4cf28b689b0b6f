"""The wire contract of tapshare (docs/protocol.md): messages, topics, canonical bytes, signatures.

Imported by the station and the hub; imports nothing else of the project.
"""

from protocol.errors import Rejected
from protocol.files import create_private, write_private
from protocol.ids import new_message_id
from protocol.messages import (
    MAX_PAYLOAD_BYTES,
    EraseRequest,
    Opinion,
    OpinionFields,
    ReaderState,
    StationStatus,
    canonical_opinion,
    check_clock,
    decode_object,
    parse_opinion,
    parse_status,
)
from protocol.signing import (
    canonical_bytes,
    parse_key,
    sign,
    signed,
    verify,
    visitor_pseudonym,
)
from protocol.slugs import SLUG_PATTERN, SLUG_SCHEMA_PATTERN, Slug, is_slug
from protocol.timestamps import format_timestamp, parse_timestamp
from protocol.topics import Topic, TopicKind, parse_topic, topic_for

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "SLUG_PATTERN",
    "SLUG_SCHEMA_PATTERN",
    "EraseRequest",
    "Opinion",
    "OpinionFields",
    "ReaderState",
    "Rejected",
    "Slug",
    "StationStatus",
    "Topic",
    "TopicKind",
    "canonical_bytes",
    "canonical_opinion",
    "check_clock",
    "create_private",
    "decode_object",
    "format_timestamp",
    "is_slug",
    "new_message_id",
    "parse_key",
    "parse_opinion",
    "parse_status",
    "parse_timestamp",
    "parse_topic",
    "sign",
    "signed",
    "topic_for",
    "verify",
    "visitor_pseudonym",
    "write_private",
]
