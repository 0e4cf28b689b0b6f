"""What every ``tapshare`` command shares: the group's settings, failing with one clear line,
and opening the database.

The commands in ``tapshare.commands`` import this module; ``tapshare.cli`` builds the program
from them, so neither imports the other's caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from sqlite_utils import Database

from protocol.broker import BrokerURL
from storage import connect
from tapshare.database import migrate

DEFAULT_BROKER = "mqtt://127.0.0.1:1883"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class CommandError(click.ClickException):
    """Bad arguments or input: one clear line on standard error, exit status 2."""

    exit_code = 2


def fail(message: str) -> NoReturn:
    """Stop the command with a clear one-line error and exit status 2."""
    raise CommandError(message)


def or_fail(action: Callable[[], T], *refusals: type[Exception]) -> T:
    """What ``action`` returns; a refusal (one of ``refusals``: the registry's, a screen
    key's) ends the command with its message and exit status 2."""
    try:
        return action()
    except refusals as exc:
        fail(str(exc))


def flag_option(name: str, help: str) -> Callable[[F], F]:
    """An on/off option, off unless given."""
    return click.option(name, is_flag=True, help=help)


def number_option(
    name: str, default: int, within: tuple[int | None, int | None], help: str, **extra: Any
) -> Callable[[F], F]:
    """A whole-number option ``within`` (lowest, highest; None: no bound), showing its
    default."""
    return click.option(
        name,
        type=click.IntRange(*within),
        default=default,
        show_default=True,
        help=help,
        **extra,
    )


@dataclass(frozen=True)
class Settings:
    """What the group's own options say, passed down to every command."""

    db: Path
    broker: BrokerURL
    broker_given: bool
    public_url: str = DEFAULT_PUBLIC_URL

    def address(self, path: str) -> str:
        """An address of the dashboard as visitors and screens reach it (``--public-url``)."""
        return self.public_url + "/" + path.lstrip("/")


@contextmanager
def open_database(settings: Settings) -> Iterator[Database]:
    """The database of ``--db`` with its schema brought up to date; errors end with exit 2."""
    try:
        migrate(settings.db)
        db = connect(settings.db)
    except Exception as exc:  # sqlite3 errors: not a database, unwritable directory, ...
        fail(f"cannot open database {settings.db}: {exc}")
    try:
        yield db
    finally:
        db.close()
