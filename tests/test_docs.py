"""The command reference is kept true: ``docs/cli.md`` documents every command of the
``tapshare`` program, and each command's section names every one of its options."""

from __future__ import annotations

import re
from pathlib import Path

import click

from tapshare.cli import cli

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "cli.md"


def _commands(group: click.Group, prefix: str = "tapshare") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        if command.hidden:
            continue
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


def _options(command: click.Command) -> list[str]:
    return [
        opt
        for param in command.params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--") and opt != "--help"
    ]


def sections(text: str) -> dict[str, str]:
    """The reference's text by top-level command (``tapshare hub``), from its heading
    ``### `tapshare hub``` to the next heading; the program's own options are under
    ``tapshare``, everything before ``## Commands``."""
    head, _, rest = text.partition("\n## Commands")
    found = {"tapshare": head}
    for match in re.finditer(r"^### `(tapshare [a-z-]+)`\n(.*?)(?=^#{1,3} |\Z)", rest, re.S | re.M):
        found[match.group(1)] = match.group(0)
    return found


def undocumented(group: click.Group, text: str) -> list[str]:
    """Commands without a mention, and options missing from their command's section."""
    by_command = sections(text)
    missing: list[str] = []
    for path, command in [("tapshare", group), *_commands(group)]:
        top = " ".join(path.split()[:2])
        section = by_command.get(top)
        if section is None:
            missing.append(f"{top}: no section")
            continue
        if path != "tapshare" and path not in section:
            missing.append(path)
        missing += [f"{path} {opt}" for opt in _options(command) if opt not in section]
    return sorted(set(missing))


def test_every_command_and_option_is_in_the_reference():
    assert undocumented(cli, REFERENCE.read_text()) == []


def test_the_check_finds_what_is_missing():
    @click.group()
    @click.option("--db")
    def program() -> None:
        """A program."""

    @program.command("hub")
    @click.option("--client-id")
    @click.option("--ca-file")
    def hub() -> None:
        """Run."""

    @program.command("backup")
    def backup() -> None:
        """Copy."""

    text = (
        "# The command\n\n`--db`\n\n## Commands\n\n"
        "### `tapshare hub`\n\n`tapshare hub --client-id ID`\n\n"
        "### `tapshare policy`\n\n`--ca-file` is documented here, under another command.\n"
    )
    assert undocumented(program, text) == ["tapshare backup: no section", "tapshare hub --ca-file"]


def test_every_command_has_help_text():
    missing = [path for path, command in _commands(cli) if not (command.help or "").strip()]
    assert not missing, f"commands without help: {missing}"
