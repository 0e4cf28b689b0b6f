"""``tapshare tag``: NFC stickers (and printed QR codes) at artworks, for phones."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
import segno
from sqlite_utils import Database

from hub import stickers
from hub.stickers import Sticker
from tapshare.commands.registry import print_table, registry_action
from tapshare.context import Settings, fail, flag_option, open_database

F = TypeVar("F", bound=Callable[..., Any])


def sticker_url(settings: Settings, sticker: Sticker, params: dict[str, str] | None = None) -> str:
    """The sticker's address under ``--public-url``: with a tap's message, with SDM
    placeholders, or plain."""
    return stickers.address(settings.public_url, sticker, params)


def _found(db: Database, festival_id: str, tag: str) -> Sticker:
    found = stickers.get(db, festival_id, tag)
    if found is None:
        fail(f"sticker {tag!r} is not registered for festival {festival_id!r}")
    return found


def sticker_arguments(command: F) -> F:
    """The FESTIVAL and TAG arguments every ``tag`` command but ``list`` takes."""
    command = click.argument("tag", metavar="TAG")(command)
    return click.argument("festival_id", metavar="FESTIVAL")(command)


@click.group("tag")
def tag_group() -> None:
    """NFC stickers and printed QR codes at artworks, for visitors' phones."""


@tag_group.command("add")
@sticker_arguments
@click.option("--artwork", required=True, help="The artwork the sticker stands at.")
@click.option("--choice", help="A fixed choice the page asks to confirm (default: it asks).")
@flag_option(
    "--static", help="A plain sticker or printed QR code: no keys, anyone with the link can vote."
)
@click.pass_obj
def tag_add(
    settings: Settings, festival_id: str, tag: str, artwork: str, choice: str | None, static: bool
) -> None:
    """Register a sticker; print its address and keys for a tag-writing app as JSON."""
    with open_database(settings) as db:
        sticker = registry_action(
            lambda: stickers.add(db, festival_id, tag, artwork, choice, static=static)
        )
    body = stickers.writing_details(settings.public_url, sticker)
    click.echo(json.dumps(body, ensure_ascii=False))


@tag_group.command("list")
@click.argument("festival_id", metavar="FESTIVAL")
@click.pass_obj
def tag_list(settings: Settings, festival_id: str) -> None:
    """List a festival's stickers (never their keys)."""
    with open_database(settings) as db:
        found = registry_action(lambda: stickers.list_stickers(db, festival_id))
    rows = [
        (
            s.id,
            s.artwork,
            s.choice or "-",
            "static" if s.static else "sdm",
            "yes" if s.enabled else "no",
            "-" if s.last_counter is None else s.last_counter,
        )
        for s in found
    ]
    print_table(("TAG", "ARTWORK", "CHOICE", "KIND", "ENABLED", "LAST-COUNTER"), rows)


@tag_group.command("disable")
@sticker_arguments
@click.pass_obj
def tag_disable(settings: Settings, festival_id: str, tag: str) -> None:
    """Disable a sticker: its taps are refused from now on."""
    with open_database(settings) as db:
        registry_action(lambda: stickers.disable(db, festival_id, tag))
    click.echo(f"sticker {festival_id}/{tag} disabled")


@tag_group.command("qr")
@sticker_arguments
@click.pass_obj
def tag_qr(settings: Settings, festival_id: str, tag: str) -> None:
    """Print an SVG QR code of a static sticker's address (to print and put up)."""
    with open_database(settings) as db:
        sticker = _found(db, festival_id, tag)
    if not sticker.static:
        # A printed code is one fixed address: it can never carry a fresh tap.
        fail(f"sticker {tag!r} is an SDM sticker; a QR code needs one added with --static")
    code = segno.make(sticker_url(settings, sticker), error="m")
    out = io.BytesIO()
    code.save(out, kind="svg", scale=8, border=4, xmldecl=False, title=f"{festival_id} {tag}")
    click.echo(out.getvalue().decode())


@tag_group.command("tap")
@sticker_arguments
@click.pass_obj
def tag_tap(settings: Settings, festival_id: str, tag: str) -> None:
    """Testing aid: print the address a fresh tap on the sticker would open."""
    with open_database(settings) as db:
        sticker = _found(db, festival_id, tag)
        picc_data, cmac = registry_action(lambda: stickers.simulated_tap(db, festival_id, tag))
    click.echo(sticker_url(settings, sticker, {"picc_data": picc_data, "cmac": cmac}))


COMMANDS = [tag_group]
