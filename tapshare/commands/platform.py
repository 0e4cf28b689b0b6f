"""``tapshare platform-key``: keys that let urban data platforms read as the viewer
``platform`` (see docs/api.md, "NGSI-LD")."""

from __future__ import annotations

import click

from hub import registry
from tapshare.commands.registry import print_table, registry_action
from tapshare.context import Settings, open_database


@click.group("platform-key")
def platform_key_group() -> None:
    """Keys of urban data platforms, which read the NGSI-LD API as the viewer platform."""


@platform_key_group.command("add")
@click.argument("name")
@click.pass_obj
def platform_key_add(settings: Settings, name: str) -> None:
    """Make a platform key and print it, once, on one line (only its hash is kept)."""
    with open_database(settings) as db:
        key = registry_action(lambda: registry.add_platform_key(db, name))
    click.echo(key)


@platform_key_group.command("list")
@click.pass_obj
def platform_key_list(settings: Settings) -> None:
    """List the platform keys: name, when made, when last used (never the key)."""
    with open_database(settings) as db:
        rows = [(k.name, k.created_at, k.last_used_at or "-") for k in registry.platform_keys(db)]
    print_table(("NAME", "CREATED", "LAST-USED"), rows)


@platform_key_group.command("revoke")
@click.argument("name")
@click.pass_obj
def platform_key_revoke(settings: Settings, name: str) -> None:
    """End a platform key: requests with it are refused from now on."""
    with open_database(settings) as db:
        registry_action(lambda: registry.revoke_platform_key(db, name))
    click.echo(f"platform key {name} revoked")


COMMANDS = [platform_key_group]
