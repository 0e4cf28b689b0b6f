"""``tapshare festival|artwork|station``: the registry of festivals, artworks and stations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import click
from sqlite_utils import Database

from hub import queries, registry, registry_store, retention_store
from hub.registry import RegistryError
from tapshare.context import Settings, fail, open_database, or_fail

T = TypeVar("T")


def registry_action(action: Callable[[], T]) -> T:
    """Run a registry change; a refusal ends the command with its message and exit status 2."""
    return or_fail(action, RegistryError)


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows as aligned columns under a header."""
    texts = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in texts) for i in range(len(header))]
    for row in texts:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


@click.group("festival")
def festival_group() -> None:
    """Register festivals and change their settings."""


@festival_group.command("add")
@click.argument("festival_id", metavar="ID")
@click.option("--name", required=True, help="The festival's name as boards show it.")
@click.option(
    "--choices",
    metavar="a,b,c",
    help="Comma-separated choices visitors can give (default love,like,meh,dislike).",
)
@click.pass_obj
def festival_add(settings: Settings, festival_id: str, name: str, choices: str | None) -> None:
    """Register a festival and create its visitor key."""
    picked = registry.parse_choices(choices) if choices is not None else None
    with open_database(settings) as db:
        festival = registry_action(lambda: registry.add_festival(db, festival_id, name, picked))
    click.echo(f"festival {festival.id} registered with choices {','.join(festival.choices)}")


@festival_group.command("set")
@click.argument("festival_id", metavar="ID")
@click.option("--name", help="A new name.")
@click.option(
    "--board-min-visitors",
    type=int,
    metavar="K",
    help="Fewest visitors a cell needs on the festival's own boards (default 1).",
)
@click.option(
    "--retain-days",
    type=int,
    metavar="N",
    help="Remove taps older than N days (0: keep them forever, the default).",
)
@click.option(
    "--timezone",
    metavar="ZONE",
    help="The IANA time zone its pages and explanations give times in (default Europe/Amsterdam).",
)
@click.pass_obj
def festival_set(
    settings: Settings,
    festival_id: str,
    name: str | None,
    board_min_visitors: int | None,
    retain_days: int | None,
    timezone: str | None,
) -> None:
    """Change a festival's name, its own boards' minimum visitors per cell, how long its
    taps are kept or its time zone."""
    if name is None and board_min_visitors is None and retain_days is None and timezone is None:
        fail(
            "nothing to change: give --name, --board-min-visitors, --retain-days and/or --timezone"
        )
    with open_database(settings) as db:
        festival = registry_action(
            lambda: registry.set_festival(
                db, festival_id, name, board_min_visitors, retain_days, timezone
            )
        )
        days = retention_store.festival_retain_days(db, festival.id)
    kept = f"taps kept {days} days" if days else "taps kept forever"
    click.echo(
        f"festival {festival.id}: name {festival.name!r}, "
        f"board minimum {festival.board_min_visitors} visitors, {kept}, "
        f"time zone {festival.timezone}"
    )


@festival_group.command("list")
@click.pass_obj
def festival_list(settings: Settings) -> None:
    """List the registered festivals."""
    with open_database(settings) as db:
        retention = {r.festival: r.days for r in retention_store.festival_retentions(db)}
        rows = [
            (
                f.id,
                f.name,
                ",".join(f.choices),
                f.board_min_visitors,
                retention.get(f.id, "-"),
                f.timezone,
            )
            for f in registry_store.list_festivals(db)
        ]
    print_table(("ID", "NAME", "CHOICES", "BOARD-MIN", "RETAIN-DAYS", "TIMEZONE"), rows)


@click.group("artwork")
def artwork_group() -> None:
    """Register a festival's artworks."""


@artwork_group.command("add")
@click.argument("festival_id", metavar="FESTIVAL")
@click.argument("artwork_id", metavar="ID")
@click.option("--title", required=True, help="The artwork's title as boards show it.")
@click.pass_obj
def artwork_add(settings: Settings, festival_id: str, artwork_id: str, title: str) -> None:
    """Register an artwork of a festival."""
    with open_database(settings) as db:
        artwork = registry_action(lambda: registry.add_artwork(db, festival_id, artwork_id, title))
    click.echo(f"artwork {artwork.id} registered for festival {artwork.festival}")


def _registered(db: Database, festival_id: str) -> None:
    """Stop with a clear error unless the festival is registered."""
    if registry_store.get_festival(db, festival_id) is None:
        fail(f"festival {festival_id!r} is not registered")


@artwork_group.command("list")
@click.argument("festival_id", metavar="FESTIVAL")
@click.pass_obj
def artwork_list(settings: Settings, festival_id: str) -> None:
    """List a festival's artworks."""
    with open_database(settings) as db:
        _registered(db, festival_id)
        rows = [(a.id, a.title) for a in registry_store.list_artworks(db, festival_id)]
    print_table(("ID", "TITLE"), rows)


@click.group("station")
def station_group() -> None:
    """Register stations, disable them and watch their health."""


@station_group.command("add")
@click.argument("festival_id", metavar="FESTIVAL")
@click.argument("station_id", metavar="STATION")
@click.option(
    "--outbox",
    default=registry.DEFAULT_OUTBOX,
    show_default=True,
    help="Path of the station's outbox database written into station.toml.",
)
@click.pass_obj
def station_add(settings: Settings, festival_id: str, station_id: str, outbox: str) -> None:
    """Register a station and print its station.toml (keep it secret: it holds the
    station's keys and broker password, which are shown only this once)."""
    with open_database(settings) as db:
        text = registry_action(
            lambda: registry.add_station_file(db, festival_id, station_id, settings.broker, outbox)
        )
    click.echo(text, nl=False)


@station_group.command("disable")
@click.argument("festival_id", metavar="FESTIVAL")
@click.argument("station_id", metavar="STATION")
@click.pass_obj
def station_disable(settings: Settings, festival_id: str, station_id: str) -> None:
    """Disable a station: the hub rejects its messages from now on."""
    with open_database(settings) as db:
        registry_action(lambda: registry.disable_station(db, festival_id, station_id))
    click.echo(
        f"station {station_id} of festival {festival_id} disabled; run "
        "`tapshare broker-config` again to shut it out of the broker too"
    )


@station_group.command("list")
@click.argument("festival_id", metavar="[FESTIVAL]", required=False)
@click.pass_obj
def station_list(settings: Settings, festival_id: str | None) -> None:
    """List a festival's stations (every festival's, without FESTIVAL) with their health."""
    with open_database(settings) as db:
        if festival_id is not None:
            _registered(db, festival_id)
            chosen = [festival_id]
        else:
            chosen = [f.id for f in registry_store.list_festivals(db)]
        health = [s for festival in chosen for s in queries.stations(db, festival)]
    rows = []
    for s in health:
        readers_ok = sum(1 for r in s.readers if r.get("ok"))
        rows.append(
            (
                *([s.festival] if festival_id is None else []),
                s.station,
                "yes" if s.enabled else "no",
                s.state,
                s.last_seen or "-",
                "-" if s.outbox is None else f"{s.outbox}{' FULL' if s.outbox_full else ''}",
                f"{readers_ok}/{len(s.readers)}" if s.readers else "-",
                s.version or "-",
            )
        )
    every = ("FESTIVAL",) if festival_id is None else ()
    columns = ("STATION", "ENABLED", "STATE", "LAST-SEEN", "OUTBOX", "READERS", "VERSION")
    print_table((*every, *columns), rows)


COMMANDS = [festival_group, artwork_group, station_group]
