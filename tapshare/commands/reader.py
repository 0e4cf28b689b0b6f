"""``tapshare reader``: run a station from its station.toml."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from types import FrameType

import click

from reader_agent.agent import Station
from reader_agent.outbox import OutboxError
from reader_agent.settings import SettingsError, load_settings
from tapshare.context import fail


@click.command("reader")
@click.option(
    "--config",
    "config",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The station's station.toml (see docs/station.md).",
)
def reader_command(config: Path) -> None:
    """Run a station: read taps, keep them in the outbox, publish them to the broker.

    Stops cleanly on SIGTERM and SIGINT, closing every NFC reader. The broker is the one
    in the file; the program's --broker option is not used.
    """
    try:
        settings = load_settings(config)
    except SettingsError as exc:
        fail(str(exc))
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if config.stat().st_mode & 0o004:
        logging.getLogger("reader_agent").warning(
            "%s is readable by every user of this machine and holds the station's secrets: "
            "chmod o-r it",
            config,
        )
    try:
        station = Station(settings)
    except (OutboxError, ValueError) as exc:
        fail(str(exc))

    def on_signal(number: int, frame: FrameType | None) -> None:
        logging.getLogger("reader_agent").info("%s received: stopping", signal.Signals(number).name)
        station.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    status = station.run()
    if station.fatal:
        fail(station.fatal)
    if status:
        raise SystemExit(status)


COMMANDS = [reader_command]
