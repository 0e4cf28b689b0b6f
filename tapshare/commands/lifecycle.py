"""``tapshare retention`` and ``tapshare backup``: the data's lifecycle."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import click

from hub.lifecycle import BackupError, apply_retention, backup
from tapshare.context import Settings, fail, open_database

#: Databases smaller than this many pages are copied without progress lines.
_PROGRESS_FROM_PAGES = 4 * 4096


@click.command("retention")
@click.pass_obj
def retention_command(settings: Settings) -> None:
    """Remove taps, dead letters and message ids older than each festival's retention
    (`festival set --retain-days`)."""
    with open_database(settings) as db:
        try:
            expired = apply_retention(db, datetime.now(UTC))
        except sqlite3.Error as exc:
            fail(f"retention failed, nothing more was removed: {exc}")
    if not expired:
        click.echo("no festival has a retention period; nothing removed")
    for item in expired:
        click.echo(
            f"festival {item.festival}: removed {item.taps} taps tapped before {item.cutoff} "
            f"(kept {item.retain_days} days; {item.opinions} current opinions ended), "
            f"{item.dead_letters} dead letters and {item.accepted_ids} ids of opinions older "
            "than it"
        )


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def backup_command(settings: Settings, path: Path) -> None:
    """Copy --db to PATH (a new file) consistently while the hub keeps running."""
    if not settings.db.exists():
        fail(f"database {settings.db} does not exist")
    shown = [-1]

    def progress(copied: int, total: int) -> None:
        percent = copied * 100 // max(total, 1)
        if total >= _PROGRESS_FROM_PAGES and percent // 10 != shown[0]:
            shown[0] = percent // 10
            click.echo(f"backup: {percent}% ({copied} of {total} pages)", err=True)

    try:
        pages = backup(settings.db, path, progress)
    except BackupError as exc:
        fail(str(exc))
    click.echo(f"backed up {settings.db} to {path} ({pages} pages)")


COMMANDS = [retention_command, backup_command]
