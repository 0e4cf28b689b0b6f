"""``tapshare demo`` as an operator meets it: a port in use is one line before anything
starts, the database path the README's tour uses is printed, a stopped station leaves the
demo running (its board says the station is offline), and no password of the demo's is
on any command line that `ps` shows."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tapshare.mosquitto import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.broker]
DEMO = [sys.executable, "-m", "tapshare", "demo"]


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": os.environ.get("PATH", "") + ":/usr/sbin"}


def test_a_port_in_use_is_one_line_before_anything_starts(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data_dir = tmp_path / "demo"
        result = subprocess.run(
            [*DEMO, "--port", str(port), "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stdout == ""  # no banner, no data directory line
    assert result.stderr.splitlines() == [
        f"tapshare: error: port {port} on 127.0.0.1 is in use (Address already in use): "
        "stop what uses it, or give another with --port"
    ]
    assert not data_dir.exists()  # nothing was written


def _children(pid: int) -> list[int]:
    """Every descendant process of ``pid``."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The parent pid is the 2nd field after the command name in parentheses.
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
                todo.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _environ(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().replace(b"\0", b"\n").decode()
    except OSError:
        return ""


def _page(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return str(response.read().decode())
    except (urllib.error.URLError, OSError):
        return ""


def test_the_demo_prints_its_database_survives_a_stopped_station_and_hides_passwords(
    tmp_path: Path,
):
    port = free_port()
    data_dir = tmp_path / "demo"
    argv = [*DEMO, "--duration", "40", "--port", str(port), "--data-dir", str(data_dir)]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_env())
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, b"")))
    reader.start()

    def output() -> str:
        return b"".join(lines).decode(errors="replace")

    command_lines: dict[int, str] = {}
    secrets: set[str] = set()
    offline_shown = False
    try:
        deadline = time.monotonic() + 60
        while "stations online: 8/8" not in output() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "stations online: 8/8" in output(), output()
        children = _children(process.pid)
        command_lines = {pid: _cmdline(pid) for pid in children}
        # The passwords the demo's parts hold: the organisers' logins it printed, the
        # hub's and the dashboard's broker passwords (in their environment), the
        # stations' (in their station.toml files).
        secrets |= set(re.findall(r"@[a-z]+\.example / (\S+)", output()))
        for pid in children:
            for url in re.findall(r"TAPSHARE_BROKER=(\S+)", _environ(pid)):
                secrets.add(url.split("://", 1)[1].split("@")[0].split(":", 1)[1])
        for config in (data_dir / "stations").glob("*.toml"):
            url = re.search(r'broker = "mqtt://([^"]+)@', config.read_text())
            assert url is not None
            secrets.add(url.group(1).split(":", 1)[1])
        station = next(pid for pid, line in command_lines.items() if "strp-hall-a.toml" in line)
        os.kill(station, signal.SIGKILL)
        key = re.search(rf"127\.0\.0\.1:{port}/boards/strp\?key=(\S+)", output())
        assert key is not None
        board = f"http://127.0.0.1:{port}/boards/strp?key={key.group(1)}"
        while time.monotonic() < deadline and process.poll() is None:
            if "1 station offline (hall-a)" in _page(board):
                offline_shown = True
                break
            time.sleep(0.5)
        time.sleep(2)  # the demo goes on after the station stopped
        assert process.poll() is None, output()
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(10)
    text = output()
    database = re.search(r"^database \(for --db\): (\S+)$", text, re.MULTILINE)
    assert database is not None, text
    assert Path(database.group(1)) == data_dir / "tapshare.db"
    assert (data_dir / "tapshare.db").is_file()
    assert "station strp-hall-a stopped" in text and "shows it offline" in text
    assert offline_shown, text
    assert len(secrets) >= 3 + 2 + 5, secrets  # 3 logins, hub and web, 5 stations
    assert len(command_lines) >= 1 + 1 + 1 + 5  # broker, hub, dashboard, stations
    for pid, line in command_lines.items():
        for secret in secrets:
            assert secret not in line, (pid, line)
