"""Mosquitto's password file and ACL, written from the registry.

Each enabled station may publish only under its own ``tapshare/v1/FESTIVAL/STATION/#`` and
read nothing; the hub's own account may read everything under ``tapshare/`` and publish
nothing; the dashboard's account ``tapshare-web`` may publish only the festivals' web
stations' topics ``tapshare/v1/+/web/#`` (votes from phones); nobody else may connect. The
hub's and the dashboard's accounts are made on first use: each password is returned once and
only its hash is kept.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlite_utils import Database

import storage
from hub import registry_store
from hub.models import WEB_STATION
from hub.passwords import hash_password, new_password
from hub.registry_store import BrokerAccount
from protocol.topics import HUB_SUBSCRIPTION, station_filter

#: The hub's broker username (stations' names always contain a dot, so they never clash).
HUB_USERNAME: Final = "tapshare-hub"
HUB_ROLE: Final = "hub"
#: The dashboard's broker username: it publishes votes from phones as the web stations.
WEB_USERNAME: Final = "tapshare-web"
WEB_ROLE: Final = "web"

#: Broker settings tapshare relies on, written next to the password file and ACL.
_BROKER_SETTINGS: Final = (
    "allow_anonymous false",
    "persistence true",
    # Messages sent to the hub but not yet acknowledged. The hub acknowledges a batch only
    # after committing it, so the window must hold the batch being written, the next ones
    # being validated and what arrives meanwhile, or the broker pauses between batches.
    # It is also the most the hub holds in memory (10,000 messages of at most 2 KiB).
    "max_inflight_messages 10000",
    # Mosquitto's stock queue limit (1000) drops QoS 1 messages silently while the hub is
    # away or behind; tapshare needs every one.
    "max_queued_messages 0",
    "max_queued_bytes 0",
)


@dataclass(frozen=True)
class BrokerConfig:
    """What :func:`write_broker_config` wrote, and the hub's new password if it made one."""

    password_file: Path
    acl_file: Path
    config_file: Path
    stations: int
    hub_password: str | None
    web_password: str | None = None


def password_file_text(
    db: Database, hub_account: BrokerAccount | None, web_account: BrokerAccount | None = None
) -> str:
    """The password file: the hub's and the dashboard's accounts, every site broker's bridge
    and every enabled station's."""
    accounts = [a for a in (hub_account, web_account) if a is not None]
    accounts += registry_store.bridge_accounts(db) + registry_store.broker_station_accounts(db)
    return "".join(f"{a.username}:{a.password_hash}\n" for a in accounts)


def acl_text(
    db: Database, hub_account: BrokerAccount | None, web_account: BrokerAccount | None = None
) -> str:
    """The ACL: the hub reads all of tapshare/, the dashboard writes the web stations'
    topics, each station writes under its own topics, each site broker's bridge under its
    festival's."""
    lines = [
        "# Written by `tapshare broker-config` from the hub's registry; write it again",
        "# instead of editing it.",
        "",
    ]
    if hub_account is not None:
        lines += [f"user {hub_account.username}", f"topic read {HUB_SUBSCRIPTION}", ""]
    if web_account is not None:
        web_topics = station_filter("+", WEB_STATION)
        lines += [f"user {web_account.username}", f"topic write {web_topics}", ""]
    for bridge in registry_store.bridge_accounts(db):
        # A site broker forwards its own festival's messages, and nothing else.
        topics = festival_topics(bridge.festival or "")
        lines += [f"user {bridge.username}", f"topic write {topics}", ""]
    lines += station_acl_lines(registry_store.broker_station_accounts(db))
    return "\n".join(lines)


def festival_topics(festival_id: str) -> str:
    """The topic filter of everything a festival's stations publish."""
    return f"tapshare/v1/{festival_id}/#"


def write_atomically(path: Path, text: str, mode: int) -> None:
    """Replace ``path`` with ``text`` whole (a reader sees the old file or the new one)."""
    _write_atomically(path, text, mode)


def config_text(password_file: Path, acl_file: Path) -> str:
    """A Mosquitto configuration fragment that uses the two files."""
    return "\n".join(
        [
            "# Written by `tapshare broker-config`: include it in mosquitto.conf.",
            f"password_file {password_file}",
            f"acl_file {acl_file}",
            *_BROKER_SETTINGS,
            "",
        ]
    )


def _write_atomically(path: Path, text: str, mode: int) -> None:
    # A broker reloading at any moment sees the old file or the new one, never half of it.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def station_acl_lines(stations: list[BrokerAccount]) -> list[str]:
    """The ACL lines that let each station write its own topics, and nothing else."""
    lines: list[str] = []
    for account in stations:
        topics = station_filter(account.festival or "", account.station or "")
        lines += [f"user {account.username}", f"topic write {topics}", ""]
    return lines


def _service_account(
    db: Database, role: str, username: str, rotate: bool
) -> tuple[BrokerAccount, str | None]:
    """The account of a service (hub or dashboard), and its password when made anew."""
    account = registry_store.broker_account(db, role)
    if account is not None and not rotate:
        return account, None
    password = new_password()
    return BrokerAccount(username, hash_password(password)), password


def write_broker_config(
    db: Database,
    directory: Path,
    rotate_hub_password: bool = False,
    rotate_web_password: bool = False,
) -> BrokerConfig:
    """Write ``passwd``, ``acl`` and ``tapshare.conf`` into ``directory`` (created if
    missing). The hub's and the dashboard's accounts are made when missing, or given new
    passwords when asked; new passwords are in the result, and nowhere else."""
    directory.mkdir(parents=True, exist_ok=True)
    directory = directory.resolve()
    account, password = _service_account(db, HUB_ROLE, HUB_USERNAME, rotate_hub_password)
    web, web_password = _service_account(db, WEB_ROLE, WEB_USERNAME, rotate_web_password)
    paths = (directory / "passwd", directory / "acl", directory / "tapshare.conf")
    _write_atomically(paths[0], password_file_text(db, account, web), 0o600)
    _write_atomically(paths[1], acl_text(db, account, web), 0o644)
    _write_atomically(paths[2], config_text(paths[0], paths[1]), 0o644)
    # Kept only once the files are written, so a failure leaves the old accounts.
    if password is not None:
        registry_store.set_broker_account(db, HUB_ROLE, account, storage.now_text())
    if web_password is not None:
        registry_store.set_broker_account(db, WEB_ROLE, web, storage.now_text())
    stations = len(registry_store.broker_station_accounts(db))
    return BrokerConfig(*paths, stations=stations, hub_password=password, web_password=web_password)
