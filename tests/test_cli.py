"""The command line: group options, errors as one line with exit status 2."""

import subprocess
import sys

from tapshare import __version__
from tapshare.cli import cli


def test_help_and_version(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "--db" in result.output and "--broker" in result.output
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_bad_broker_url_is_one_line_and_exit_2():
    result = subprocess.run(
        [sys.executable, "-m", "tapshare", "--broker", "http://x", "festival"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("tapshare: error:")
    assert "mqtt://" in result.stderr


def test_unknown_command_is_exit_2(runner):
    result = runner.invoke(cli, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output


def test_public_url_is_checked_and_reaches_commands():
    import click
    from click.testing import CliRunner

    from tapshare.context import Settings

    for bad in ("ftp://x", "127.0.0.1:8000", "https://", "https://x/?a=1"):
        result = subprocess.run(
            [sys.executable, "-m", "tapshare", "--public-url", bad, "festival"],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 2, bad
        assert result.stderr.startswith("tapshare: error:") and "--public-url" in result.stderr
    captured: list[Settings] = []

    @cli.command("_capture", hidden=True)
    @click.pass_obj
    def _capture(settings: Settings) -> None:
        captured.append(settings)

    try:
        result = CliRunner().invoke(cli, ["--public-url", "https://fest.example.org/", "_capture"])
        assert result.exit_code == 0, result.output
        assert captured[0].address("/boards/strp") == "https://fest.example.org/boards/strp"
        result = CliRunner(env={"TAPSHARE_PUBLIC_URL": "http://10.0.0.5:8000"}).invoke(
            cli, ["_capture"]
        )
        assert captured[1].public_url == "http://10.0.0.5:8000"
    finally:
        cli.commands.pop("_capture")
