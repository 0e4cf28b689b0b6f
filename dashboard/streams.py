"""Live boards over server-sent events, cheaply.

One background thread asks the commit watcher (:mod:`dashboard.commits`) ten times a
second whether anything was committed. Only then, at the next moment a rule's validity
window opens or closes, and every few seconds anyway (delays move with the clock), it
takes each board that somebody is watching from the board cache (:mod:`dashboard.cache`,
so that it is computed once per board, however many people watch it and whatever pages
ask for it) and wakes the watchers only when the board really changed. Each open stream
waits on a condition variable; slow clients skip intermediate versions and always get the
latest board. Streams that open together wait for one computation of their board, and
the same thread ends the streams whose clients have left, so that their slots free at
once, and, after each commit, the streams whose screen key was revoked or whose
organiser logged out. One client (an address, or an IPv6 /64) may hold only so many
streams, so that it cannot take every slot.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import force_locale
from sqlite_utils import Database

from dashboard import board_view as views
from dashboard import opinions
from dashboard.board_view import BoardView
from dashboard.cache import BoardCache
from dashboard.i18n import LANGUAGES
from dashboard.screens import Access, still_valid
from dashboard.validity import NEVER, ValidityBoundaries
from storage import connect

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

RETRY_MILLISECONDS = 2000


class TooManyStreams(RuntimeError):
    """Every stream slot is taken; the client should retry later."""


class TooManyStreamsFromClient(TooManyStreams):
    """This client holds as many streams as one client may."""


def sse_event(payload: str, *, event: str | None = None, event_id: int | None = None) -> str:
    """One server-sent event; a multi-line payload becomes several ``data:`` lines."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event:
        lines.append(f"event: {event}")
    lines += [f"data: {line}" for line in payload.split("\n")]
    return "\n".join(lines) + "\n\n"


@dataclass
class BoardState:
    """The latest rendering of one board, and how many streams watch it in each format."""

    board_id: str
    formats: Counter[str] = field(default_factory=Counter)
    version: int = 0
    fingerprint: str = ""
    # Each format's event, encoded once and written to every watcher as it is.
    payloads: dict[str, bytes] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)
    # Held while the board is computed: streams opening together wait for one computation.
    rendering: threading.Lock = field(default_factory=threading.Lock)
    # The open streams' "has the client gone?" checks, looked at on every poll.
    watches: set[Watch] = field(default_factory=set)

    @property
    def watchers(self) -> int:
        """How many streams watch this board."""
        return sum(self.formats.values())


def board_streams() -> BoardStreams:
    """The app's live board streams."""
    found: BoardStreams = current_app.extensions["tapshare_streams"]
    return found


def _payloads(app: Flask, view: BoardView, formats: Collection[str]) -> dict[str, str]:
    """A board's stream payloads in ``formats``: the API's JSON board, the page's HTML
    (``html``, or ``html:LANG`` in language LANG)."""
    payloads = {}
    if "json" in formats:
        payloads["json"] = view.json.decode()
    pages = [fmt for fmt in formats if fmt.partition(":")[0] == "html"]
    if pages:
        with app.app_context():
            for fmt in pages:
                # "html:nl": the page's fragment in the language its page was shown in.
                with force_locale(fmt.partition(":")[2] or LANGUAGES[0]):
                    payloads[fmt] = view.fragment()
    return payloads


def _events(payloads: dict[str, str], version: int) -> dict[str, bytes]:
    return {fmt: sse_event(text, event_id=version).encode() for fmt, text in payloads.items()}


class Watch:
    """An open stream's iterator; closing it (the server does when the client leaves, even
    before the first event) frees its slot exactly once.

    ``disconnected`` (when the server offers one) tells whether the client has closed the
    connection; the polling thread asks it, so that a stream whose client left ends at
    once rather than at its next write."""

    def __init__(
        self,
        events: Callable[[Watch], Iterator[bytes]],
        on_close: Callable[[], None],
        disconnected: Callable[[], bool] | None = None,
        access: Access | None = None,
    ) -> None:
        self.disconnected = disconnected
        # What let the stream open; it ends when that is revoked.
        self.access = access
        self.gone = False
        self._on_close: Callable[[], None] | None = on_close
        self._events = events(self)

    def __iter__(self) -> Watch:
        return self

    def __next__(self) -> bytes:
        return next(self._events)

    def close(self) -> None:
        """End the stream and free its slot."""
        close = getattr(self._events, "close", None)
        if close is not None:
            close()
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """How often the stream thread looks and how many streams may be open (see
    :func:`dashboard.create_app`)."""

    poll_interval: float
    refresh_interval: float
    heartbeat_interval: float
    max_streams: int
    max_streams_per_client: int


class BoardStreams:
    """Every open event stream of one dashboard process, fed by one polling thread."""

    def __init__(self, app: Flask, boards: BoardCache[BoardView], settings: StreamSettings) -> None:
        self.app = app
        self.boards = boards
        self.settings = settings
        self._lock = threading.Lock()
        self._boards: dict[str, BoardState] = {}
        self._clients: Counter[str] = Counter()
        self._boundaries = ValidityBoundaries()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def open_streams(self) -> int:
        """How many event streams are open right now."""
        with self._lock:
            return sum(state.watchers for state in self._boards.values())

    def start(self) -> None:
        """Start the polling thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="board-streams", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop polling and end every open stream."""
        self._stopping.set()
        with self._lock:
            states = list(self._boards.values())
        for state in states:
            with state.changed:
                state.changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _refresh(
        self,
        state: BoardState,
        db: Database,
        *,
        missing: str | None = None,
        since: float | None = None,
    ) -> None:
        """Take the board from the cache again (a board computed before ``since`` is not
        taken; given ``missing``, only if that format has no event yet) and wake its
        streams if it changed."""
        with state.rendering:
            if missing is None or missing not in state.payloads:
                self._render(state, db, since)

    def _render(self, state: BoardState, db: Database, since: float | None) -> None:
        with self._lock:
            formats = {fmt for fmt, n in state.formats.items() if n > 0}
        board_id = state.board_id
        try:
            view = self.boards.get(board_id, lambda: views.board_view(db, board_id), since=since)
            changed = view.fingerprint != state.fingerprint
            wanted = formats if changed else formats - state.payloads.keys()
            payloads = _payloads(self.app, view, wanted)
        except Exception:  # keep serving the last good board; never let the thread die
            log.exception("cannot compute board %s", board_id)
            return
        with state.changed:
            if changed:
                state.fingerprint = view.fingerprint
                state.version += 1
                state.payloads = _events(payloads, state.version)
                state.changed.notify_all()
            elif payloads:
                # Same board, asked for in a new format: no new event for anyone else.
                state.payloads = {**_events(payloads, state.version), **state.payloads}
                state.changed.notify_all()

    def subscribe(self, board_id: str, fmt: str, db: Database, client: str) -> BoardState:
        """Watch a board in format ``fmt`` for ``client`` (see
        :func:`dashboard.clients.client_key`); raises :class:`TooManyStreams` when every
        slot is taken and :class:`TooManyStreamsFromClient` when this client holds its
        share. The slot is held until the stream from :meth:`events` is closed."""
        limits = self.settings
        with self._lock:
            if sum(s.watchers for s in self._boards.values()) >= limits.max_streams:
                raise TooManyStreams(f"{limits.max_streams} streams are open already")
            if self._clients[client] >= limits.max_streams_per_client:
                raise TooManyStreamsFromClient(
                    f"this client has {limits.max_streams_per_client} streams open already, "
                    "as many as one client may"
                )
            self._clients[client] += 1
            state = self._boards.setdefault(board_id, BoardState(board_id))
            state.formats[fmt] += 1
            ready = fmt in state.payloads
        if not ready:
            self._refresh(state, db, missing=fmt)
        return state

    def _unsubscribe(self, state: BoardState, fmt: str, client: str) -> None:
        with self._lock:
            state.formats[fmt] -= 1
            self._clients[client] -= 1
            if self._clients[client] <= 0:
                del self._clients[client]

    def events(
        self,
        state: BoardState,
        fmt: str,
        client: str,
        disconnected: Callable[[], bool] | None = None,
        access: Access | None = None,
    ) -> Watch:
        """The event stream of one watcher subscribed as ``client``: the board now, then
        each change, with comments in between so that proxies and the server keep the
        connection open. ``disconnected`` tells whether the client has gone (see
        :class:`Watch`); the stream ends when ``access`` is no longer valid."""
        watch: Watch

        def close() -> None:
            with state.changed:
                state.watches.discard(watch)
            self._unsubscribe(state, fmt, client)

        watch = Watch(functools.partial(self._events, state, fmt), close, disconnected, access)
        if disconnected is not None or access is not None:
            with state.changed:
                state.watches.add(watch)
        return watch

    def _news(self, state: BoardState, fmt: str, seen: int, watch: Watch) -> bool:
        return (
            (state.version != seen and fmt in state.payloads)
            or self._stopping.is_set()
            or watch.gone
        )

    def _events(self, state: BoardState, fmt: str, watch: Watch) -> Iterator[bytes]:
        seen = 0
        yield f"retry: {RETRY_MILLISECONDS}\n\n".encode()
        while not self._stopping.is_set():
            with state.changed:
                state.changed.wait_for(
                    functools.partial(self._news, state, fmt, seen, watch),
                    timeout=self.settings.heartbeat_interval,
                )
                version, payloads = state.version, state.payloads
            if self._stopping.is_set() or watch.gone:
                return
            if version != seen and fmt in payloads:
                seen = version
                yield payloads[fmt]
            else:
                yield b": keep-alive\n\n"

    def _watched(self) -> list[BoardState]:
        with self._lock:
            for board_id in [b for b, s in self._boards.items() if s.watchers <= 0]:
                del self._boards[board_id]
            return list(self._boards.values())

    def _sweep(self) -> None:
        """End the streams whose clients have gone, so that their slots free at once."""
        self._end(lambda w: bool(w.disconnected and w.disconnected()))

    def _end(self, ending: Callable[[Watch], bool]) -> None:
        for state in self._watched():
            with state.changed:
                gone = [w for w in state.watches if not w.gone and ending(w)]
                for watch in gone:
                    watch.gone = True
                if gone:
                    state.changed.notify_all()

    def _end_revoked(self, db: Database) -> None:
        """End the streams whose screen key was revoked or whose organiser's session ended."""
        held: set[Access] = set()
        for state in self._watched():
            with state.changed:
                held.update(w.access for w in state.watches if w.access is not None)
        if not held:
            return
        valid = still_valid(db, held)
        if len(valid) < len(held):
            self._end(lambda w: w.access is not None and w.access not in valid)

    def _run(self) -> None:
        db: Database | None = None
        last_generation = None
        next_refresh = 0.0
        next_boundary = NEVER
        while not self._stopping.wait(self.settings.poll_interval):
            try:
                self._sweep()
                if db is None:
                    db = connect(self.app.config["TAPSHARE_DB"])
                generation = self.boards.commits.generation()
                clock, wall = time.monotonic(), opinions.now()
                committed = generation != last_generation
                if not committed and clock < next_refresh and wall < next_boundary:
                    continue
                if committed:
                    self._end_revoked(db)
                last_generation, next_refresh = generation, clock + self.settings.refresh_interval
                next_boundary = self._boundaries.after(db, wall)
                # Only the clock moved: boards computed before now may be out of date.
                since = None if committed else clock
                for state in self._watched():
                    self._refresh(state, db, since=since)
            except Exception:  # a locked or vanished database must not end live boards
                log.exception("board stream poll failed")
                if db is not None:
                    db.close()
                db = None
        if db is not None:
            db.close()
