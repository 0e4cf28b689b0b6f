"""``tapshare organiser add|list|remove`` and ``tapshare dashboard``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from hub import registry
from storage import connect
from tapshare.cli import cli
from tapshare.database import migrate
from tests.harness.mqtt import wait_for


def _festival(db_path: Path) -> None:
    migrate(db_path)
    db = connect(db_path)
    registry.add_festival(db, "strp", "STRP")
    db.close()


def test_organiser_add_reads_the_password_from_stdin(runner, db_path):
    _festival(db_path)
    result = runner.invoke(
        cli,
        ["--db", str(db_path), "organiser", "add", "strp", "Ann@Example.org"],
        input="a good long password\n",
    )
    assert result.exit_code == 0, result.output
    assert "created the account ann@example.org for strp" in result.output
    db = connect(db_path)
    row = next(db["dashboard_organisers"].rows)
    assert row["email"] == "ann@example.org" and row["password_hash"].startswith("scrypt$")
    assert "a good long password" not in json.dumps(row)


def test_organiser_add_refuses_bad_input_and_writes_nothing(runner, db_path):
    _festival(db_path)
    cases = [
        (
            ["organiser", "add", "nope", "ann@example.org"],
            "long enough password\n",
            "unknown festival: nope",
        ),
        (["organiser", "add", "strp", "ann@example.org"], "", "no password"),
        (["organiser", "add", "strp", "ann@example.org"], "short\n", "at least"),
        (["organiser", "add", "strp", "not-an-email"], "long enough password\n", "not an email"),
    ]
    for args, stdin, message in cases:
        result = runner.invoke(cli, ["--db", str(db_path), *args], input=stdin)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, result.output
    assert connect(db_path)["dashboard_organisers"].count == 0


def test_organiser_list_and_remove(runner, db_path):
    _festival(db_path)
    base = ["--db", str(db_path), "organiser"]
    for email in ("ann@example.org", "bob@example.org"):
        added = runner.invoke(cli, [*base, "add", "strp", email], input="long enough password\n")
        assert added.exit_code == 0, added.output
    listing = runner.invoke(cli, [*base, "list", "strp"]).output.splitlines()
    assert [line.split()[0] for line in listing] == ["EMAIL", "ann@example.org", "bob@example.org"]
    result = runner.invoke(cli, [*base, "remove", "strp", "Ann@Example.org"])
    assert result.exit_code == 0 and "ann@example.org no longer manages strp" in result.output
    again = runner.invoke(cli, [*base, "remove", "strp", "ann@example.org"])
    assert again.exit_code == 2 and "does not manage strp" in again.output
    last = runner.invoke(cli, [*base, "remove", "strp", "bob@example.org"])
    assert last.exit_code == 2 and "only organiser of strp" in last.output
    unknown = runner.invoke(cli, [*base, "list", "nope"])
    assert unknown.exit_code == 2 and "unknown festival: nope" in unknown.output
    listing = runner.invoke(cli, [*base, "list", "strp"]).output.splitlines()
    assert [line.split()[0] for line in listing] == ["EMAIL", "bob@example.org"]


def test_the_dashboard_command_serves_the_api(db_path, tmp_path):
    _festival(db_path)
    env = dict(os.environ, TAPSHARE_DB=str(db_path))
    process = subprocess.Popen(
        [sys.executable, "-m", "tapshare", "dashboard", "--port", "0", "--threads", "60"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "tapshare dashboard on http://127.0.0.1:" in line, line
        url = line.split(" on ")[1].split()[0]
        body = {}

        def answered() -> bool:
            nonlocal body
            with urllib.request.urlopen(url + "api/v1/festivals", timeout=5) as response:
                body = json.load(response)
            return True

        assert wait_for(answered, timeout=10)
        assert body["festivals"][0]["id"] == "strp"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_dashboard_command_refuses_a_port_in_use(runner, db_path):
    import socket

    _festival(db_path)
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        result = runner.invoke(cli, ["--db", str(db_path), "dashboard", "--port", str(port)])
    finally:
        busy.close()
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_the_dashboard_command_trusts_the_proxy_named_in_its_environment(db_path):
    import re
    import urllib.error
    import urllib.parse

    from dashboard.accounts import MAX_FAILURES_PER_ADDRESS

    _festival(db_path)
    env = dict(os.environ, TAPSHARE_DB=str(db_path), TAPSHARE_TRUSTED_PROXY="127.0.0.1")
    command = [sys.executable, "-m", "tapshare", "dashboard", "--port", "0", "--threads", "60"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "trusting x-forwarded-for, x-forwarded-proto from 127.0.0.1" in line, line
        url = line.split(" on ")[1].split()[0]

        def attempt(n: int) -> tuple[int, str]:
            # One login as a browser behind the proxy makes it: page, then form.
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
            headers = {"X-Forwarded-For": "203.0.113.9"}
            page = opener.open(urllib.request.Request(url + "organiser/login", headers=headers))
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())
            assert token
            form = {"email": f"guess{n}@example.org", "password": "wrong"}
            data = urllib.parse.urlencode({**form, "csrf_token": token.group(1)}).encode()
            request = urllib.request.Request(url + "organiser/login", data, headers)
            try:
                opener.open(request)
            except urllib.error.HTTPError as error:
                return error.code, error.read().decode()
            return 200, ""

        assert wait_for(lambda: attempt(0)[0] == 401, timeout=10)
        for n in range(1, MAX_FAILURES_PER_ADDRESS):
            assert attempt(n)[0] == 401
        status, html = attempt(99)
        assert status == 429 and "from your address (203.0.113.9)" in html
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--trusted-proxy", "proxy.example"], "must be the proxy's IP address"),
        (["--trusted-proxy", "10.0.0.1", "--trusted-proxy-headers", "x-real-ip"], "unknown header"),
        (["--trusted-proxy", "10.0.0.1", "--trusted-proxy-headers", ","], "unknown header"),
        (
            ["--trusted-proxy", "10.0.0.1", "--trusted-proxy-headers", "forwarded,x-forwarded-for"],
            "cannot be combined",
        ),
        (["--trusted-proxy-headers", "x-forwarded-for"], "needs --trusted-proxy"),
        (["--trusted-proxy", "10.0.0.1", "--dev"], "leave out --dev"),
        (["--password-checks", "0"], "--password-checks"),
    ],
)
def test_the_dashboard_command_refuses_bad_proxy_and_check_settings(runner, db_path, args, words):
    result = runner.invoke(cli, ["--db", str(db_path), "dashboard", "--port", "0", *args])
    assert result.exit_code == 2
    assert words in result.output
    assert len(result.output.strip().splitlines()) == 1
