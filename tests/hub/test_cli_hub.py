"""tapshare dead-letters and tapshare hub's argument checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hub import write_path
from tapshare.cli import cli

NOW = datetime(2026, 5, 1, 21, 0, tzinfo=UTC)


def test_dead_letters_are_json_lines_newest_first(runner, db, db_path):
    items = [
        write_path.StoreRejection(
            f"tapshare/v1/x/y/{n}", "unknown_topic", "d", b"p%d" % n, NOW + timedelta(seconds=n)
        )
        for n in range(3)
    ]
    items.append(
        write_path.StoreRejection("t", "not_utf8", "d", b"\xff", NOW + timedelta(seconds=9))
    )
    write_path.write_batch(db, items, {})
    result = runner.invoke(cli, ["--db", str(db_path), "dead-letters", "--limit", "3"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["topic"] for line in lines] == ["t", "tapshare/v1/x/y/2", "tapshare/v1/x/y/1"]
    assert {"received_at", "topic", "reason"} <= set(lines[0])
    assert lines[0]["payload_hex"] == "ff" and lines[1]["payload"] == "p2"
    bad = runner.invoke(cli, ["--db", str(db_path), "dead-letters", "--limit", "0"])
    assert bad.exit_code == 2


def test_hub_refuses_a_ca_file_without_tls(runner, db_path, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    result = runner.invoke(cli, ["--db", str(db_path), "hub", "--ca-file", str(ca)])
    assert result.exit_code == 2
    assert "mqtts://" in result.stderr
