"""NFC stickers at artworks: the registry of them, and the one-tap-one-vote rule.

A sticker belongs to one festival and stands at one of its artworks. An SDM sticker
(NTAG 424 DNA, see :mod:`hub.sdm`) has two random keys; its first accepted vote binds its
UID, and each accepted vote raises its last accepted read counter, so that a tap's message
is good for one vote, within :data:`TAP_LIFETIME` of its address first being opened. A
static sticker (a plain NFC sticker or a printed QR code) has neither keys nor counters:
anyone with its address can vote. See docs/phones.md.

:func:`open_tap` and :func:`accept_tap` decide in one ``BEGIN IMMEDIATE`` transaction each,
so two requests with the same tap (two tabs, a double click) can never both be accepted.
Every SQL statement about stickers is here.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Final, TypeVar
from urllib.parse import urlencode

from sqlite_utils import Database

import storage
from hub import registry_store, sdm
from hub.registry import N_, RegistryError, existing_festival, slug

#: How long a tap's address stays good for a vote after it was first opened.
TAP_LIFETIME: Final = timedelta(minutes=10)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sticker:
    """A registered sticker (keys as 32 lowercase hex; None for a static sticker)."""

    festival: str
    id: str
    artwork: str
    choice: str | None
    static: bool
    meta_read_key: str | None
    file_read_key: str | None
    uid: str | None
    last_counter: int | None
    enabled: bool
    created_at: str

    def keys(self) -> tuple[bytes, bytes]:
        """The SDM meta read key and file read key as bytes."""
        if self.meta_read_key is None or self.file_read_key is None:
            raise ValueError(f"sticker {self.id} is static and has no keys")
        return bytes.fromhex(self.meta_read_key), bytes.fromhex(self.file_read_key)


#: What a tag-writing app replaces with each tap's message (SDM placeholders).
PLACEHOLDERS: Final = {"picc_data": "0" * 32, "cmac": "0" * 16}


def address(public_url: str, sticker: Sticker, params: dict[str, str] | None = None) -> str:
    """The sticker's address under the dashboard's address ``public_url``: with a tap's
    message, with SDM placeholders (no ``params``), or plain for a static sticker."""
    found = f"{public_url.rstrip('/')}/t/{sticker.festival}/{sticker.id}"
    if sticker.static:
        return found
    return found + "?" + urlencode(params or PLACEHOLDERS)


def writing_details(public_url: str, sticker: Sticker) -> dict[str, Any]:
    """What a tag-writing app needs for a new sticker: its address and keys
    (docs/phones.md). The keys are shown only when the sticker is added."""
    return {
        "festival": sticker.festival,
        "tag": sticker.id,
        "artwork": sticker.artwork,
        "choice": sticker.choice,
        "url": address(public_url, sticker),
        "sdm_meta_read_key": sticker.meta_read_key,
        "sdm_file_read_key": sticker.file_read_key,
    }


class Refusal(Enum):
    """Why a tap cannot give a vote; each has its own HTTP status and page."""

    UNKNOWN = 404  # no such sticker, or it is disabled
    MALFORMED = 400  # the parameters are not what a sticker writes
    FORGED = 403  # the message does not verify, or comes from another sticker's chip
    USED = 409  # the tap gave its vote already, or a later tap did
    EXPIRED = 410  # first opened more than TAP_LIFETIME ago


class TapRefused(Exception):
    """A tap was refused; ``refusal`` says why. Nothing was stored."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.name.lower())
        self.refusal = refusal


_COLUMNS: Final = (
    "festival, id, artwork, choice, static, meta_read_key, file_read_key, uid, "
    "last_counter, enabled, created_at"
)


def _sticker(row: tuple[object, ...]) -> Sticker:
    return Sticker(
        festival=str(row[0]),
        id=str(row[1]),
        artwork=str(row[2]),
        choice=None if row[3] is None else str(row[3]),
        static=bool(row[4]),
        meta_read_key=None if row[5] is None else str(row[5]),
        file_read_key=None if row[6] is None else str(row[6]),
        uid=None if row[7] is None else str(row[7]),
        last_counter=None if row[8] is None else int(str(row[8])),
        enabled=bool(row[9]),
        created_at=str(row[10]),
    )


def get(db: Database, festival_id: str, sticker_id: str) -> Sticker | None:
    """One sticker (enabled or not), or None."""
    row = db.conn.execute(
        f"SELECT {_COLUMNS} FROM stickers WHERE festival = ? AND id = ?",
        (festival_id, sticker_id),
    ).fetchone()
    return _sticker(row) if row else None


def artwork_title(db: Database, sticker: Sticker) -> str:
    """The title of the artwork the sticker stands at."""
    row = db.conn.execute(
        "SELECT title FROM artworks WHERE festival = ? AND id = ?",
        (sticker.festival, sticker.artwork),
    ).fetchone()
    return str(row[0]) if row else sticker.artwork


def list_stickers(db: Database, festival_id: str) -> list[Sticker]:
    """A festival's stickers, ordered by id."""
    existing_festival(db, slug(N_("festival id"), festival_id))
    rows = db.conn.execute(
        f"SELECT {_COLUMNS} FROM stickers WHERE festival = ? ORDER BY id", (festival_id,)
    ).fetchall()
    return [_sticker(row) for row in rows]


def add(
    db: Database,
    festival_id: str,
    sticker_id: str,
    artwork_id: str,
    choice: str | None = None,
    *,
    static: bool = False,
) -> Sticker:
    """Register a sticker at an artwork (with new random keys unless ``static``)."""
    festival = existing_festival(db, slug(N_("festival id"), festival_id))
    slug(N_("sticker id"), sticker_id)
    slug(N_("artwork id"), artwork_id)
    if not registry_store.artwork_exists(db, festival_id, artwork_id):
        raise RegistryError(
            N_("artwork %(artwork)r is not registered for festival %(festival)r"),
            artwork=artwork_id,
            festival=festival_id,
        )
    if choice is not None and choice not in festival.choices:
        raise RegistryError(
            N_("choice %(choice)r is not one of the festival's: %(choices)s"),
            choice=choice,
            choices=",".join(festival.choices),
        )
    meta, file = (None, None) if static else (secrets.token_hex(16), secrets.token_hex(16))
    created = storage.now_text()
    try:
        with storage.immediate(db):
            db.conn.execute(
                "INSERT INTO stickers (festival, id, artwork, choice, static, meta_read_key, "
                "file_read_key, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
                (festival_id, sticker_id, artwork_id, choice, int(static), meta, file, created),
            )
    except sqlite3.IntegrityError:
        raise RegistryError(
            N_("sticker %(sticker)r is already registered for festival %(festival)r"),
            sticker=sticker_id,
            festival=festival_id,
        ) from None
    found = get(db, festival_id, sticker_id)
    assert found is not None
    return found


def disable(db: Database, festival_id: str, sticker_id: str) -> None:
    """Disable a sticker: its taps are refused from now on."""
    slug(N_("festival id"), festival_id)
    slug(N_("sticker id"), sticker_id)
    with storage.immediate(db):
        cursor = db.conn.execute(
            "UPDATE stickers SET enabled = 0, disabled_at = coalesce(disabled_at, ?) "
            "WHERE festival = ? AND id = ?",
            (storage.now_text(), festival_id, sticker_id),
        )
    if cursor.rowcount != 1:
        raise _unknown(festival_id, sticker_id)


def _unknown(festival_id: str, sticker_id: str) -> RegistryError:
    return RegistryError(
        N_("sticker %(sticker)r is not registered for festival %(festival)r"),
        sticker=sticker_id,
        festival=festival_id,
    )


def simulated_tap(db: Database, festival_id: str, sticker_id: str) -> tuple[str, str]:
    """A fresh tap's ``(picc_data, cmac)`` as the sticker would give it next: for trying
    the vote pages without a sticker. The UID is the bound one, or a random one."""
    sticker = get(db, festival_id, sticker_id)
    if sticker is None:
        raise _unknown(festival_id, sticker_id)
    if sticker.static:
        raise RegistryError(
            N_("sticker %(sticker)r is static: its address has no tap"), sticker=sticker_id
        )
    row = db.conn.execute(
        "SELECT max(counter) FROM sticker_taps WHERE festival = ? AND sticker = ?",
        (festival_id, sticker_id),
    ).fetchone()
    counters = [c for c in (sticker.last_counter, row[0] if row else None) if c is not None]
    counter = max(counters) + 1 if counters else 1
    uid = bytes.fromhex(sticker.uid) if sticker.uid else b"\x04" + secrets.token_bytes(6)
    return sdm.make_tap(uid, counter, *sticker.keys())


# -- one tap, one vote ---------------------------------------------------------------------


def _verified(sticker: Sticker, picc_data: object, cmac: object) -> sdm.Tap:
    try:
        tap = sdm.read_tap(picc_data, cmac, *sticker.keys())
    except sdm.MalformedTap:
        raise TapRefused(Refusal.MALFORMED) from None
    except sdm.ForgedTap:
        raise TapRefused(Refusal.FORGED) from None
    if sticker.uid is not None and sticker.uid != tap.uid_hex:
        raise TapRefused(Refusal.FORGED)
    if sticker.last_counter is not None and tap.counter <= sticker.last_counter:
        raise TapRefused(Refusal.USED)
    return tap


def _opened_us(db: Database, sticker: Sticker, counter: int) -> int | None:
    row = db.conn.execute(
        "SELECT opened_us FROM sticker_taps WHERE festival = ? AND sticker = ? AND counter = ?",
        (sticker.festival, sticker.id, counter),
    ).fetchone()
    return None if row is None else int(row[0])


def _enabled(db: Database, festival_id: str, sticker_id: str) -> Sticker:
    sticker = get(db, festival_id, sticker_id)
    if sticker is None or not sticker.enabled:
        raise TapRefused(Refusal.UNKNOWN)
    return sticker


def _fresh(
    db: Database, sticker: Sticker, picc_data: object, cmac: object, now: datetime
) -> sdm.Tap | None:
    """The verified tap, recorded as opened now if it is new; None for a static sticker."""
    if sticker.static:
        if picc_data is not None or cmac is not None:
            raise TapRefused(Refusal.MALFORMED)
        return None
    tap = _verified(sticker, picc_data, cmac)
    now_us = storage.micros(now)
    opened = _opened_us(db, sticker, tap.counter)
    if opened is None:
        db.conn.execute(
            # OR IGNORE: two pages opening one tap at once both see it as first opened now.
            "INSERT OR IGNORE INTO sticker_taps (festival, sticker, counter, opened_us) "
            "VALUES (?, ?, ?, ?)",
            (sticker.festival, sticker.id, tap.counter, now_us),
        )
    elif now_us - opened > TAP_LIFETIME // timedelta(microseconds=1):
        raise TapRefused(Refusal.EXPIRED)
    return tap


def open_tap(
    db: Database,
    festival_id: str,
    sticker_id: str,
    picc_data: object,
    cmac: object,
    now: datetime | None = None,
) -> Sticker:
    """Check a tap as its address is opened (the vote page), recording when it was first
    opened; raises TapRefused. For a static sticker both parameters must be absent.

    No write lock is taken for the checks: a tap opened here is used up only by
    :func:`accept_tap`, which checks everything again in its transaction; all this records
    is when the tap was first seen, once."""
    sticker = _enabled(db, festival_id, sticker_id)
    try:
        _fresh(db, sticker, picc_data, cmac, now or datetime.now(UTC))
    finally:
        if db.conn.in_transaction:
            db.conn.commit()
    return sticker


def accept_tap(
    db: Database,
    festival_id: str,
    sticker_id: str,
    picc_data: object,
    cmac: object,
    record: Callable[[Sticker], T],
    now: datetime | None = None,
) -> T:
    """Check a tap once more and use it up for one vote, all in one transaction:
    ``record`` (which keeps the vote durably) runs inside it, after every check, and its
    failure leaves the tap unused. Raises TapRefused."""
    with storage.immediate(db):
        sticker = _enabled(db, festival_id, sticker_id)
        tap = _fresh(db, sticker, picc_data, cmac, now or datetime.now(UTC))
        if tap is not None:
            db.conn.execute(
                "UPDATE stickers SET uid = ?, last_counter = ? WHERE festival = ? AND id = ?",
                (tap.uid_hex, tap.counter, festival_id, sticker_id),
            )
            db.conn.execute(
                "DELETE FROM sticker_taps WHERE festival = ? AND sticker = ? AND counter <= ?",
                (festival_id, sticker_id, tap.counter),
            )
        return record(sticker)


@dataclass(frozen=True, slots=True)
class VisitorOpinion:
    """One of a visitor's current opinions at a festival, for the visitor's own page."""

    artwork: str
    title: str
    choice: str
    tapped_us: int


def visitor_opinions(db: Database, festival_id: str, visitor: str) -> list[VisitorOpinion]:
    """A visitor's current opinions at a festival, newest first. Only for showing visitors
    their own opinions: the pseudonym comes from their own browser, never from a viewer."""
    rows = db.conn.execute(
        "SELECT o.artwork, coalesce(a.title, o.artwork), o.choice, o.tapped_us "
        "FROM current_opinions o LEFT JOIN artworks a "
        "ON a.festival = o.festival AND a.id = o.artwork "
        "WHERE o.festival = ? AND o.visitor = ? ORDER BY o.tapped_us DESC, o.artwork",
        (festival_id, visitor),
    ).fetchall()
    return [VisitorOpinion(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]
