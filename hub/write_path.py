"""The ingest service's writes: one transaction per batch of accepted opinions, erase
requests, station statuses and rejections (:func:`write_batch`).

The tuples and prepared statements here are the hub's hot path; the rest of the hub's SQL is
in the ``*_store`` modules of :mod:`hub`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, NamedTuple

from sqlite_utils import Database

from hub.counter_store import add_counters
from hub.erasure import Markers
from hub.wire import WireOpinion
from protocol import EraseRequest, Opinion, StationStatus, parse_key, parse_timestamp
from protocol.topics import PREFIX
from storage import immediate, micros, now_text

#: Dead letters kept; older ones are dropped (their counters stay).
MAX_DEAD_LETTERS: Final = 100_000
#: How much of a rejected payload is kept.
DEAD_LETTER_PAYLOAD_BYTES: Final = 2048


class StoreOpinion(NamedTuple):
    """An accepted opinion (valid, verified) to store unless its id is known.

    A named tuple: the writer makes one per opinion, and a tuple is made in half the time
    of a frozen dataclass.
    """

    #: As validated: a :class:`protocol.Opinion`, or the fast reading of one.
    opinion: Opinion | WireOpinion
    received_at: datetime
    #: ``tapped_at`` in microseconds since the epoch, worked out when validated (-1: not
    #: yet, it is worked out when stored).
    tapped_us: int = -1


@dataclass(frozen=True)
class StoreErase:
    """An accepted erase request to carry out unless its id is known."""

    erase: EraseRequest
    received_at: datetime


@dataclass(frozen=True)
class StoreStatus:
    """A station's status (or last will); ``retained`` when the broker replayed it."""

    festival: str
    status: StationStatus
    received_at: datetime
    retained: bool


@dataclass(frozen=True)
class StoreRejection:
    """A rejected message, kept as a dead letter."""

    topic: str
    reason: str
    detail: str
    payload: bytes
    received_at: datetime


StoreItem = StoreOpinion | StoreErase | StoreStatus | StoreRejection


@dataclass
class BatchOutcome:
    """What one batch did, for counters and logs."""

    stored: int = 0
    duplicates: int = 0
    #: New opinions an earlier erasure covers: accepted, never stored (see hub.erasure).
    hidden: int = 0
    erasures: int = 0
    taps_erased: int = 0
    statuses: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


_INSERT_TAP = (
    "INSERT INTO taps (id, festival, station, artwork, visitor, choice, tapped_at, "
    "tapped_us, seq, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# A late, older tap leaves a newer current opinion alone: latest by tapped_at, seq, id.
_UPSERT_CURRENT = (
    "INSERT INTO current_opinions (festival, artwork, visitor, choice, tapped_us, seq, tap_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (festival, visitor, artwork) DO UPDATE SET "
    "choice = excluded.choice, tapped_us = excluded.tapped_us, seq = excluded.seq, "
    "tap_id = excluded.tap_id "
    "WHERE (excluded.tapped_us, excluded.seq, excluded.tap_id) > "
    "(current_opinions.tapped_us, current_opinions.seq, current_opinions.tap_id)"
)
_UPSERT_STATUS = (
    "INSERT INTO station_status (festival, station, state, at, at_us, last_seen, "
    "last_seen_us, outbox, outbox_full, readers, version) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (festival, station) DO UPDATE SET state = excluded.state, "
    "at = excluded.at, at_us = excluded.at_us, last_seen = excluded.last_seen, "
    "last_seen_us = excluded.last_seen_us, outbox = excluded.outbox, "
    "outbox_full = excluded.outbox_full, readers = excluded.readers, "
    "version = excluded.version "
    # A replayed retained status only counts when it is newer than what is known.
    "WHERE ? = 0 OR excluded.at_us > station_status.at_us"
)


def _accept_id(db: Database, message_id: str, received_at: str) -> bool:
    cursor = db.conn.execute(
        "INSERT OR IGNORE INTO accepted_ids (id, received_at) VALUES (?, ?)",
        (message_id, received_at),
    )
    return cursor.rowcount == 1


def load_markers(db: Database) -> Markers:
    """Every erasure marker, with the hub's erasure key (see :mod:`hub.erasure`)."""
    (key,) = db.conn.execute("SELECT value FROM hub_secrets WHERE name = 'erasure_key'").fetchone()
    rows = db.conn.execute("SELECT festival, visitor_hash, requested_us FROM erasure_markers")
    return Markers(parse_key(key), rows)


def _received_text(moment: datetime, texts: dict[int, str]) -> str:
    """``received_at`` as written, worked out once per millisecond (``texts``): a batch
    holds many messages received within the same one."""
    millisecond = micros(moment) // 1000
    text = texts.get(millisecond)
    if text is None:
        text = texts[millisecond] = now_text(moment)
    return text


def _current_key(row: tuple[str, str, str, str, int, int, str]) -> tuple[str, str, str]:
    """A current opinion's primary key (festival, visitor, artwork) from its row."""
    return row[0], row[2], row[1]


def _store_opinions(
    db: Database, run: list[StoreOpinion], outcome: BatchOutcome, markers: Markers
) -> None:
    """Store a run of opinions with one statement per table (what is new of them)."""
    ids = [item.opinion.id for item in run]
    known: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = db.conn.execute(f"SELECT id FROM accepted_ids WHERE id IN ({marks})", chunk)
        known.update(row[0] for row in rows)
    accepted, taps, current = [], [], []
    texts: dict[int, str] = {}
    erased = bool(markers)  # without any marker, nothing is looked up
    for item in run:
        o = item.opinion
        if o.id in known:
            outcome.duplicates += 1
            continue
        known.add(o.id)
        at = _received_text(item.received_at, texts)
        accepted.append((o.id, o.festival, at))
        # Accepted and remembered, but not stored: what an earlier erasure covers.
        tapped_us = item.tapped_us
        if tapped_us < 0:
            tapped_us = micros(parse_timestamp(o.tapped_at))
        if erased and markers.covers(o.festival, o.visitor, tapped_us):
            outcome.hidden += 1
            continue
        taps.append(
            (o.id, o.festival, o.station, o.artwork, o.visitor, o.choice, o.tapped_at,
             tapped_us, o.seq, at)
        )  # fmt: skip
        current.append((o.festival, o.artwork, o.visitor, o.choice, tapped_us, o.seq, o.id))
    # In key order: consecutive rows then fall on the same or neighbouring pages of a large
    # index, where random ids would touch a page each. Order changes nothing stored: the
    # ids are new, and the current opinion of a key is the latest whatever the order of
    # its upserts (their counts follow each change). Taps keep their arrival order (tap_no).
    accepted.sort()
    current.sort(key=_current_key)
    db.conn.executemany(
        "INSERT INTO accepted_ids (id, festival, received_at) VALUES (?, ?, ?)", accepted
    )
    db.conn.executemany(_INSERT_TAP, taps)
    db.conn.executemany(_UPSERT_CURRENT, current)
    outcome.stored += len(taps)


def _store_erase(db: Database, item: StoreErase, outcome: BatchOutcome, markers: Markers) -> None:
    e = item.erase
    received = now_text(item.received_at)
    if not _accept_id(db, e.id, received):
        outcome.duplicates += 1
        return
    hashed, until = markers.add(e.festival, e.visitor, micros(e.instant))
    db.conn.execute(
        "INSERT INTO erasure_markers (festival, visitor_hash, requested_us) VALUES (?, ?, ?) "
        "ON CONFLICT (festival, visitor_hash) DO UPDATE SET requested_us = excluded.requested_us",
        (e.festival, hashed, until),
    )
    # Rejected messages of this visitor in this festival go too (in any letter case).
    db.conn.execute(
        "DELETE FROM dead_letters WHERE instr(lower(CAST(payload AS TEXT)), ?) > 0 "
        "AND (substr(topic, 1, ?) = ? OR instr(CAST(payload AS TEXT), ?) > 0)",
        (e.visitor, len(prefix := f"{PREFIX}/{e.festival}/"), prefix, f'"{e.festival}"'),
    )
    deleted = db.conn.execute(
        "DELETE FROM taps WHERE festival = ? AND visitor = ?", (e.festival, e.visitor)
    ).rowcount
    db.conn.execute(
        "DELETE FROM current_opinions WHERE festival = ? AND visitor = ?", (e.festival, e.visitor)
    )
    db.conn.execute(
        "INSERT INTO erasures (festival, station, requested_at, erased_at, taps_deleted) "
        "VALUES (?, ?, ?, ?, ?)",
        (e.festival, e.station, e.requested_at, received, deleted),
    )
    outcome.erasures += 1
    outcome.taps_erased += deleted


def _store_status(db: Database, item: StoreStatus, outcome: BatchOutcome, markers: Markers) -> None:
    s = item.status
    at_moment = parse_timestamp(s.at)
    # A replayed retained status was heard when the station sent it, not now.
    seen = min(at_moment, item.received_at) if item.retained else item.received_at
    readers = json.dumps([r.model_dump(exclude_none=True) for r in s.readers])
    db.conn.execute(
        _UPSERT_STATUS,
        (item.festival, s.station, s.state, s.at, micros(at_moment), now_text(seen),
         micros(seen), s.outbox, int(s.outbox_full), readers, s.version, int(item.retained)),
    )  # fmt: skip
    outcome.statuses += 1


def _store_rejection(
    db: Database, item: StoreRejection, outcome: BatchOutcome, markers: Markers
) -> None:
    payload, detail = item.payload[:DEAD_LETTER_PAYLOAD_BYTES], item.detail[:500]
    parts = item.topic.split("/", 3)
    # A station publishes only under its festival's topics; an erased visitor's pseudonym
    # is not kept, not even in a dead letter that arrives after the erasure.
    if markers and len(parts) > 2 and markers.names_erased(parts[2], payload):
        payload, detail = b"", f"{detail[:440]} (payload not kept: it names an erased visitor)"
    db.conn.execute(
        "INSERT INTO dead_letters (received_at, topic, reason, detail, payload, size) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (now_text(item.received_at), item.topic[:1024], item.reason, detail, payload,
         len(item.payload)),
    )  # fmt: skip
    outcome.rejected[item.reason] += 1


_WRITERS = {
    StoreErase: _store_erase,
    StoreStatus: _store_status,
    StoreRejection: _store_rejection,
}


def write_batch(
    db: Database,
    items: Iterable[StoreItem],
    counters: Mapping[tuple[str, str], float],
    count_outcome: Callable[[BatchOutcome], Mapping[tuple[str, str], float]] | None = None,
    markers: Markers | None = None,
) -> BatchOutcome:
    """Write a batch of accepted and rejected messages and add to counters, in one
    transaction: after it returns, all of it is committed; if it raises, none of it is.

    ``counters`` maps (name, labels as JSON) to the amount to add; ``count_outcome`` turns
    what the batch did into more of them, so the counters agree with the data exactly.
    ``markers`` are every erasure marker (the writer keeps them; by default they are read
    from the database); the batch's erasures are added to them, and undone if it fails.
    """
    try:
        outcome = _write_batch(db, items, counters, count_outcome, markers)
    except BaseException:
        if markers is not None:
            markers.rolled_back()
        raise
    if markers is not None:
        markers.committed()
    return outcome


def _write_batch(
    db: Database,
    items: Iterable[StoreItem],
    counters: Mapping[tuple[str, str], float],
    count_outcome: Callable[[BatchOutcome], Mapping[tuple[str, str], float]] | None,
    markers: Markers | None,
) -> BatchOutcome:
    outcome = BatchOutcome()
    with immediate(db):
        if markers is None:
            markers = load_markers(db)
        run: list[StoreOpinion] = []
        for item in items:
            if isinstance(item, StoreOpinion):
                run.append(item)
                continue
            if run:
                _store_opinions(db, run, outcome, markers)
                run = []
            _WRITERS[type(item)](db, item, outcome, markers)  # type: ignore[operator]
        if run:
            _store_opinions(db, run, outcome, markers)
        if outcome.rejected:
            db.conn.execute(
                "DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - ?",
                (MAX_DEAD_LETTERS,),
            )
        add_counters(db, counters)
        if count_outcome is not None:
            add_counters(db, count_outcome(outcome))
    return outcome
