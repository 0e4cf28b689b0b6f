"""Broken input files: station.toml for `tapshare reader`, policy files for `tapshare
policy set`. Each gives exit status 2 and one line on standard error, and changes
nothing: no outbox is created, the policy stays as it was."""

from __future__ import annotations

import pytest

from consent.store import PolicyStore
from hub.registry import station_toml
from protocol.broker import parse_broker_url
from tapshare.cli import cli

GOOD_READER = '\n[[readers]]\ndevice = "sim:rate=1"\nartwork = "aw-1"\nchoice = "love"\n'


def one_line_error(result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    # Our own refusals, or click's for a path that is not a readable file.
    assert lines[0].startswith(("tapshare: error: ", "Error: ")), lines
    return lines[0]


def station_variants(base: str) -> dict[str, bytes]:
    """Ways a station.toml goes wrong, from the station's own valid file."""
    lines = base.splitlines()

    def without(key: str) -> str:
        return "\n".join(line for line in lines if not line.startswith(f"{key} ")) + "\n"

    def replaced(key: str, value: str) -> str:
        return (
            "\n".join(f"{key} = {value}" if line.startswith(f"{key} ") else line for line in lines)
            + "\n"
        )

    return {
        "empty": b"",
        "binary": bytes(range(256)),
        "latin-1": "festival = 'caf\xe9'\n".encode("latin-1"),
        "not toml": b"festival: strp\nstation: st-01\n",
        "unclosed string": (base + 'extra = "oops\n').encode(),
        "truncated": base.encode()[: len(base) // 2],
        "no readers": base.encode(),
        "no festival": (without("festival") + GOOD_READER).encode(),
        "no secret": (without("station_secret") + GOOD_READER).encode(),
        "short secret": (replaced("station_secret", '"abcd"') + GOOD_READER).encode(),
        "secret is a number": (replaced("station_secret", "12") + GOOD_READER).encode(),
        "bad festival slug": (replaced("festival", '"STRP!"') + GOOD_READER).encode(),
        "bad broker": (replaced("broker", '"http://x"') + GOOD_READER).encode(),
        "unknown key": (base + "colour = 'red'\n" + GOOD_READER).encode(),
        "reader without device": (
            base + '\n[[readers]]\nartwork = "aw-1"\nchoice = "love"\n'
        ).encode(),
        "reader with bad sim": (base + GOOD_READER.replace("rate=1", "rate=fast")).encode(),
        "reader with choice and erase": (base + GOOD_READER + 'action = "erase"\n').encode(),
        "readers is a string": (base + 'readers = "sim:"\n').encode(),
    }


@pytest.fixture
def station_base(registered, tmp_path) -> str:
    return station_toml(
        registered.st1, parse_broker_url("mqtt://127.0.0.1:9"), str(tmp_path / "outbox.db")
    )


def test_broken_station_toml_exit_2_one_line_nothing_created(station_base, tmp_path, runner):
    # The valid file itself (with a reader) is accepted as far as its settings go.
    for name, content in station_variants(station_base).items():
        config = tmp_path / "station.toml"
        config.write_bytes(content)
        result = runner.invoke(cli, ["reader", "--config", str(config)])
        line = one_line_error(result)
        assert "Traceback" not in line, name
        assert not (tmp_path / "outbox.db").exists(), name


def test_missing_or_unreadable_station_toml(tmp_path, runner):
    for path in (tmp_path / "absent.toml", tmp_path):
        one_line_error(runner.invoke(cli, ["reader", "--config", str(path)]))


POLICIES = {
    "empty": b"",
    "binary": b"\x00\xff\xfe",
    "not json": b"rules: []",
    "truncated": b'{"rules": [{"effect": "permit"',
    "not an object": b"[]",
    "rules not a list": b'{"rules": {}}',
    "unknown effect": b'{"rules": [{"effect": "maybe", "to": "public", "action": "display"}]}',
    "bad audience": b'{"rules": [{"effect": "permit", "to": "everyone", "action": "display"}]}',
    "negative delay": (
        b'{"rules": [{"effect": "permit", "to": "public", "action": "display", '
        b'"delay_minutes": -1}]}'
    ),
    "boolean minimum": (
        b'{"rules": [{"effect": "permit", "to": "public", "action": "display", '
        b'"min_visitors": true}]}'
    ),
    "two rules, same target": (
        b'{"rules": [{"effect": "permit", "to": "public", "action": "display"}, '
        b'{"effect": "prohibit", "to": "public", "action": "display"}]}'
    ),
    "huge": b'{"rules": [' + b" " * 2_000_000 + b"]}",
}


def test_broken_policy_files_exit_2_one_line_policy_unchanged(
    db, registered, db_path, tmp_path, runner
):
    good = tmp_path / "good.json"
    good.write_text('{"rules": [{"effect": "permit", "to": "public", "action": "display"}]}')
    base = ["--db", str(db_path), "policy", "set", "strp"]
    assert runner.invoke(cli, [*base, str(good)]).exit_code == 0
    before = PolicyStore(db).current("strp")
    for name, content in POLICIES.items():
        path = tmp_path / f"{name}.json"
        path.write_bytes(content)
        one_line_error(runner.invoke(cli, [*base, str(path)]))
        after = PolicyStore(db).current("strp")
        assert (after.version, after.policy) == (before.version, before.policy), name
    one_line_error(runner.invoke(cli, [*base, str(tmp_path / "absent.json")]))
    one_line_error(runner.invoke(cli, [*base, str(tmp_path)]))
