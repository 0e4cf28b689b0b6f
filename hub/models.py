"""What the hub's registry and health tables hold, as plain frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The choices a festival gets when it names none (docs/operator.md, festival add).
DEFAULT_CHOICES: tuple[str, ...] = ("love", "like", "meh", "dislike")
#: The station every festival has for votes from phones (docs/phones.md): the dashboard
#: publishes them as its opinions through the broker account ``tapshare-web``.
WEB_STATION = "web"
#: The time zone a festival speaks in when it names none (an IANA zone name).
DEFAULT_TIMEZONE = "Europe/Amsterdam"


@dataclass(frozen=True)
class Festival:
    """A registered festival with its visitor key (64 lowercase hex)."""

    id: str
    name: str
    choices: tuple[str, ...]
    visitor_key: str
    board_min_visitors: int = 1
    created_at: str = ""
    timezone: str = DEFAULT_TIMEZONE


@dataclass(frozen=True)
class Artwork:
    """An artwork of one festival."""

    festival: str
    id: str
    title: str


@dataclass(frozen=True)
class StationCredentials:
    """What a new station needs to take part; the broker password exists only here.

    The hub keeps the station secret (it verifies signatures with it) but stores only a
    hash of the broker password, so these credentials are shown once, when the station is
    added (or its credentials are renewed).
    """

    festival: str
    station: str
    station_secret: str
    visitor_key: str
    broker_username: str
    broker_password: str
    #: The festival's choices, so that the station refuses a reader with another one.
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Station:
    """A registered station (without its secrets)."""

    festival: str
    id: str
    enabled: bool
    broker_username: str
    created_at: str


@dataclass(frozen=True)
class StationHealth:
    """A station as its status messages (and last will) describe it.

    ``state`` is ``"unknown"`` until the first status arrives, and ``"offline"`` when the
    station said so, its last will was published, or it has been silent for longer than
    twice the status interval.
    """

    festival: str
    station: str
    enabled: bool
    state: str
    last_seen: str | None
    outbox: int | None
    outbox_full: bool
    readers: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    version: str | None = None


@dataclass(frozen=True)
class DeadLetter:
    """A rejected message: why, where, when, and the first 2 KiB of its payload."""

    id: int
    received_at: str
    topic: str
    reason: str
    detail: str
    payload: bytes
    size: int

    def as_json(self) -> dict[str, Any]:
        """The dead letter as a JSON object (payload as text where it decodes, else hex)."""
        try:
            text: str | None = self.payload.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        body: dict[str, Any] = {
            "received_at": self.received_at,
            "topic": self.topic,
            "reason": self.reason,
            "detail": self.detail,
            "size": self.size,
        }
        if text is not None:
            body["payload"] = text
        else:
            body["payload_hex"] = self.payload.hex()
        return body
