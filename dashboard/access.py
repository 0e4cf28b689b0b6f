"""Who may see a board: anyone the public one; a festival's board (page, JSON, stream) only
with a screen key of that festival or an organiser's login of it (docs/dashboard.md,
"Screen keys").

A key comes as ``?key=KEY`` (screens open an address) or ``Authorization: Bearer KEY``
(programs). Valid keys are remembered until the next commit to the database, so a busy
board costs no query per request, and a revocation (a commit) is seen at once.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable

from flask import current_app, g, request, session

from consent.policy import PUBLIC
from dashboard import accounts, screens
from dashboard.database import get_db
from dashboard.screens import Access

log = logging.getLogger(__name__)

#: A key's last use is written at most this often (seconds), not on every request.
USE_RECORDED_EVERY = 60.0


class ScreenKeyNeeded(Exception):
    """A festival's board was asked for without a valid screen key or organiser login."""

    def __init__(self, festival_id: str, message: str, *, key_given: bool = False) -> None:
        super().__init__(message)
        self.festival_id = festival_id
        self.message = message
        self.key_given = key_given


class ScreenKeyChecks:
    """Looks keys up, remembering valid ones for one database generation; records when
    each key was last used, at most once per :data:`USE_RECORDED_EVERY` seconds."""

    def __init__(self, generation: Callable[[], int]) -> None:
        self._generation = generation
        self._lock = threading.Lock()
        self._known: dict[str, tuple[str, int]] = {}
        self._recorded: dict[str, float] = {}

    def festival_of(self, key: str) -> tuple[str, str] | None:
        """(festival, key hash) of a valid key, or None."""
        if not screens.KEY_SHAPE.fullmatch(key):
            return None
        digest = screens.key_hash(key)
        generation = self._generation()
        with self._lock:
            known = self._known.get(digest)
        if known is not None and known[1] == generation:
            festival = known[0]
        else:
            found = screens.festival_of(get_db(), digest)
            with self._lock:
                if found is None:
                    self._known.pop(digest, None)
                    return None
                self._known[digest] = (found, generation)
            festival = found
        self._note_use(digest)
        return festival, digest

    def _note_use(self, digest: str) -> None:
        clock = time.monotonic()
        with self._lock:
            if clock - self._recorded.get(digest, -USE_RECORDED_EVERY) < USE_RECORDED_EVERY:
                return
            self._recorded[digest] = clock
        try:
            screens.record_use(get_db(), digest)
        except sqlite3.Error:  # bookkeeping must never keep a screen dark
            log.warning("cannot record the use of a screen key", exc_info=True)


def _checks() -> ScreenKeyChecks:
    found: ScreenKeyChecks = current_app.extensions["tapshare_screen_keys"]
    return found


def current_organiser() -> accounts.Organiser | None:
    """The logged-in organiser of this request, or None."""
    if "organiser" not in g:
        token = session.get("sid")
        g.organiser = accounts.session_organiser(get_db(), token) if token else None
    found: accounts.Organiser | None = g.organiser
    return found


def given_key() -> str | None:
    """The screen key the request carries, if any."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.args.get("key") or None


def board_access(board_id: str) -> Access | None:
    """What lets this request see board ``board_id`` (None: the public board, open to
    all); raises :class:`ScreenKeyNeeded` when nothing does."""
    if board_id == PUBLIC:
        return None
    key = given_key()
    if key is not None:
        found = _checks().festival_of(key)
        if found is not None and found[0] == board_id:
            return Access(board_id, key_hash=found[1])
    organiser = current_organiser()
    if organiser is not None and board_id in organiser.festivals:
        return Access(board_id, session=str(session["sid"]))
    if key is None:
        raise ScreenKeyNeeded(board_id, f"the board of {board_id} needs a screen key")
    raise ScreenKeyNeeded(
        board_id, f"this screen key is not valid for the board of {board_id}", key_given=True
    )
