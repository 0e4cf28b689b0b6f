"""Message ids (docs/protocol.md, Messages): UUIDs in their canonical lowercase form."""

from __future__ import annotations

import uuid6


def new_message_id() -> str:
    """A new message id: a UUID of version 7 (RFC 9562, section 5.7), whose first 48 bits
    are the time in milliseconds, so that ids made later sort later.

    The hub keeps every accepted id in an index; ids that grow with time are added at its
    end, where random ones (version 4) land on a random page of it each. Ids made within
    one millisecond still sort in the order they were made.
    """
    return str(uuid6.uuid7())
