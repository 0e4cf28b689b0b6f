"""``tapshare policy``: every command against a real database.

The festivals are registered in the hub's real registry; the policies, versions and
logs are real too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from consent.boards import build_board
from consent.store import PolicyStore
from hub import registry
from hub.opinions import HubOpinions
from storage import connect
from tapshare.cli import cli
from tapshare.database import migrate

NETWORK = {
    "rules": [
        {
            "effect": "permit",
            "to": "network",
            "action": "analyse",
            "level": "artwork",
            "min_visitors": 1,
        }
    ]
}


@pytest.fixture(autouse=True)
def festivals(db_path: Path) -> None:
    migrate(db_path)
    db = connect(db_path)
    try:
        registry.add_festival(db, "strp", "STRP")
        registry.add_artwork(db, "strp", "aw-1", "Cloud")
        registry.add_festival(db, "dd", "Dutch Design Week")
        registry.add_festival(db, "glow", "GLOW", ("yes", "no"))
        registry.set_festival(db, "glow", board_min_visitors=3)
    finally:
        db.close()


def run(runner: CliRunner, db: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["--db", str(db), "policy", *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, data: object, name: str = "policy.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def current_version(db_path: Path, festival: str) -> int:
    migrate(db_path)  # a command that failed early may not have created the database
    db = connect(db_path)
    try:
        return PolicyStore(db).current(festival).version
    finally:
        db.close()


def test_set_show_history_diff(runner: CliRunner, db_path: Path, tmp_path: Path) -> None:
    args = ["--reason", "share", "--author", "ann@strp.nl"]
    code, out, err = run(runner, db_path, "set", "strp", write(tmp_path, NETWORK), *args)
    assert code == 0, err
    assert out.strip() == "strp: policy version 1 set by ann@strp.nl"
    code, out, _ = run(runner, db_path, "show", "strp")
    assert json.loads(out) == {"rules": [{**NETWORK["rules"][0], "delay_minutes": 0}]}
    # what show prints, set accepts as it is; being unchanged, it makes no version
    code, again, _ = run(runner, db_path, "set", "strp", "-", "--author", "bob", input=out)
    assert code == 0 and again.strip() == "strp: the policy is unchanged; still version 1"
    assert (
        run(runner, db_path, "set", "strp", "-", "--author", "bob", input='{"rules": []}')[0] == 0
    )
    code, out, _ = run(runner, db_path, "history", "strp")
    lines = out.splitlines()
    assert len(lines) == 2
    assert "ann@strp.nl" in lines[0] and "share" in lines[0] and "bob" in lines[1]
    code, out, _ = run(runner, db_path, "history", "strp", "--diff", "0", "1")
    assert out.splitlines()[0] == "policy of strp: version 0 -> version 1"
    assert "+ added    permit network analyse" in out
    code, out, _ = run(runner, db_path, "show", "strp", "--version", "0")
    assert json.loads(out) == {"rules": []}


def test_show_odrl(runner: CliRunner, db_path: Path, tmp_path: Path) -> None:
    run(runner, db_path, "set", "strp", write(tmp_path, NETWORK), "--author", "ann")
    code, out, _ = run(runner, db_path, "show", "strp", "--odrl")
    doc = json.loads(out)
    assert code == 0 and doc["uid"] == "urn:tapshare:policy:strp:1"
    assert doc["permission"][0]["assignee"] == "urn:tapshare:network"
    assert doc["permission"][0]["action"] == "read"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (
            {"rules": [{"effect": "permit", "to": "festival:nope", "action": "display"}]},
            "unknown festival 'nope'",
        ),
        ({"rules": [NETWORK["rules"][0], NETWORK["rules"][0]]}, "rules 1 and 2"),
        (
            {
                "rules": [
                    {"effect": "prohibit", "to": "public", "action": "display", "min_visitors": 3}
                ]
            },
            "rule 1",
        ),
        ([], "JSON object"),
        # Deeper than the JSON parser's stack, and deep though parseable.
        ('{"rules": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested more than 8 levels"),
        ('{"rules": [{"to": ' + "[" * 500 + "]" * 500 + "}]}", "nested more than 8 levels"),
    ],
)
def test_bad_files_exit_2_with_one_line_and_change_nothing(
    runner: CliRunner, db_path: Path, tmp_path: Path, content: object, words: str
) -> None:
    run(runner, db_path, "set", "strp", write(tmp_path, NETWORK, "good.json"), "--author", "ann")
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    code, out, err = run(runner, db_path, "set", "strp", str(path), "--author", "mallory")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err
    assert current_version(db_path, "strp") == 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["set", "nope", "FILE"], "unknown festival 'nope'"),
        (["set", "strp", "missing.json"], "no such file"),
        (["set", "strp", "FILE", "--author", " "], "--author"),
        (["show", "strp", "--version", "9"], "no policy version 9"),
        (["show", "strp", "--version", "-1"], "--version"),
        (["history", "strp", "--diff", "0", "5"], "no policy version 5"),
        (["access-log", "strp", "--limit", "0"], "--limit"),
        (["receipt", "strp", "--version", "3"], "no policy version 3"),
        (["explain", "nope"], "unknown festival"),
        (["explain", "strp", "--lang", "fr"], "'fr' is not one of 'en', 'nl'"),
    ],
)
def test_bad_arguments(
    runner: CliRunner, db_path: Path, tmp_path: Path, args: list[str], words: str
) -> None:
    args = [write(tmp_path, NETWORK) if a == "FILE" else a for a in args]
    code, _, err = run(runner, db_path, *args)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert current_version(db_path, "strp") == 0


def test_dry_run_and_warnings(runner: CliRunner, db_path: Path, tmp_path: Path) -> None:
    risky = {
        "rules": [
            {"effect": "permit", "to": "public", "action": "display", "min_visitors": 5},
            {
                "effect": "permit",
                "to": "network",
                "action": "display",
                "level": "artwork",
                "min_visitors": 10,
            },
        ]
    }
    code, out, err = run(runner, db_path, "set", "strp", write(tmp_path, risky), "--dry-run")
    assert code == 0 and "nothing stored" in out and err.startswith("warning: ")
    assert current_version(db_path, "strp") == 0


def test_access_log_receipt_explain(runner: CliRunner, db_path: Path, tmp_path: Path) -> None:
    run(runner, db_path, "set", "strp", write(tmp_path, NETWORK), "--author", "ann")
    code, out, _ = run(runner, db_path, "access-log", "strp")
    assert code == 0 and "nobody else" in out
    db = connect(db_path)
    now = datetime.now(UTC)
    build_board(
        HubOpinions(db), PolicyStore(db), "festival:dd", "analyse", now, accessor="eve@dd.nl"
    )
    db.close()
    code, out, _ = run(runner, db_path, "access-log", "strp")
    assert "eve@dd.nl  as festival:dd  analyse  policy version 1" in out
    code, out, _ = run(runner, db_path, "receipt", "strp")
    record = json.loads(out)
    assert record["state"] == "active" and record["recipients"] == ["urn:tapshare:network"]
    code, out, _ = run(runner, db_path, "explain", "glow")
    assert out.splitlines()[0] == (
        "Your opinion is counted on GLOW's own screens once at least 3 visitors have given "
        "an opinion on an artwork."
    )
    assert "GLOW shares your opinions with no one else." in out.splitlines()
    code, out, _ = run(runner, db_path, "explain", "glow", "--lang", "nl")
    assert code == 0 and "GLOW deelt je meningen met niemand anders." in out.splitlines()
    code, out, _ = run(runner, db_path, "history", "glow")
    assert "shares nothing" in out
