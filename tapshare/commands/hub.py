"""``tapshare hub``, ``tapshare broker-config`` and ``tapshare dead-letters``."""

from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from hub import queries
from hub.broker_config import HUB_USERNAME, write_broker_config
from hub.ingest import BrokerAuthError, Hub
from tapshare.cli import Settings, fail, open_database
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
    except BrokerAuthError as exc:
        fail(str(exc))


@click.command("broker-config")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write passwd, acl and tapshare.conf into.",
)
@click.option(
    "--rotate-hub-password",
    is_flag=True,
    help="Give the hub's broker account a new password (printed once).",
)
@click.pass_obj
def broker_config_command(settings: Settings, out: Path, rotate_hub_password: bool) -> None:
    """Write Mosquitto's password file and ACL from the registry."""
    with open_database(settings) as db:
        try:
            written = write_broker_config(db, out, rotate_hub_password)
        except OSError as exc:
            fail(f"cannot write the broker configuration into {out}: {exc}")
    click.echo(f"wrote {written.password_file}, {written.acl_file} and {written.config_file}")
    click.echo(f"accounts: the hub ({HUB_USERNAME}) and {written.stations} enabled station(s)")
    if written.hub_password is not None:
        click.echo(
            f"the hub's broker password (shown only now; only its hash is kept): "
            f"{written.hub_password}"
        )
        click.echo(
            f"run the hub with --broker mqtt://{HUB_USERNAME}:{written.hub_password}@HOST:PORT"
        )
    click.echo("reload Mosquitto (SIGHUP) for the change to take effect")


@click.command("dead-letters")
@click.option(
    "--limit",
    type=click.IntRange(1, 100_000),
    default=20,
    show_default=True,
    help="How many of the latest dead letters to print.",
)
@click.pass_obj
def dead_letters_command(settings: Settings, limit: int) -> None:
    """Print the latest rejected messages, newest first, as JSON lines."""
    with open_database(settings) as db:
        letters = queries.dead_letters(db, limit)
    for letter in letters:
        click.echo(json.dumps(letter.as_json(), ensure_ascii=False))


COMMANDS = [hub_command, broker_config_command, dead_letters_command]
