"""``tapshare screen add|list|revoke``: the keys of a festival's screens."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from tapshare.commands.registry import print_table
from tapshare.context import Settings, open_database, or_fail

T = TypeVar("T")


def _screens(action: Callable[[], T]) -> T:
    from dashboard.screens import ScreenKeyError  # the dashboard loads only when asked for

    return or_fail(action, ScreenKeyError)


@click.group("screen")
def screen_group() -> None:
    """Make, list and revoke the keys that let a festival's screens show its board."""


@screen_group.command("add")
@click.argument("festival_id", metavar="FESTIVAL")
@click.argument("name", metavar="NAME")
@click.pass_obj
def screen_add(settings: Settings, festival_id: str, name: str) -> None:
    """Make a key for screen NAME and print the screen's address, PUBLIC_URL/boards/
    FESTIVAL?key=KEY (shown only this once: only a hash of the key is kept)."""
    from dashboard.screens import add_screen

    with open_database(settings) as db:
        key = _screens(lambda: add_screen(db, festival_id, name))
    click.echo(settings.address(f"/boards/{festival_id}?key={key}"))


@screen_group.command("list")
@click.argument("festival_id", metavar="FESTIVAL")
@click.pass_obj
def screen_list(settings: Settings, festival_id: str) -> None:
    """List a festival's screens and when each key was last used (never the keys)."""
    from dashboard.screens import screens

    with open_database(settings) as db:
        found = _screens(lambda: screens(db, festival_id))
    print_table(
        ("NAME", "MADE", "LAST-USED"),
        [(s.name, s.created_at, s.last_used_at or "never") for s in found],
    )


@screen_group.command("revoke")
@click.argument("festival_id", metavar="FESTIVAL")
@click.argument("name", metavar="NAME")
@click.pass_obj
def screen_revoke(settings: Settings, festival_id: str, name: str) -> None:
    """End the key of screen NAME: it is refused from now on and its open boards close
    within 2 seconds."""
    from dashboard.screens import revoke_screen

    with open_database(settings) as db:
        _screens(lambda: revoke_screen(db, festival_id, name))
    click.echo(f"screen {name} of festival {festival_id} revoked")


COMMANDS = [screen_group]
