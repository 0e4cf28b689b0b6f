"""``tapshare reader``: refusals at start, and a clear stop on bad credentials."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from tapshare.cli import cli
from tapshare.mosquitto import Mosquitto
from tests.reader_agent.conftest import station_toml

READER = {"device": "sim:rate=1", "artwork": "aw-1", "choice": "love"}


def test_unknown_key_is_refused_with_exit_2(runner: CliRunner, tmp_path: Path):
    config = tmp_path / "station.toml"
    config.write_text(station_toml("mqtt://127.0.0.1:9", tmp_path / "o.db", [READER], colur=1))
    result = runner.invoke(cli, ["reader", "--config", str(config)])
    assert result.exit_code == 2
    assert "unknown key 'colur'" in result.output and str(config) in result.output
    assert not (tmp_path / "o.db").exists()  # nothing was created


def test_missing_file_and_missing_option(runner: CliRunner, tmp_path: Path):
    result = runner.invoke(cli, ["reader", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2 and "no such file" in result.output
    result = runner.invoke(cli, ["reader"])
    assert result.exit_code == 2 and "--config" in result.output


def test_an_outbox_that_cannot_be_opened(runner: CliRunner, tmp_path: Path):
    (tmp_path / "o.db").write_bytes(b"not a database at all" * 100)
    config = tmp_path / "station.toml"
    config.write_text(station_toml("mqtt://127.0.0.1:9", tmp_path / "o.db", [READER]))
    result = runner.invoke(cli, ["reader", "--config", str(config)])
    assert result.exit_code == 2 and "cannot open the outbox" in result.output


def test_bad_credentials_stop_the_station(mosquitto_factory, tmp_path: Path):
    passwords = tmp_path / "passwd"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), "strp.st-01", "right"], check=True
    )
    broker: Mosquitto = mosquitto_factory(password_file=passwords)
    config = tmp_path / "station.toml"
    url = f"mqtt://strp.st-01:wrong@{broker.host}:{broker.port}"
    config.write_text(station_toml(url, tmp_path / "o.db", [READER]))
    result = subprocess.run(
        [sys.executable, "-m", "tapshare", "reader", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("tapshare: error:") and "refused this station's credentials" in last
    assert "wrong" not in result.stderr  # the password is never printed
