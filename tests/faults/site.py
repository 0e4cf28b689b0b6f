"""A festival's site broker bridged to a password-protected hub broker, with the hub
running in-process on the hub broker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from hub.broker_config import write_broker_config
from hub.site_broker import CONFIG_NAME, write_site_config
from protocol.broker import parse_broker_url
from storage import connect
from tapshare.mosquitto import Mosquitto, free_port


@dataclass
class Site:
    hub_broker: Mosquitto
    site_broker: Mosquitto
    hub_url: str


def start_site(
    db: Database,
    tmp_path: Path,
    factory: Callable[..., Mosquitto],
    broker_dir: Callable[[], Path],
    festival: str = "strp",
) -> Site:
    """Write both brokers' configuration from the registry and start them."""
    hub_port = free_port()
    hub_dir = broker_dir()
    site_dir = broker_dir()
    site_port = free_port()
    # The site first: it makes the bridge account the hub's broker must know.
    write_site_config(
        db,
        festival,
        site_dir,
        parse_broker_url(f"mqtt://127.0.0.1:{hub_port}"),
        listen_port=site_port,
    )
    written = write_broker_config(db, tmp_path / "hub-conf")
    assert written.hub_password is not None
    hub_broker = factory(
        port=hub_port,
        directory=hub_dir,
        password_file=written.password_file,
        acl_file=written.acl_file,
    )
    site_broker = factory(port=site_port, directory=site_dir, config_file=site_dir / CONFIG_NAME)
    return Site(
        hub_broker,
        site_broker,
        f"mqtt://tapshare-hub:{written.hub_password}@127.0.0.1:{hub_port}",
    )


def stored(db_path: Path, festival: str = "strp") -> tuple[int, int, int]:
    """(taps, distinct tap ids, dead letters) of the festival."""
    db = connect(db_path)
    try:
        taps, ids, letters = db.conn.execute(
            "SELECT (SELECT count(*) FROM taps WHERE festival = ?), "
            "(SELECT count(DISTINCT id) FROM taps WHERE festival = ?), "
            "(SELECT count(*) FROM dead_letters)",
            (festival, festival),
        ).fetchone()
        return taps, ids, letters
    finally:
        db.close()
