"""Station health in words for the organiser: state, "last seen 5 s ago", the outbox, the
readers summarised, and alerts for a station that is offline or whose outbox fills up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: An outbox holding this many opinions (not yet delivered to the hub) raises an alert.
OUTBOX_ALERT = 50

#: Shown where a station has not said (an en dash).
NONE = "\u2013"

_STATES = {"online": "Online", "offline": "Offline", "unknown": "Not heard from yet"}


@dataclass(frozen=True)
class StationView:
    """One station as the overview shows it."""

    station: str
    state: str
    state_words: str
    last_seen: str
    outbox: str
    readers: str
    reader_details: list[str] = field(default_factory=list)
    version: str = NONE


def ago(moment: str | None, now: datetime) -> str:
    """How long ago an RFC 3339 time was: ``5 s ago``, ``3 min ago``, ``2 h ago``, ``never``."""
    if not moment:
        return "never"
    try:
        then = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return moment
    seconds = max(0, int((now - then.astimezone(UTC)).total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def _reader(entry: Any) -> tuple[str, bool, str | None]:
    if isinstance(entry, dict):
        return str(entry.get("device", "?")), bool(entry.get("ok")), entry.get("error")
    return str(entry.device), bool(entry.ok), getattr(entry, "error", None)


def readers_summary(readers: Iterable[Any]) -> tuple[str, list[str]]:
    """``8 readers ok`` or ``1 of 8 readers failing``, and one line per reader."""
    found = [_reader(entry) for entry in readers]
    if not found:
        return "no readers reported", []
    failing = [device for device, ok, _ in found if not ok]
    total = len(found)
    plural = "s" if total != 1 else ""
    summary = (
        f"{total} reader{plural} ok"
        if not failing
        else f"{len(failing)} of {total} reader{plural} failing"
    )
    details = [
        f"{device}: {'ok' if ok else 'failing'}{f' ({error})' if error else ''}"
        for device, ok, error in found
    ]
    return summary, details


def station_views(stations: Iterable[Any], now: datetime) -> list[StationView]:
    """The stations' health in words."""
    views = []
    for s in stations:
        summary, details = readers_summary(s.readers or ())
        state = s.state if s.enabled else "disabled"
        if s.outbox is None:
            outbox = NONE
        elif s.outbox == 0:
            outbox = "empty"
        else:
            outbox = f"{s.outbox} waiting" + (" (full)" if s.outbox_full else "")
        views.append(
            StationView(
                station=s.station,
                state=state,
                state_words=_STATES.get(s.state, s.state) if s.enabled else "Disabled",
                last_seen=ago(s.last_seen, now),
                outbox=outbox,
                readers=summary if s.state != "unknown" else NONE,
                reader_details=details,
                version=s.version or NONE,
            )
        )
    return views


def alerts(stations: Iterable[Any], now: datetime) -> list[str]:
    """What needs someone's attention: enabled stations offline, outboxes filling up,
    failing readers."""
    found = []
    for s in stations:
        if not s.enabled:
            continue
        if s.state == "offline":
            found.append(
                f"{s.station} is offline (last seen {ago(s.last_seen, now)}): opinions "
                "tapped there reach the board when it reconnects."
            )
        if s.outbox_full:
            found.append(f"{s.station}'s outbox is full: new taps there may be lost.")
        elif s.outbox is not None and s.outbox >= OUTBOX_ALERT:
            found.append(
                f"{s.station} holds {s.outbox} opinions it has not delivered yet: check its "
                "network connection."
            )
        failing = [device for device, ok, _ in map(_reader, s.readers or ()) if not ok]
        if failing and s.state == "online":
            found.append(f"{s.station}: reader {', '.join(failing)} is failing.")
    return found
