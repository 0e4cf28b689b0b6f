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
