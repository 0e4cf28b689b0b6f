"""The registry: festivals, artworks and stations, and the credentials stations get.

Plain functions over a sqlite-utils ``Database``, used by the command line and by code
(the demo registers its festivals here). Bad input raises :class:`RegistryError` (a
ValueError) with a message fit for the user; nothing is written then.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Final

from sqlite_utils import Database

import storage
from consent.policy import RESERVED
from hub import platform_key_store, registry_store, retention_store
from hub.lifecycle import MAX_RETAIN_DAYS
from hub.models import DEFAULT_CHOICES, WEB_STATION, Artwork, Festival, Station, StationCredentials
from hub.passwords import hash_password, new_key, new_password
from hub.platform_key_store import PlatformKey
from protocol import is_slug
from protocol.broker import BrokerURL

#: Ids that name audiences in sharing policies, so no festival may have them (docs/operator.md).
#: Where a station keeps its outbox unless its station.toml says otherwise.
DEFAULT_OUTBOX: Final = "/var/lib/tapshare/outbox.db"
MAX_NAME_LENGTH: Final = 200
MAX_CHOICES: Final = 16
MAX_BOARD_MIN_VISITORS: Final = 1_000_000
#: How precisely a platform key's last use is kept.
KEY_USE_RESOLUTION: Final = timedelta(minutes=1)


class RegistryError(ValueError):
    """A registry change was refused; the message says why, in English.

    ``message`` is the sentence with ``%(name)s`` places and ``params`` what fills them,
    so that a page can say it in its reader's language from the message catalogue
    (``kind`` is itself a catalogue word): see ``dashboard.i18n.refusal``.
    """

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


def N_(message: str) -> str:
    """``message`` itself, marked for the message catalogue (gettext's name for
    "extract, but do not translate here")."""
    return message


def slug(kind: str, value: str) -> str:
    if not is_slug(value):
        raise RegistryError(
            N_(
                "%(kind)s %(value)r is not a valid id: use 1-63 lowercase letters, digits "
                "and hyphens, starting with a letter or digit"
            ),
            kind=kind,
            value=value,
        )
    return value


def _text(kind: str, value: str) -> str:
    cleaned = value.strip() if isinstance(value, str) else ""
    if not cleaned:
        raise RegistryError(N_("%(kind)s must not be empty"), kind=kind)
    if len(cleaned) > MAX_NAME_LENGTH:
        raise RegistryError(
            N_("%(kind)s is longer than %(most)d characters"), kind=kind, most=MAX_NAME_LENGTH
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in cleaned):
        raise RegistryError(N_("%(kind)s must not contain control characters"), kind=kind)
    return cleaned


def _festival_id(festival_id: str) -> str:
    slug(N_("festival id"), festival_id)
    if festival_id in RESERVED:
        raise RegistryError(
            f"festival id {festival_id!r} is reserved (public, network and platform name "
            "audiences of sharing policies)"
        )
    return festival_id


@cache
def _zones() -> frozenset[str]:
    # "localtime" is whatever the machine is set to, not a place: not a festival's zone.
    return frozenset(zoneinfo.available_timezones() - {"localtime", "Factory"})


def time_zone(name: str) -> str:
    """``name`` if it is an IANA time zone (``Europe/Amsterdam``); raises
    :class:`RegistryError` otherwise."""
    if name not in _zones():
        raise RegistryError(
            f"unknown time zone {name[:80]!r}: give an IANA name such as Europe/Amsterdam "
            "or Europe/London"
        )
    return name


def existing_festival(db: Database, festival_id: str) -> Festival:
    found = registry_store.get_festival(db, festival_id)
    if found is None:
        raise RegistryError(N_("festival %(festival)r is not registered"), festival=festival_id)
    return found


def parse_choices(text: str) -> tuple[str, ...]:
    """Split a comma-separated list of choices (as ``--choices`` takes it)."""
    return tuple(part.strip() for part in text.split(","))


def add_festival(
    db: Database, festival_id: str, name: str, choices: tuple[str, ...] | list[str] | None = None
) -> Festival:
    """Register a festival with a new random visitor key; return it (key included)."""
    _festival_id(festival_id)
    name = _text(N_("festival name"), name)
    picked = tuple(choices) if choices is not None else DEFAULT_CHOICES
    if not picked:
        raise RegistryError("a festival needs at least one choice")
    if len(picked) > MAX_CHOICES:
        raise RegistryError(f"a festival has at most {MAX_CHOICES} choices")
    for choice in picked:
        slug(N_("choice"), choice)
    if len(set(picked)) != len(picked):
        raise RegistryError(f"choices must be different from each other: {','.join(picked)}")
    festival = Festival(
        id=festival_id,
        name=name,
        choices=picked,
        visitor_key=new_key(),
        board_min_visitors=1,
        created_at=storage.now_text(),
    )
    try:
        registry_store.insert_festival(db, festival)
    except sqlite3.IntegrityError:
        raise RegistryError(f"festival {festival_id!r} is already registered") from None
    # Votes from phones are opinions of this station; its broker account is never used
    # (the dashboard connects as tapshare-web), so its password is thrown away.
    add_station(db, festival_id, WEB_STATION)
    return festival


def _check_whole(value: object, low: int, high: int, refusal: str) -> None:
    """Refuse a value given (not None) that is not a whole number from low to high."""
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high
    ):
        raise RegistryError(refusal)


def set_festival(
    db: Database,
    festival_id: str,
    name: str | None = None,
    board_min_visitors: int | None = None,
    retain_days: int | None = None,
    timezone: str | None = None,
) -> Festival:
    """Change a festival's name, its own boards' minimum visitors, how many days it keeps
    its taps (0: forever) and/or its time zone; return it."""
    existing_festival(db, festival_id)
    if timezone is not None:
        timezone = time_zone(timezone)
    _check_whole(
        retain_days,
        0,
        MAX_RETAIN_DAYS,
        f"retention must be a whole number of days from 0 (keep forever) to {MAX_RETAIN_DAYS}",
    )
    if name is not None:
        name = _text(N_("festival name"), name)
    _check_whole(
        board_min_visitors,
        1,
        MAX_BOARD_MIN_VISITORS,
        f"board minimum visitors must be a whole number from 1 to {MAX_BOARD_MIN_VISITORS}",
    )
    registry_store.update_festival(db, festival_id, name, board_min_visitors, timezone)
    if retain_days is not None:
        retention_store.set_festival_retain_days(db, festival_id, retain_days)
    return existing_festival(db, festival_id)


def add_artwork(db: Database, festival_id: str, artwork_id: str, title: str) -> Artwork:
    """Register an artwork of a festival."""
    existing_festival(db, slug(N_("festival id"), festival_id))
    artwork = Artwork(festival_id, slug(N_("artwork id"), artwork_id), _text(N_("title"), title))
    try:
        registry_store.insert_artwork(db, artwork, storage.now_text())
    except sqlite3.IntegrityError:
        raise RegistryError(
            N_("artwork %(artwork)r is already registered for festival %(festival)r"),
            artwork=artwork_id,
            festival=festival_id,
        ) from None
    return artwork


def broker_username(festival_id: str, station_id: str) -> str:
    """A station's broker username, ``FESTIVAL.STATION`` (docs/operator.md)."""
    return f"{festival_id}.{station_id}"


def add_station(db: Database, festival_id: str, station_id: str) -> StationCredentials:
    """Register a station with a new secret and broker password; return its credentials.

    Only a hash of the broker password is kept, so the returned credentials are the one
    chance to hand them to the station (see :func:`station_toml`).
    """
    festival = existing_festival(db, slug(N_("festival id"), festival_id))
    slug(N_("station id"), station_id)
    password = new_password()
    credentials = StationCredentials(
        festival=festival_id,
        station=station_id,
        station_secret=new_key(),
        visitor_key=festival.visitor_key,
        broker_username=broker_username(festival_id, station_id),
        broker_password=password,
        choices=festival.choices,
    )
    try:
        registry_store.insert_station(
            db,
            festival_id,
            station_id,
            credentials.station_secret,
            credentials.broker_username,
            hash_password(password),
            storage.now_text(),
        )
    except sqlite3.IntegrityError:
        raise RegistryError(
            N_("station %(station)r is already registered for festival %(festival)r"),
            station=station_id,
            festival=festival_id,
        ) from None
    return credentials


def disable_station(db: Database, festival_id: str, station_id: str) -> None:
    """Disable a station: the hub rejects its messages from now on, and the broker
    configuration written afterwards no longer lets it connect."""
    slug(N_("festival id"), festival_id)
    slug(N_("station id"), station_id)
    if not registry_store.disable_station(db, festival_id, station_id, storage.now_text()):
        raise RegistryError(
            N_("station %(station)r is not registered for festival %(festival)r"),
            station=station_id,
            festival=festival_id,
        )


def stations(db: Database, festival_id: str) -> list[Station]:
    """A festival's stations (without secrets), ordered by id."""
    existing_festival(db, slug(N_("festival id"), festival_id))
    return registry_store.list_stations(db, festival_id)


def _toml_string(value: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes.
    return json.dumps(value, ensure_ascii=False)


def station_toml(
    credentials: StationCredentials, broker: BrokerURL, outbox: str = DEFAULT_OUTBOX
) -> str:
    """The station.toml of docs/station.md for a new station, without readers.

    ``broker`` says where the broker is; the station's own username and password replace
    any credentials it carries.
    """
    url = broker.with_credentials(credentials.broker_username, credentials.broker_password)
    lines = [
        f"festival = {_toml_string(credentials.festival)}",
        f"station = {_toml_string(credentials.station)}",
        f"broker = {_toml_string(str(url))}",
        f"station_secret = {_toml_string(credentials.station_secret)}",
        f"visitor_key = {_toml_string(credentials.visitor_key)}",
        f"outbox = {_toml_string(outbox)}",
    ]
    if credentials.choices:
        listed = ", ".join(_toml_string(choice) for choice in credentials.choices)
        lines.append(f"choices = [{listed}]")
    return "\n".join(lines) + "\n"


def add_station_file(
    db: Database, festival_id: str, station_id: str, broker: BrokerURL, outbox: str = DEFAULT_OUTBOX
) -> str:
    """Register a station and return its whole station.toml: credentials, the festival's
    choices and a commented ``[[readers]]`` example. The broker password in it is shown
    only this once (only its hash is kept)."""
    credentials = add_station(db, festival_id, station_id)
    artworks = [a.id for a in registry_store.list_artworks(db, festival_id)]
    example = readers_example(artworks[0] if artworks else "ARTWORK", list(credentials.choices))
    return station_toml(credentials, broker, outbox) + example


def readers_example(artwork: str, choices: list[str]) -> str:
    """Commented ``[[readers]]`` tables to finish a new station.toml with: one reader per
    choice of the festival at one artwork (see docs/station.md)."""
    lines = [
        "",
        "# Add one [[readers]] table per NFC reader (see docs/station.md), for example:",
    ]
    for number, choice in enumerate(choices[:2] or ["CHOICE"]):
        lines += [
            "#",
            "# [[readers]]",
            '# device = "usb:054c:06c1"' if number else '# device = "tty:AMA0:pn532"',
            f'# artwork = "{artwork}"',
            f'# choice = "{choice}"',
        ]
    if choices:
        lines += ["#", f"# The festival's choices: {', '.join(choices)}."]
    return "\n".join(lines) + "\n"


# -- platform keys -------------------------------------------------------------------------


def platform_key_hash(key: str) -> str:
    """The SHA-256 of a platform key as 64 lowercase hex: all the database keeps of it."""
    return hashlib.sha256(key.encode()).hexdigest()


def add_platform_key(db: Database, name: str) -> str:
    """Make a key for an urban data platform and return it (43 URL-safe characters, 256
    random bits); only its hash is stored, so this is the one chance to hand it over."""
    slug("platform key name", name)
    key = secrets.token_urlsafe(32)
    try:
        platform_key_store.insert_platform_key(db, name, platform_key_hash(key), storage.now_text())
    except sqlite3.IntegrityError:
        raise RegistryError(f"platform key {name!r} already exists") from None
    return key


def platform_keys(db: Database) -> list[PlatformKey]:
    """Every platform key, by name (never the key itself)."""
    return platform_key_store.list_platform_keys(db)


def revoke_platform_key(db: Database, name: str) -> None:
    """End a platform key: requests with it are refused from now on."""
    if not platform_key_store.delete_platform_key(db, name):
        raise RegistryError(f"there is no platform key {name!r}")


def platform_key_name(db: Database, key: str) -> str | None:
    """The name of the platform key ``key``, or None; its last use is recorded to the
    minute (not at every request, which would make every read a write)."""
    if not key or len(key) > 256:
        return None
    found = platform_key_store.platform_key_by_hash(db, platform_key_hash(key))
    if found is None:
        return None
    now = datetime.now(UTC)
    if found.last_used_at is None or found.last_used_at < storage.now_text(
        now - KEY_USE_RESOLUTION
    ):
        platform_key_store.mark_platform_key_used(db, found.name, storage.now_text(now))
    return found.name
