"""``tapshare demo``: every part of tapshare on embedded defaults."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import click

from tapshare.context import DEFAULT_PUBLIC_URL, Settings, fail, flag_option, number_option


@click.command("demo")
@click.option(
    "--duration",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    help="Stop after this many seconds; 0 runs until Ctrl-C.",
)
@number_option("--port", 8000, (1, 65535), help="Port of the dashboard.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address the dashboard listens on (0.0.0.0: phones on the same network can vote; "
    "give the global --public-url with this machine's address then).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="An empty (or new) directory for the database, broker and stations "
    "(default: a new temporary directory).",
)
@flag_option(
    "--embedded-broker",
    help="Use the embedded MQTT broker (amqtt) even when Mosquitto is installed.",
)
@click.pass_obj
def demo_command(
    settings: Settings,
    duration: float,
    port: int,
    host: str,
    data_dir: Path | None,
    embedded_broker: bool,
) -> None:
    """Start a broker, the hub, the dashboard and simulated stations at three festivals."""
    from tapshare.demo import Demo, DemoError, DemoPlan, check_port_free, prepare_data_dir

    # Printed sticker addresses use --public-url when it is given, else the local port.
    public_url = "" if settings.public_url == DEFAULT_PUBLIC_URL else settings.public_url
    try:
        # Before anything starts or is written: a port in use is one line, no banner.
        check_port_free(host, port)
        plan = DemoPlan(prepare_data_dir(data_dir), port, host, public_url)
    except (DemoError, OSError) as exc:
        fail(str(exc))
    demo = Demo(plan, say=click.echo, prefer_mosquitto=not embedded_broker)

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        demo.run(duration or None)
    except KeyboardInterrupt:
        click.echo("stopping…")
    except DemoError as exc:
        fail(str(exc).splitlines()[0] + f" (logs in {plan.data_dir / 'logs'})")
    click.echo(f"stopped; the demo's data is in {plan.data_dir}")


COMMANDS = [demo_command]
