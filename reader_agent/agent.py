"""The station: reader loops turn taps into signed messages in the outbox; the publisher
sends them.

Each reader runs in its own thread, so a failing reader never stops the others; a reader
that cannot be opened, or fails, is closed and opened again with back-off, and the status
says which one and why. A tag's UID is turned into the festival pseudonym the moment it is
read and goes no further: it is never stored, logged or sent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata

from protocol import new_message_id
from protocol.messages import EraseRequest, Opinion, ReaderState, StationStatus
from protocol.signing import visitor_pseudonym
from protocol.timestamps import format_timestamp
from protocol.topics import TopicKind, topic_for
from reader_agent.feedback import Feedback, make_feedback
from reader_agent.outbox import Outbox, OutboxError, OutboxFull
from reader_agent.publisher import Publisher
from reader_agent.settings import ReaderSettings, StationSettings
from reader_agent.simulation import SimulatedSource
from reader_agent.sources import NfcSource, ReaderError, TagSource

log = logging.getLogger(__name__)


def make_source(device: str, targets: Sequence[str] | None = None) -> TagSource:
    """The source for a reader's ``device`` setting: ``sim:…`` or an nfcpy path."""
    if device.startswith("sim:"):
        return SimulatedSource(device)
    return NfcSource(device, targets)


def _version() -> str:
    try:
        return metadata.version("tapshare")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class TapResult:
    """What became of one tap: recorded (with its seq), ignored as a repeat, or failed."""

    outcome: str  # "recorded", "repeat" or "failed"
    seq: int | None = None
    error: str | None = None


class TapGuard:
    """Remembers who tapped a reader lately, so that a repeat tap is not a second opinion."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._seen: dict[str, float] = {}

    def repeat(self, visitor: str, now: float) -> bool:
        """Whether ``visitor`` tapped within the window; records this tap either way."""
        if self.window <= 0:
            return False
        if len(self._seen) > 1000:
            self._seen = {v: t for v, t in self._seen.items() if now - t < self.window}
        last = self._seen.get(visitor)
        self._seen[visitor] = now
        return last is not None and now - last < self.window


class ReaderLoop:
    """One reader: open, read taps, and reopen with back-off when it fails."""

    def __init__(self, station: Station, index: int, config: ReaderSettings) -> None:
        self.station = station
        self.index = index
        self.config = config
        self.source: TagSource = make_source(config.device, config.targets)
        self.guard = TapGuard(station.settings.tap_guard_seconds)
        self.ok = False
        self.error: str | None = "not opened yet"
        self._reported: tuple[bool, str | None] | None = None
        self.feedback: Feedback | None = None
        self.taps = 0
        self._thread = threading.Thread(target=self._run, name=f"reader-{index}", daemon=True)

    def state(self) -> ReaderState:
        """How this reader is doing, for the status message."""
        error = None if self.ok else (self.error or "failed")[:300]
        return ReaderState(device=self.config.device, ok=self.ok, error=error)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _set_state(self, ok: bool, error: str | None) -> None:
        # Report a change of health once, not every retry of a reader that stays absent.
        changed = self._reported is None or ok != self._reported[0]
        self.ok, self.error = ok, error
        if changed:
            self._reported = (ok, error)
            if ok:
                log.info("reader %s is working", self.config.device)
            else:
                log.error("reader %s failed: %s", self.config.device, error)
            self.station.status_changed()

    def _run(self) -> None:
        stop = self.station.stopping
        delay = 0.5
        maximum = self.station.settings.reader_retry_max_seconds
        while not stop.is_set():
            try:
                self.source.open()
                self.feedback = make_feedback(self.config.feedback, self.source.feedback_device())
                self._set_state(True, None)
                delay = 0.5
                while not stop.is_set():
                    self.source.read(self._on_tag, stop)
            except (ReaderError, RuntimeError, OSError) as exc:
                self._set_state(False, str(exc))
            except Exception as exc:  # a reader loop must never die: log and try again
                log.exception("reader %s: unexpected error", self.config.device)
                self._set_state(False, f"{type(exc).__name__}: {exc}")
            finally:
                self.source.close()
                if self.feedback is not None:
                    self.feedback.close()
                    self.feedback = None
            if stop.wait(min(delay, maximum)):
                break
            delay = min(delay * 2, maximum)

    def _on_tag(self, uid: bytes) -> None:
        started = time.monotonic()
        result = self.station.record_tap(self, uid)
        del uid
        feedback = self.feedback
        if feedback is not None:
            if result.outcome == "failed":
                feedback.failed()
            else:
                feedback.recorded()
        self.station.tap_handled(self, result, time.monotonic() - started)


class Station:
    """A station: its readers, its outbox and its MQTT publisher, in one process.

    ``run()`` blocks until ``stop()`` is called (from another thread or a signal handler)
    or the broker refuses the station's credentials; it returns 0 after a clean stop and 2
    after a refusal (then ``fatal`` says why).
    """

    def __init__(
        self,
        settings: StationSettings,
        on_tap: Callable[[ReaderLoop, TapResult, float], None] | None = None,
    ) -> None:
        self.settings = settings
        self.version = _version()
        self.stopping = threading.Event()
        self.fatal: str | None = None
        self._on_tap = on_tap
        self._secret = settings.station_secret
        self._visitor_key = settings.visitor_key
        self._topics = {
            kind: topic_for(settings.festival, settings.station, kind)
            for kind in (TopicKind.OPINION, TopicKind.ERASE)
        }
        self._outbox_was_full = False
        self.outbox = Outbox(settings.outbox, settings.outbox_limit)
        self.readers = [ReaderLoop(self, i, r) for i, r in enumerate(settings.readers)]
        self.publisher = Publisher(settings, self.outbox, self.status, self._fail)
        self._started = False
        self._shut_down = False

    # status

    def status(self, state: str = "online") -> StationStatus:
        """The station's health as the status topic carries it."""
        return StationStatus(
            v=1,
            station=self.settings.station,
            state=state,  # type: ignore[arg-type]
            at=format_timestamp(datetime.now(UTC)),
            outbox=len(self.outbox),
            readers=[reader.state() for reader in self.readers],
            version=self.version[:64],
            outbox_full=self.outbox.full,
        )

    def status_changed(self) -> None:
        """A reader or the outbox changed state: send the status now."""
        if self._started:
            self.publisher.publish_status()

    # taps

    def record_tap(self, reader: ReaderLoop, uid: bytes) -> TapResult:
        """Turn one read into a signed message committed to the outbox."""
        visitor = visitor_pseudonym(uid, self._visitor_key)
        del uid  # the UID goes no further than this line
        if reader.guard.repeat(visitor, time.monotonic()):
            return TapResult("repeat")
        config = reader.config
        moment = datetime.now(UTC)
        message_id = new_message_id()
        kind = TopicKind.ERASE if config.action == "erase" else TopicKind.OPINION

        def build(seq: int) -> bytes:
            if kind is TopicKind.ERASE:
                return EraseRequest.build(
                    id=message_id,
                    festival=self.settings.festival,
                    station=self.settings.station,
                    visitor=visitor,
                    requested_at=moment,
                    seq=seq,
                    station_secret=self._secret,
                ).payload()
            assert config.artwork is not None and config.choice is not None
            return Opinion.build(
                id=message_id,
                festival=self.settings.festival,
                station=self.settings.station,
                artwork=config.artwork,
                visitor=visitor,
                choice=config.choice,
                tapped_at=moment,
                seq=seq,
                station_secret=self._secret,
            ).payload()

        try:
            seq = self.outbox.append(self._topics[kind], build)
        except OutboxFull as exc:
            if not self._outbox_was_full:
                self._outbox_was_full = True
                log.error(
                    "outbox full (%d messages, outbox_limit): taps are refused until the "
                    "broker can be reached again",
                    len(self.outbox),
                )
                self.status_changed()
            return TapResult("failed", error=str(exc))
        except OutboxError as exc:
            log.error("tap not recorded: %s", exc)
            return TapResult("failed", error=str(exc))
        except Exception as exc:  # signing or validation: the visitor must still hear "failed"
            log.exception("tap not recorded on %s", config.device)
            return TapResult("failed", error=f"{type(exc).__name__}: {exc}")
        if self._outbox_was_full:
            self._outbox_was_full = False
            log.info("outbox has room again: taps are recorded")
            self.status_changed()
        reader.taps += 1
        log.debug("tap recorded on %s: seq %d", config.device, seq)
        self.publisher.wake()
        return TapResult("recorded", seq=seq)

    def tap_handled(self, reader: ReaderLoop, result: TapResult, seconds: float) -> None:
        if self._on_tap is not None:
            self._on_tap(reader, result, seconds)

    # running

    def _fail(self, message: str) -> None:
        self.fatal = message
        self.stopping.set()

    def start(self) -> None:
        """Start the publisher and every reader loop; return at once."""
        # nfcpy logs tag identifiers at debug level; a UID must never reach a log.
        nfc_log = logging.getLogger("nfc")
        nfc_log.setLevel(max(nfc_log.getEffectiveLevel(), logging.INFO))
        log.info(
            "station %s/%s starting: %d readers, %d messages in the outbox (next seq %d)",
            self.settings.festival,
            self.settings.station,
            len(self.readers),
            len(self.outbox),
            self.outbox.next_seq(),
        )
        self.publisher.start()
        self._started = True
        for reader in self.readers:
            reader.start()

    def run(self) -> int:
        """Run until stopped; close every reader and the connection on the way out."""
        if not self._started:
            self.start()
        try:
            self.stopping.wait()
        finally:
            self.shutdown()
        return 2 if self.fatal else 0

    def stop(self) -> None:
        """Ask the station to stop (safe from signal handlers and other threads)."""
        self.stopping.set()

    def shutdown(self) -> None:
        """Stop readers, say offline, disconnect and close the outbox. Idempotent."""
        self.stopping.set()
        if self._shut_down:
            return
        self._shut_down = True
        for reader in self.readers:
            # nfcpy checks for the stop between polling rounds, about once a second.
            reader.join(5.0)
        self.publisher.stop()
        self.outbox.close()
        log.info("station stopped")
