"""Erasure markers: how an erasure covers taps that reach the hub after it.

An erasure covers every tap of its visitor in its festival tapped at or before its
``requested_at`` (docs/protocol.md, "Erase request"), also taps that were still held in a
station's outbox or a site broker when it was carried out. For each erasure the hub keeps
a marker: the festival, a keyed hash of the pseudonym and ``requested_at`` (the latest, when
a visitor erased more than once). The hash is HMAC-SHA256 under the hub's own erasure key
(made once, with the schema, and kept with the hub's other secrets), so the markers alone
name no visitor; the pseudonym itself is never kept. A tap a marker covers is accepted (its
id is remembered, the broker is told it is stored) but never stored or counted.

:class:`Markers` holds every marker in memory, so that checking a tap costs one dictionary
look-up (and one HMAC only in a festival that has markers). The writer keeps one for its
whole life: it is the only writer of erasures, and :func:`hub.write_path.write_batch` adds to it
what a batch erases and undoes that when the batch fails.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable
from typing import Final

#: What may be a pseudonym in a rejected payload (in any letter case).
_PSEUDONYM: Final = re.compile(rb"[0-9a-fA-F]{64}")


def visitor_hash(key: bytes, visitor: str) -> str:
    """The keyed hash of a pseudonym that a marker keeps, as 64 lowercase hex."""
    return hmac.digest(key, visitor.encode(), "sha256").hex()


class Markers:
    """Every erasure marker: festival, keyed hash of the pseudonym, ``requested_at`` (in
    microseconds since the epoch)."""

    def __init__(self, key: bytes, rows: Iterable[tuple[str, str, int]] = ()) -> None:
        self._key = key
        self._marks: dict[str, dict[str, int]] = {}
        # What the batch in hand changed, to undo when it fails: (festival, hash, before).
        self._changes: list[tuple[str, str, int | None]] = []
        for festival, hashed, requested_us in rows:
            self._marks.setdefault(festival, {})[hashed] = requested_us

    def __bool__(self) -> bool:
        """Whether there is any marker at all (a batch without markers checks nothing)."""
        return any(self._marks.values())

    def covers(self, festival: str, visitor: str, tapped_us: int) -> bool:
        """Whether an erasure covers a tap of ``visitor`` in ``festival`` at ``tapped_us``."""
        marks = self._marks.get(festival)
        if not marks:
            return False
        until = marks.get(visitor_hash(self._key, visitor))
        return until is not None and tapped_us <= until

    def names_erased(self, festival: str, payload: bytes) -> bool:
        """Whether a (rejected) payload carries the pseudonym of a visitor erased in the
        festival, whenever its tap was made."""
        marks = self._marks.get(festival)
        if not marks:
            return False
        return any(
            visitor_hash(self._key, found.group().decode().lower()) in marks
            for found in _PSEUDONYM.finditer(payload)
        )

    def add(self, festival: str, visitor: str, requested_us: int) -> tuple[str, int]:
        """Record an erasure in the batch in hand; return the marker's (hash, requested_us)
        to keep in the database: the later of this one and any earlier one."""
        hashed = visitor_hash(self._key, visitor)
        marks = self._marks.setdefault(festival, {})
        before = marks.get(hashed)
        self._changes.append((festival, hashed, before))
        marks[hashed] = requested_us if before is None else max(before, requested_us)
        return hashed, marks[hashed]

    def committed(self) -> None:
        """The batch in hand is committed: keep what it added."""
        self._changes.clear()

    def rolled_back(self) -> None:
        """The batch in hand failed: forget what it added."""
        for festival, hashed, before in reversed(self._changes):
            if before is None:
                del self._marks[festival][hashed]
            else:
                self._marks[festival][hashed] = before
        self._changes.clear()
