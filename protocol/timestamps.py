"""RFC 3339 UTC timestamps with a ``Z`` suffix, as the wire protocol writes them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$")


def parse_timestamp(text: str) -> datetime:
    """Parse ``YYYY-MM-DDTHH:MM:SS[.fraction]Z`` into an aware UTC datetime.

    Fractions beyond microseconds are truncated. Raises ValueError on anything else.
    """
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 UTC timestamp with Z suffix: {text!r}")
    try:
        # The same reading, done in C (the hub parses one per message, twice); it refuses
        # what the fields below refuse too, and digits of other scripts, read below.
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    year, month, day, hour, minute, second, fraction = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    return datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC
    )


def format_timestamp(moment: datetime) -> str:
    """Write an aware datetime as RFC 3339 UTC with millisecond precision and ``Z``."""
    if moment.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    u = moment.astimezone(UTC)
    # Formatted by hand: strftime is several times slower, and the hub writes one per tap.
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}."
        f"{u.microsecond // 1000:03d}Z"
    )
