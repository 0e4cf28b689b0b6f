import time
import uuid

from pydantic import TypeAdapter

from protocol import new_message_id
from protocol.messages import MessageId


def test_message_ids_are_canonical_version_7_uuids_of_now():
    before = time.time_ns() // 1_000_000
    made = new_message_id()
    value = uuid.UUID(made)
    assert value.version == 7
    assert str(value) == made == TypeAdapter(MessageId).validate_python(made)
    assert before <= value.int >> 80 <= time.time_ns() // 1_000_000 + 1000


def test_message_ids_sort_in_the_order_they_are_made():
    ids = [new_message_id() for _ in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
