"""Votes from phones go the way every station's opinions go: signed, kept, published.

Each festival's station ``web`` is published for by this process, as a station would:
every vote and erase request is signed with the web station's secret, committed to a
durable outbox (one file per festival, :class:`reader_agent.outbox.Outbox`) and published
at QoS 1 by :class:`reader_agent.publisher.Publisher`, which deletes it once the broker
has acknowledged it. The hub then validates, deduplicates and stores it like any other
opinion: it stays the only writer of taps.

A page waits (at most a few seconds) for its message's acknowledgement to say "recorded";
without one the message stays in the outbox and goes out when the broker is back, after a
restart too (the outboxes found on disk are drained at start).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from flask import Flask, current_app

from hub import registry_store
from hub.models import WEB_STATION
from protocol import EraseRequest, Opinion, StationStatus, TopicKind, new_message_id, topic_for
from protocol.broker import BrokerURL
from protocol.signing import parse_key, visitor_pseudonym
from protocol.timestamps import format_timestamp
from reader_agent.outbox import Outbox
from reader_agent.publisher import Publisher
from storage import connect

log = logging.getLogger(__name__)

#: How long a page waits for the broker's acknowledgement before it says "kept".
ACK_WAIT_SECONDS: Final = 5.0
#: The prefix of the bytes a browser's visitor id is turned into a pseudonym from.
WEB_VISITOR_PREFIX: Final = b"web:"


def web_pseudonym(visitor_id: str, visitor_key: str) -> str:
    """A browser's pseudonym at a festival: HMAC-SHA256 of ``web:`` + its id."""
    return visitor_pseudonym(WEB_VISITOR_PREFIX + visitor_id.encode(), parse_key(visitor_key))


@dataclass(frozen=True, slots=True)
class WebStationSettings:
    """What the publisher needs for one festival's web station."""

    festival: str
    broker: BrokerURL
    ca_file: Path | None = None
    station: str = WEB_STATION
    #: As stations do: the hub counts a station silent for twice this as offline.
    status_interval: float = 30.0
    reconnect_max_seconds: int = 30

    def client_id(self) -> str:
        # Stable, so the broker keeps the session (and its unacknowledged messages).
        return f"tapshare-web-{self.festival}"


class _AckedOutbox(Outbox):
    """An outbox that tells waiting pages when their messages were acknowledged."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._waiting: dict[int, threading.Event] = {}
        self._waiting_lock = threading.Lock()

    def expect(self, seq: int) -> threading.Event:
        """An event set once ``seq`` is acknowledged (call before it can be published)."""
        event = threading.Event()
        with self._waiting_lock:
            self._waiting[seq] = event
        return event

    def forget(self, seq: int) -> None:
        with self._waiting_lock:
            self._waiting.pop(seq, None)

    def delete(self, seqs: Iterable[int]) -> None:
        done = list(seqs)
        super().delete(done)
        with self._waiting_lock:
            for seq in done:
                event = self._waiting.pop(seq, None)
                if event is not None:
                    event.set()


@dataclass(frozen=True, slots=True)
class Kept:
    """A message in a festival's outbox; ``acknowledged`` is set when the broker has it."""

    seq: int
    acknowledged: threading.Event

    def wait(self, timeout: float = ACK_WAIT_SECONDS) -> bool:
        """Whether the broker acknowledged the message within ``timeout`` seconds."""
        return self.acknowledged.wait(timeout)


class _FestivalChannel:
    def __init__(self, settings: WebStationSettings, outbox: _AckedOutbox) -> None:
        self.outbox = outbox
        self.publisher = Publisher(settings, outbox, self._status, self._fatal)
        self.topics = {
            kind: topic_for(settings.festival, WEB_STATION, kind)
            for kind in (TopicKind.OPINION, TopicKind.ERASE)
        }

    def _status(self, state: str) -> StationStatus:
        return StationStatus.model_validate(
            {
                "v": 1,
                "station": WEB_STATION,
                "state": state,
                "at": format_timestamp(datetime.now(UTC)),
                "outbox": len(self.outbox),
                "readers": [],
                "version": "tapshare-dashboard",
            }
        )

    def _fatal(self, reason: str) -> None:
        # The broker refused tapshare-web's credentials: votes stay in the outbox.
        log.error("votes from phones cannot be published: %s", reason)


class WebVotes:
    """The festivals' web stations: sign, keep and publish votes and erase requests."""

    def __init__(
        self, db_path: Path | str, broker: BrokerURL, outbox_dir: Path, ca_file: Path | None = None
    ) -> None:
        self.db_path = db_path
        self.broker = broker
        self.outbox_dir = outbox_dir
        self.ca_file = ca_file
        self._channels: dict[str, _FestivalChannel] = {}
        self._secrets: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._stopped = False

    def start(self) -> None:
        """Connect every registered festival's web station (festivals added later connect
        on their first vote), and drain the outboxes a previous run left behind."""
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        db = connect(self.db_path)
        try:
            festivals = [f.id for f in registry_store.list_festivals(db)]
        finally:
            db.close()
        for path in sorted(self.outbox_dir.glob("*.db")):
            festivals.append(path.stem)
        for festival_id in sorted(set(festivals)):
            self._channel(festival_id)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            channels = list(self._channels.values())
            self._channels.clear()
        for channel in channels:
            channel.publisher.stop(timeout=2.0)
            channel.outbox.close()

    def _channel(self, festival_id: str) -> _FestivalChannel:
        with self._lock:
            if self._stopped:
                raise RuntimeError("voting by phone has stopped")
            channel = self._channels.get(festival_id)
            if channel is None:
                settings = WebStationSettings(festival_id, self.broker, self.ca_file)
                outbox = _AckedOutbox(self.outbox_dir / f"{festival_id}.db")
                channel = _FestivalChannel(settings, outbox)
                channel.publisher.start()
                self._channels[festival_id] = channel
            return channel

    def _secret(self, festival_id: str) -> bytes:
        # A station's secret never changes, so it is read once per festival.
        if festival_id in self._secrets:
            return self._secrets[festival_id]
        db = connect(self.db_path)
        try:
            key = registry_store.station_key(db, festival_id, WEB_STATION)
        finally:
            db.close()
        if key is None:
            raise RuntimeError(f"festival {festival_id} has no web station")
        self._secrets[festival_id] = parse_key(key.secret)
        return self._secrets[festival_id]

    def _keep(
        self, festival_id: str, kind: TopicKind, make: Callable[..., Opinion | EraseRequest]
    ) -> Kept:
        """Keep the message ``make`` builds (given its id, festival, station, seq and the
        station's secret) in the festival's outbox; publish it."""
        secret = self._secret(festival_id)
        message_id = new_message_id()
        channel = self._channel(festival_id)
        events: list[Kept] = []

        fields = {"id": message_id, "festival": festival_id, "station": WEB_STATION}

        def built(seq: int) -> bytes:
            payload = make(**fields, seq=seq, station_secret=secret).payload()
            # Registered before the commit, so an acknowledgement can never come first.
            events.append(Kept(seq, channel.outbox.expect(seq)))
            return payload

        try:
            channel.outbox.append(channel.topics[kind], built)
        except BaseException:
            for kept in events:
                channel.outbox.forget(kept.seq)
            raise
        channel.publisher.wake()
        return events[0]

    def opinion(self, festival_id: str, artwork: str, visitor: str, choice: str) -> Kept:
        """Keep a vote as the web station's signed Opinion; publish it."""
        make = functools.partial(
            Opinion.build,
            artwork=artwork,
            visitor=visitor,
            choice=choice,
            tapped_at=datetime.now(UTC),
        )
        return self._keep(festival_id, TopicKind.OPINION, make)

    def erase(self, festival_id: str, visitor: str) -> Kept:
        """Keep an erase request of the web station for ``visitor``; publish it."""
        make = functools.partial(
            EraseRequest.build, visitor=visitor, requested_at=datetime.now(UTC)
        )
        return self._keep(festival_id, TopicKind.ERASE, make)

    def pending(self, festival_id: str) -> int:
        """How many of the festival's messages wait for the broker."""
        with self._lock:
            channel = self._channels.get(festival_id)
        return len(channel.outbox) if channel else 0


def web_votes() -> WebVotes | None:
    """The app's web stations, or None when the dashboard runs without a broker."""
    found: WebVotes | None = current_app.extensions.get("tapshare_web_votes")
    return found


def install(app: Flask, votes: WebVotes | None) -> None:
    """Give ``app`` its web stations (None: voting by phone is not set up)."""
    app.extensions["tapshare_web_votes"] = votes
