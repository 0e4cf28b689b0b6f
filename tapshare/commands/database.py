"""``tapshare migrate``: bring the database schema up to date."""

from __future__ import annotations

import click

from tapshare.context import Settings, fail
from tapshare.database import migrate


@click.command("migrate")
@click.pass_obj
def migrate_command(settings: Settings) -> None:
    """Apply pending schema migrations to --db (the hub also does this at start)."""
    try:
        applied = migrate(settings.db)
    except Exception as exc:  # sqlite3 errors on a file that is not a database, say
        fail(f"cannot migrate {settings.db}: {exc}")
    if applied:
        for name in applied:
            click.echo(f"applied {name}")
    else:
        click.echo("schema is up to date")


COMMANDS = [migrate_command]
