"""The ``tapshare`` command: one program for the hub, the dashboard, stations and the demo."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from protocol.broker import BrokerURL, parse_broker_url
from tapshare import __version__
from tapshare.commands import (
    dashboard,
    database,
    demo,
    hub,
    lifecycle,
    platform,
    policy,
    posters,
    reader,
    registry,
    screens,
    tags,
)
from tapshare.context import DEFAULT_BROKER, DEFAULT_PUBLIC_URL, Settings


class TapshareGroup(click.Group):
    """A click group whose errors are one line on standard error and exit status 2."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(
                args, prog_name or "tapshare", complete_var, standalone_mode=False, **extra
            )
        except click.exceptions.Exit as stop:
            sys.exit(stop.exit_code)
        except click.ClickException as error:
            click.echo(f"tapshare: error: {error.format_message()}", err=True)
            sys.exit(2)
        except click.Abort:
            click.echo("tapshare: aborted", err=True)
            sys.exit(130)
        if isinstance(result, int) and standalone_mode:
            sys.exit(result)
        return result


def _broker(ctx: click.Context, param: click.Parameter, value: str | None) -> BrokerURL:
    try:
        return parse_broker_url(value or DEFAULT_BROKER)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def _public_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    url = (value or DEFAULT_PUBLIC_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(
            f"must be an http:// or https:// address with a host, not {value!r}",
            ctx=ctx,
            param=param,
        )
    if parts.query or parts.fragment:
        raise click.BadParameter("must have no query or fragment", ctx=ctx, param=param)
    return url


@click.group(cls=TapshareGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("tapshare.db"),
    envvar="TAPSHARE_DB",
    show_default=True,
    help="SQLite database of the hub and dashboard (env TAPSHARE_DB).",
)
@click.option(
    "--broker",
    callback=_broker,
    envvar="TAPSHARE_BROKER",
    metavar="URL",
    help=f"MQTT broker, mqtt://[user:pass@]host[:port] or mqtts://… "
    f"(env TAPSHARE_BROKER; default {DEFAULT_BROKER}).",
)
@click.option(
    "--public-url",
    callback=_public_url,
    envvar="TAPSHARE_PUBLIC_URL",
    metavar="URL",
    help="The dashboard's address as visitors and screens reach it, used in every address "
    f"a command prints (env TAPSHARE_PUBLIC_URL; default {DEFAULT_PUBLIC_URL}).",
)
@click.version_option(__version__, "--version", prog_name="tapshare")
@click.pass_context
def cli(ctx: click.Context, db: Path, broker: BrokerURL, public_url: str) -> None:
    """tapshare: visitors tap to share opinions on artworks; each festival decides
    precisely and revocably who may see its visitors' opinions."""
    source = ctx.get_parameter_source("broker")
    given = source is not None and source.name != "DEFAULT"
    ctx.obj = Settings(db=db, broker=broker, broker_given=given, public_url=public_url)


def main() -> None:
    """Entry point of the ``tapshare`` console script."""
    cli.main(prog_name="tapshare")


# Every command of the program, module by module; a new module of commands is added here.
COMMANDS: list[click.Command] = [
    *dashboard.COMMANDS,
    *database.COMMANDS,
    *demo.COMMANDS,
    *hub.COMMANDS,
    *lifecycle.COMMANDS,
    *platform.COMMANDS,
    *policy.COMMANDS,
    *posters.COMMANDS,
    *reader.COMMANDS,
    *registry.COMMANDS,
    *screens.COMMANDS,
    *tags.COMMANDS,
]
for _command in COMMANDS:
    cli.add_command(_command)
