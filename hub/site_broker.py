"""A festival's site broker: a Mosquitto on site that its stations publish to, bridged to
the hub's broker.

Stations keep a local, low-latency broker; the bridge forwards their messages to the hub's
broker at QoS 1 with a persistent session, and while the site's internet link is down the
site broker keeps them in a persistent, bounded queue. The bridge has its own account on
the hub's broker (``tapshare-site-FESTIVAL``), which may publish only under
``tapshare/v1/FESTIVAL/#``; only its hash is kept in the registry, and the password lives
in the site's configuration (readable by Mosquitto only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlite_utils import Database

import storage
from hub import registry_store
from hub.broker_config import festival_topics, station_acl_lines, write_atomically
from hub.passwords import check_password, hash_password, new_password
from protocol.broker import BrokerURL

#: Messages the site broker keeps per client while it cannot deliver them (the bridge's
#: queue while the link is down): enough for a long outage, bounded so the Pi's disk and
#: memory are too.
DEFAULT_MAX_QUEUED: Final = 200_000
DEFAULT_LISTEN_PORT: Final = 1883
CONFIG_NAME: Final = "tapshare-site.conf"
_PASSWORD_LINE = re.compile(r"^remote_password (\S+)$", re.MULTILINE)


class SiteConfigError(ValueError):
    """The site broker's configuration cannot be written; the message says why."""


@dataclass(frozen=True)
class SiteConfig:
    """What :func:`write_site_config` wrote."""

    password_file: Path
    acl_file: Path
    config_file: Path
    stations: int
    bridge_username: str
    #: True when the bridge got a new password: the hub's broker configuration must be
    #: written again (and the hub's broker reloaded) before the bridge can connect.
    new_bridge_password: bool


def bridge_username(festival_id: str) -> str:
    """The bridge's account on the hub's broker (never clashes: stations' names hold a dot,
    the hub's is ``tapshare-hub``)."""
    return f"tapshare-site-{festival_id}"


def _existing_password(config_file: Path, hashed: str | None) -> str | None:
    # The site's own configuration is the one place the bridge's password is kept; reuse it
    # so that adding a station does not force a reload of the hub's broker.
    if hashed is None or not config_file.exists():
        return None
    found = _PASSWORD_LINE.search(config_file.read_text(errors="replace"))
    if found and check_password(found.group(1), hashed):
        return found.group(1)
    return None


def site_acl_text(db: Database, festival_id: str) -> str:
    """The site broker's ACL: each enabled station of the festival writes its own topics."""
    lines = [
        f"# Written by `tapshare broker-config --site {festival_id}`; write it again instead",
        "# of editing it.",
        "",
    ]
    lines += station_acl_lines(registry_store.broker_station_accounts(db, festival_id))
    return "\n".join(lines)


def site_config_text(
    festival_id: str,
    password_file: Path,
    acl_file: Path,
    hub_broker: BrokerURL,
    password: str,
    listen_port: int,
    max_queued: int,
) -> str:
    """The site broker's configuration: listener, accounts, queue and the bridge."""
    user = bridge_username(festival_id)
    lines = [
        f"# Written by `tapshare broker-config --site {festival_id}`: the site broker of",
        f"# festival {festival_id}. It holds the bridge's password: keep it readable by",
        "# Mosquitto only.",
        f"listener {listen_port}",
        "allow_anonymous false",
        f"password_file {password_file}",
        f"acl_file {acl_file}",
        # Taps waiting for the link survive a restart of the site broker.
        "persistence true",
        "autosave_interval 5",
        # Bounded: a very long outage fills the queue, never the Pi's disk or memory.
        f"max_queued_messages {max_queued}",
        "max_queued_bytes 0",
        "max_inflight_messages 100",
        "",
        f"connection tapshare-hub-{festival_id}",
        f"address {hub_broker.host}:{hub_broker.port}",
        "bridge_protocol_version mqttv311",
        f"remote_clientid {user}",
        f"remote_username {user}",
        f"remote_password {password}",
        # A persistent session on both sides: nothing queued is dropped on a reconnect.
        "cleansession false",
        "notifications false",
        "try_private false",
        "keepalive_interval 30",
        "restart_timeout 1 30",
        f"topic {festival_topics(festival_id)} out 1",
    ]
    if hub_broker.tls:
        lines.append("bridge_capath /etc/ssl/certs")
    return "\n".join(lines) + "\n"


def write_site_config(
    db: Database,
    festival_id: str,
    directory: Path,
    hub_broker: BrokerURL,
    *,
    listen_port: int = DEFAULT_LISTEN_PORT,
    max_queued: int = DEFAULT_MAX_QUEUED,
    rotate_bridge_password: bool = False,
) -> SiteConfig:
    """Write ``passwd``, ``acl`` and ``tapshare-site.conf`` for the festival's site broker
    into ``directory``. The bridge's account is made (or its password renewed) when it has
    none, when its password cannot be found in an earlier ``tapshare-site.conf`` there, or
    when ``rotate_bridge_password``."""
    if registry_store.get_festival(db, festival_id) is None:
        raise SiteConfigError(f"festival {festival_id!r} is not registered")
    if not 1 <= listen_port <= 65535:
        raise SiteConfigError("the listener port must be from 1 to 65535")
    if max_queued < 1:
        raise SiteConfigError("the queue must hold at least 1 message")
    directory.mkdir(parents=True, exist_ok=True)
    directory = directory.resolve()
    paths = (directory / "passwd", directory / "acl", directory / CONFIG_NAME)
    known = {a.festival: a.password_hash for a in registry_store.bridge_accounts(db)}
    password = (
        None if rotate_bridge_password else _existing_password(paths[2], known.get(festival_id))
    )
    renewed = password is None
    if password is None:
        password = new_password()
    # The site's stations only: no hub or bridge account on the site broker.
    stations = registry_store.broker_station_accounts(db, festival_id)
    site_passwd = "".join(f"{a.username}:{a.password_hash}\n" for a in stations)
    write_atomically(paths[0], site_passwd, 0o600)
    write_atomically(paths[1], site_acl_text(db, festival_id), 0o644)
    text = site_config_text(
        festival_id, paths[0], paths[1], hub_broker, password, listen_port, max_queued
    )
    write_atomically(paths[2], text, 0o600)
    if renewed:
        # Kept only once the files are written, so a failure leaves the old account.
        registry_store.set_bridge_account(
            db,
            festival_id,
            bridge_username(festival_id),
            hash_password(password),
            storage.now_text(),
        )
    return SiteConfig(*paths, len(stations), bridge_username(festival_id), renewed)
