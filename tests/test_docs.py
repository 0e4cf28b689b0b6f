"""The documentation is kept true: every command of the ``tapshare`` program is documented."""

from pathlib import Path

import click

from tapshare.cli import cli

ROOT = Path(__file__).resolve().parent.parent


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


def _documentation() -> str:
    texts = [(ROOT / "README.md").read_text()]
    texts += [page.read_text() for page in sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(texts)


def test_every_command_is_documented():
    docs = _documentation()
    missing = [path for path, _ in _commands(cli) if path not in docs]
    assert not missing, f"undocumented commands: {missing}"


def test_every_option_is_documented():
    docs = _documentation()
    missing = []
    for path, command in [("tapshare", cli), *_commands(cli)]:
        for param in command.params:
            if isinstance(param, click.Option):
                for opt in param.opts:
                    if opt.startswith("--") and opt not in ("--help",) and opt not in docs:
                        missing.append(f"{path} {opt}")
    assert not missing, f"undocumented options: {missing}"


def test_every_command_has_help_text():
    missing = [path for path, command in _commands(cli) if not (command.help or "").strip()]
    assert not missing, f"commands without help: {missing}"
