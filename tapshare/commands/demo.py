"""``tapshare demo``: every part of tapshare on embedded defaults."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import click

from tapshare.context import fail


@click.command("demo")
@click.option(
    "--duration",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    help="Stop after this many seconds; 0 runs until Ctrl-C.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8000,
    show_default=True,
    help="Port of the dashboard on 127.0.0.1.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="An empty (or new) directory for the database, broker and stations "
    "(default: a new temporary directory).",
)
@click.option(
    "--embedded-broker",
    is_flag=True,
    help="Use the embedded MQTT broker (amqtt) even when Mosquitto is installed.",
)
def demo_command(duration: float, port: int, data_dir: Path | None, embedded_broker: bool) -> None:
    """Start a broker, the hub, the dashboard and simulated stations at three festivals."""
    from tapshare.demo import Demo, DemoError, DemoPlan, prepare_data_dir

    try:
        plan = DemoPlan(prepare_data_dir(data_dir), port)
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
