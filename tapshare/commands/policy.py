"""``tapshare policy``: set, show and audit festivals' sharing policies."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlite_utils import Database

from consent.boards import policy_warnings
from consent.odrl import to_odrl
from consent.plain import LANGUAGES, explain
from consent.policy import Policy, PolicyError, format_time, load_json
from consent.receipts import receipt
from consent.sources import FestivalInfo, OpinionSource
from consent.store import PolicyStore, PolicyVersion
from hub.opinions import HubOpinions
from tapshare.context import Settings, fail, number_option, open_database

MAX_POLICY_BYTES = 1_000_000


def opinion_source(db: Database) -> OpinionSource:
    """The hub's registry and counts, as the consent layer reads them."""
    source: OpinionSource = HubOpinions(db)
    return source


@contextmanager
def _policies(
    settings: Settings, festival_id: str
) -> Iterator[tuple[PolicyStore, FestivalInfo, dict[str, FestivalInfo]]]:
    with open_database(settings) as db:
        festivals = {info.id: info for info in opinion_source(db).festivals()}
        if festival_id not in festivals:
            fail(f"unknown festival {festival_id!r} (see tapshare festival add)")
        yield PolicyStore(db), festivals[festival_id], festivals


def _version(store: PolicyStore, festival_id: str, number: int | None) -> PolicyVersion:
    if number is None:
        return store.current(festival_id)
    if number < 0:
        fail(f"--version must be 0 or more, not {number}")
    try:
        return store.version(festival_id, number)
    except LookupError as exc:
        fail(str(exc))


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _read_policy_file(file: str) -> object:
    try:
        if file == "-":
            text = sys.stdin.read(MAX_POLICY_BYTES + 1)
        else:
            path = Path(file)
            if path.is_dir():
                fail(f"{file} is a directory, not a policy file")
            with path.open("rb") as handle:
                raw = handle.read(MAX_POLICY_BYTES + 1)
            text = raw.decode("utf-8")
    except FileNotFoundError:
        fail(f"no such file: {file}")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    if len(text) > MAX_POLICY_BYTES:
        fail(f"{file} is larger than {MAX_POLICY_BYTES} bytes; a policy is a short JSON file")
    try:
        return load_json(text)
    except PolicyError as exc:
        fail(f"{file}: {exc}")


@click.group("policy")
def policy_group() -> None:
    """Set, show and audit a festival's sharing policy (see docs/policies.md)."""


@policy_group.command("set")
@click.argument("festival_id", metavar="FESTIVAL")
@click.argument("file", metavar="FILE")
@click.option(
    "--reason", default="", metavar="TEXT", help="Why the policy changes (kept in the history)."
)
@click.option("--author", metavar="NAME", help="Who changes it (default: your user name).")
@click.option("--dry-run", is_flag=True, help="Check the file and show warnings; store nothing.")
@click.pass_obj
def policy_set(
    settings: Settings, festival_id: str, file: str, reason: str, author: str | None, dry_run: bool
) -> None:
    """Replace the festival's policy with the JSON file FILE ({"rules": [...]}; - for stdin).

    A policy that decides exactly what the current version decides makes no new version.
    """
    data = _read_policy_file(file)
    who = author if author is not None else _user()
    if not who.strip():
        fail("--author must not be empty")
    with _policies(settings, festival_id) as (store, _, festivals):
        try:
            policy = Policy.checked(data, festivals)
            before = store.current(festival_id).version
            if not dry_run:
                version = store.set(festival_id, policy, who, reason, festivals)
        except PolicyError as exc:
            fail(f"policy refused: {exc}")
    if dry_run:
        click.echo(
            f"{festival_id}: the policy is valid ({len(policy.rules)} rules); nothing stored"
        )
    elif version.version == before:
        click.echo(f"{festival_id}: the policy is unchanged; still version {before}")
    else:
        click.echo(f"{festival_id}: policy version {version.version} set by {version.author}")
    for warning in policy_warnings(policy, festival_id):
        click.echo(f"warning: {warning}", err=True)


_version_option = click.option(
    "--version",
    "number",
    type=int,
    metavar="N",
    help="A stored version instead of the current one.",
)


@policy_group.command("show")
@click.argument("festival_id", metavar="FESTIVAL")
@click.option("--odrl", is_flag=True, help="Print ODRL 2.2 JSON-LD instead of the policy file.")
@_version_option
@click.pass_obj
def policy_show(settings: Settings, festival_id: str, odrl: bool, number: int | None) -> None:
    """Print the festival's current policy (or version N) as a policy file or as ODRL."""
    with _policies(settings, festival_id) as (store, _, _):
        version = _version(store, festival_id, number)
    _echo_json(to_odrl(festival_id, version) if odrl else version.policy.wire())


@policy_group.command("history")
@click.argument("festival_id", metavar="FESTIVAL")
@click.option(
    "--diff", nargs=2, type=int, metavar="A B", help="Show what changed from version A to B."
)
@click.pass_obj
def policy_history(settings: Settings, festival_id: str, diff: tuple[int, int] | None) -> None:
    """List every version of the festival's policy, or the changes between two."""
    with _policies(settings, festival_id) as (store, _, _):
        if diff:
            try:
                click.echo(store.diff(festival_id, *diff))
            except LookupError as exc:
                fail(str(exc))
            return
        versions = store.history(festival_id)
    if not versions:
        click.echo(f"{festival_id} has set no policy: it shares nothing (version 0)")
        return
    for version in versions:
        when = version.created_at.strftime("%Y-%m-%dT%H:%M:%SZ") if version.created_at else "-"
        reason = f"  {version.reason}" if version.reason else ""
        click.echo(
            f"{version.version:>4}  {when}  {version.author}  "
            f"{len(version.policy.rules)} rules{reason}"
        )


@policy_group.command("access-log")
@click.argument("festival_id", metavar="FESTIVAL")
@number_option("--limit", 50, (1, None), help="How many entries to show.", metavar="N")
@click.pass_obj
def policy_access_log(settings: Settings, festival_id: str, limit: int) -> None:
    """Show the latest analyse and export reads of the festival's data by others."""
    with _policies(settings, festival_id) as (store, _, _):
        records = store.access_log(festival_id, limit)
    if not records:
        click.echo(f"nobody else has analysed or exported {festival_id}'s data")
    for record in records:
        click.echo(
            f"{format_time(record.at)}  {record.accessor}  as {record.viewer}  "
            f"{record.action}  policy version {record.policy_version}"
        )


@policy_group.command("receipt")
@click.argument("festival_id", metavar="FESTIVAL")
@_version_option
@click.pass_obj
def policy_receipt(settings: Settings, festival_id: str, number: int | None) -> None:
    """Print the consent receipt (JSON, after ISO/IEC TS 27560) of a policy version."""
    with _policies(settings, festival_id) as (store, festival, _):
        version = _version(store, festival_id, number)
        current = store.current(festival_id).version
    _echo_json(receipt(festival, version, current=current))


@policy_group.command("explain")
@click.argument("festival_id", metavar="FESTIVAL")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=LANGUAGES[0],
    show_default=True,
    help="The language of the sentences (times are in the festival's time zone).",
)
@click.pass_obj
def policy_explain(settings: Settings, festival_id: str, lang: str) -> None:
    """Explain the festival's current policy in sentences a visitor understands."""
    with _policies(settings, festival_id) as (store, festival, festivals):
        policy = store.current(festival_id).policy
    names = {info.id: info.name for info in festivals.values()}
    for line in explain(festival, policy, names, lang=lang):
        click.echo(line)


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in a bare container
        return "unknown"


COMMANDS = [policy_group]
