"""Station health in words for the organiser: state, "last seen 5 s ago", the outbox, the
readers summarised, and alerts for a station that is offline or whose outbox fills up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext

from dashboard.i18n import gettext, ngettext

#: An outbox holding this many opinions (not yet delivered to the hub) raises an alert.
OUTBOX_ALERT = 50

#: Shown where a station has not said (an en dash).
NONE = "\u2013"

_STATES = {
    "online": lazy_gettext("Online"),
    "offline": lazy_gettext("Offline"),
    "unknown": lazy_gettext("Not heard from yet"),
}


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
        return gettext("never")
    try:
        then = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return moment
    seconds = max(0, int((now - then.astimezone(UTC)).total_seconds()))
    if seconds < 60:
        return gettext("%(num)d s ago", num=seconds)
    if seconds < 3600:
        return gettext("%(num)d min ago", num=seconds // 60)
    if seconds < 48 * 3600:
        return gettext("%(num)d h ago", num=seconds // 3600)
    return ngettext("%(num)d day ago", "%(num)d days ago", seconds // 86400)


def _reader(entry: Any) -> tuple[str, bool, str | None]:
    if isinstance(entry, dict):
        return str(entry.get("device", "?")), bool(entry.get("ok")), entry.get("error")
    return str(entry.device), bool(entry.ok), getattr(entry, "error", None)


def readers_summary(readers: Iterable[Any]) -> tuple[str, list[str]]:
    """``8 readers ok`` or ``1 of 8 readers failing``, and one line per reader."""
    found = [_reader(entry) for entry in readers]
    if not found:
        return gettext("no readers reported"), []
    failing = [device for device, ok, _ in found if not ok]
    total = len(found)
    summary = (
        ngettext("%(num)d reader ok", "%(num)d readers ok", total)
        if not failing
        else ngettext(
            "%(failing)d of %(num)d reader failing",
            "%(failing)d of %(num)d readers failing",
            total,
            failing=len(failing),
        )
    )
    details = [_reader_line(device, ok, error) for device, ok, error in found]
    return summary, details


def _reader_line(device: str, ok: bool, error: str | None) -> str:
    if ok:
        return gettext("%(device)s: ok", device=device)
    if error:
        return gettext("%(device)s: failing (%(error)s)", device=device, error=error)
    return gettext("%(device)s: failing", device=device)


def station_views(stations: Iterable[Any], now: datetime) -> list[StationView]:
    """The stations' health in words."""
    views = []
    for s in stations:
        summary, details = readers_summary(s.readers or ())
        state = s.state if s.enabled else "disabled"
        if s.outbox is None:
            outbox = NONE
        elif s.outbox == 0:
            outbox = gettext("empty")
        elif s.outbox_full:
            outbox = gettext("%(num)d waiting (full)", num=s.outbox)
        else:
            outbox = gettext("%(num)d waiting", num=s.outbox)
        views.append(
            StationView(
                station=s.station,
                state=state,
                state_words=str(_STATES.get(s.state, s.state))
                if s.enabled
                else gettext("Disabled"),
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
                gettext(
                    "%(station)s is offline (last seen %(ago)s): opinions "
                    "tapped there reach the board when it reconnects.",
                    station=s.station,
                    ago=ago(s.last_seen, now),
                )
            )
        if s.outbox_full:
            found.append(
                gettext(
                    "%(station)s's outbox is full: new taps there may be lost.", station=s.station
                )
            )
        elif s.outbox is not None and s.outbox >= OUTBOX_ALERT:
            found.append(
                gettext(
                    "%(station)s holds %(num)d opinions it has not delivered yet: check its "
                    "network connection.",
                    station=s.station,
                    num=s.outbox,
                )
            )
        failing = [device for device, ok, _ in map(_reader, s.readers or ()) if not ok]
        if failing and s.state == "online":
            found.append(
                ngettext(
                    "%(station)s: reader %(readers)s is failing.",
                    "%(station)s: readers %(readers)s are failing.",
                    len(failing),
                    station=s.station,
                    readers=", ".join(failing),
                )
            )
    return found
