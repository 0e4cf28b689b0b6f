"""``tapshare demo`` as a new user runs it: the boards fill, and the festival that shares
nothing never appears on another festival's board — with Mosquitto and with the embedded
broker."""

from __future__ import annotations

import json
import os
import re
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


def _board(port: int, viewer: str, keys: dict[str, str] | None = None) -> dict | None:
    key = (keys or {}).get(viewer)
    query = f"?key={key}" if key else ""
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/v1/boards/{viewer}{query}", timeout=3
        ) as r:
            return json.load(r)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as r:
            return int(r.status)
    except urllib.error.HTTPError as error:
        return error.code


def _screen_keys(text: str, port: int) -> dict[str, str]:
    """The screen keys in the demo's printed screen addresses, by festival."""
    address = rf"http://127\.0\.0\.1:{port}/boards/([a-z0-9-]+)\?key=([A-Za-z0-9_-]{{43,}})"
    return dict(re.findall(address, text))


def _filled(board: dict | None, festival: str) -> bool:
    if board is None:
        return False
    return any(s["festival"] == festival and s["cells"] for s in board["sections"])


@pytest.mark.parametrize("broker", ["mosquitto", "embedded"])
def test_demo_fills_the_boards_and_keeps_the_private_festival_private(broker, tmp_path: Path):
    port = free_port()
    data_dir = tmp_path / "demo"
    argv = [sys.executable, "-m", "tapshare", "demo", "--duration", "20"]
    argv += ["--port", str(port), "--data-dir", str(data_dir)]
    if broker == "embedded":
        argv.append("--embedded-broker")
    env = {**os.environ, "PATH": os.environ.get("PATH", "") + ":/usr/sbin"}
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, b"")))
    reader.start()
    seen_private_elsewhere: list[str] = []
    filled: set[str] = set()
    keys: dict[str, str] = {}
    without_key: int | None = None
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            keys = _screen_keys(b"".join(lines).decode(errors="replace"), port)
            if len(keys) < 3:
                time.sleep(0.2)
                continue
            if without_key is None:  # a festival's board without its key
                without_key = _status(port, "/api/v1/boards/strp")
            boards = {v: _board(port, v, keys) for v in ("public", "strp", "kempen")}
            for viewer, board in boards.items():
                if board is None:
                    continue
                if any(s["festival"] == "baronie" for s in board["sections"]):
                    seen_private_elsewhere.append(viewer)
            own = _board(port, "baronie", keys)
            if _filled(own, "baronie"):
                filled.add("baronie own board")
            if _filled(boards["public"], "strp"):
                filled.add("strp on the public board")
            if _filled(boards["public"], "kempen"):
                filled.add("kempen totals on the public board")
            if _filled(boards["kempen"], "strp"):
                filled.add("strp on kempen's screens")
            time.sleep(0.5)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(10)
    text = b"".join(lines).decode(errors="replace")
    assert process.returncode == 0, text
    assert "Mosquitto" in text if broker == "mosquitto" else "embedded broker" in text
    assert "organiser@strp.example" in text
    assert f"http://127.0.0.1:{port}/boards/public" in text
    assert set(keys) == {"strp", "kempen", "baronie"}, text
    assert without_key == 401
    assert not seen_private_elsewhere
    assert filled == {
        "baronie own board",
        "strp on the public board",
        "kempen totals on the public board",
        "strp on kempen's screens",
    }, text
    # Everything stopped: the dashboard no longer answers.
    assert _board(port, "public") is None


def test_demo_refuses_a_data_dir_that_is_not_empty(tmp_path: Path):
    (tmp_path / "something").write_text("keep me")
    result = subprocess.run(
        [sys.executable, "-m", "tapshare", "demo", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "not an empty directory" in result.stderr
    assert (tmp_path / "something").read_text() == "keep me"
