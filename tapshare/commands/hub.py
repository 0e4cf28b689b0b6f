"""``tapshare hub``, ``tapshare broker-config`` and ``tapshare dead-letters``."""

from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from hub import health_store
from hub.broker_config import HUB_USERNAME, WEB_USERNAME, write_broker_config
from hub.ingest import BrokerAuthError, Hub, WriterError
from hub.site_broker import (
    DEFAULT_LISTEN_PORT,
    DEFAULT_MAX_QUEUED,
    SiteConfigError,
    write_site_config,
)
from tapshare.context import Settings, fail, flag_option, number_option, open_database
from tapshare.database import migrate


@click.command("hub")
@click.option(
    "--client-id",
    default="tapshare-hub",
    show_default=True,
    help="MQTT client id; the broker keeps the hub's queued messages under it.",
)
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CA certificate to verify an mqtts:// broker with (default: the system's).",
)
@click.pass_obj
def hub_command(settings: Settings, client_id: str, ca_file: Path | None) -> None:
    """Run the ingest service: store every opinion from --broker in --db, exactly once."""
    if ca_file is not None and not settings.broker.tls:
        fail("--ca-file is only used with an mqtts:// broker")
    try:
        migrate(settings.db)
    except Exception as exc:  # sqlite3 errors: not a database, unwritable directory, ...
        fail(f"cannot open database {settings.db}: {exc}")
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    hub = Hub(settings.db, settings.broker, client_id, ca_file=ca_file)

    def stop(signum: int, frame: FrameType | None) -> None:
        hub.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        hub.run()
    except (BrokerAuthError, WriterError) as exc:
        fail(str(exc))


@click.command("broker-config")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write passwd, acl and tapshare.conf (or tapshare-site.conf) into.",
)
@flag_option(
    "--rotate-hub-password", help="Give the hub's broker account a new password (printed once)."
)
@flag_option(
    "--rotate-web-password",
    help="Give the dashboard's broker account (tapshare-web) a new password (printed once).",
)
@click.option(
    "--site",
    metavar="FESTIVAL",
    help="Write the configuration of FESTIVAL's site broker instead, bridged to --broker.",
)
@number_option(
    "--listen-port",
    DEFAULT_LISTEN_PORT,
    (1, 65535),
    help="With --site: the port the site broker listens on for stations.",
)
@number_option(
    "--max-queued",
    DEFAULT_MAX_QUEUED,
    (1, 100_000_000),
    help="With --site: most messages the site broker queues while the hub is unreachable.",
)
@flag_option(
    "--rotate-bridge-password", help="With --site: give the bridge's account a new password."
)
@click.pass_context
def broker_config_command(
    ctx: click.Context,
    out: Path,
    rotate_hub_password: bool,
    rotate_web_password: bool,
    site: str | None,
    listen_port: int,
    max_queued: int,
    rotate_bridge_password: bool,
) -> None:
    """Write Mosquitto's password file and ACL from the registry (with --site: a
    festival's site broker, bridged to the hub's)."""
    settings: Settings = ctx.obj
    if site is not None:
        if rotate_hub_password or rotate_web_password:
            fail(
                "--rotate-hub-password and --rotate-web-password are for the hub's broker; "
                "leave out --site"
            )
        _site_config(settings, site, out, listen_port, max_queued, rotate_bridge_password)
        return
    for name in ("listen_port", "max_queued", "rotate_bridge_password"):
        source = ctx.get_parameter_source(name)
        if source is not None and source.name != "DEFAULT":
            fail(f"--{name.replace('_', '-')} needs --site")
    with open_database(settings) as db:
        try:
            written = write_broker_config(db, out, rotate_hub_password, rotate_web_password)
        except OSError as exc:
            fail(f"cannot write the broker configuration into {out}: {exc}")
    click.echo(f"wrote {written.password_file}, {written.acl_file} and {written.config_file}")
    click.echo(
        f"accounts: the hub ({HUB_USERNAME}), the dashboard ({WEB_USERNAME}) and "
        f"{written.stations} enabled station(s)"
    )
    if written.hub_password is not None:
        click.echo(
            f"the hub's broker password (shown only now; only its hash is kept): "
            f"{written.hub_password}"
        )
        click.echo(
            f"run the hub with --broker mqtt://{HUB_USERNAME}:{written.hub_password}@HOST:PORT"
        )
    if written.web_password is not None:
        click.echo(
            f"the dashboard's broker password (shown only now; only its hash is kept): "
            f"{written.web_password}"
        )
        click.echo(
            "run the dashboard with "
            f"--broker mqtt://{WEB_USERNAME}:{written.web_password}@HOST:PORT"
        )
    click.echo("reload Mosquitto (SIGHUP) for the change to take effect")


def _site_config(
    settings: Settings, festival: str, out: Path, port: int, max_queued: int, rotate: bool
) -> None:
    if not settings.broker_given:
        fail("give the hub's broker with --broker (the site broker bridges to it)")
    with open_database(settings) as db:
        try:
            written = write_site_config(
                db,
                festival,
                out,
                settings.broker,
                listen_port=port,
                max_queued=max_queued,
                rotate_bridge_password=rotate,
            )
        except SiteConfigError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot write the site broker's configuration into {out}: {exc}")
    click.echo(f"wrote {written.password_file}, {written.acl_file} and {written.config_file}")
    click.echo(
        f"site broker of {festival}: {written.stations} enabled station(s) on port {port}, "
        f"bridged to {settings.broker.redacted()} as {written.bridge_username}"
    )
    if written.new_bridge_password:
        click.echo(
            "the bridge has a new password: write the hub's broker configuration again "
            "(tapshare broker-config --out DIR) and reload the hub's Mosquitto"
        )
    click.echo("reload the site's Mosquitto (SIGHUP) for the change to take effect")


@click.command("dead-letters")
@number_option("--limit", 20, (1, 100_000), help="How many of the latest dead letters to print.")
@click.pass_obj
def dead_letters_command(settings: Settings, limit: int) -> None:
    """Print the latest rejected messages, newest first, as JSON lines."""
    with open_database(settings) as db:
        letters = health_store.list_dead_letters(db, limit)
    for letter in letters:
        click.echo(json.dumps(letter.as_json(), ensure_ascii=False))


COMMANDS = [hub_command, broker_config_command, dead_letters_command]
