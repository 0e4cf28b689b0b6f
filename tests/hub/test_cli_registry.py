"""The registry commands: festival, artwork and station."""

from __future__ import annotations

import tomllib

import pytest

from hub import registry_store
from storage import connect
from tapshare.cli import cli


def run(runner, db_path, *args, broker=None):
    prefix = ["--db", str(db_path)] + (["--broker", broker] if broker else [])
    return runner.invoke(cli, [*prefix, *args])


def test_register_and_list(runner, db_path):
    result = run(runner, db_path, "festival", "add", "strp", "--name", "STRP")
    assert result.exit_code == 0, result.output
    result = run(runner, db_path, "festival", "add", "dfest", "--name", "D", "--choices", "yes, no")
    assert result.exit_code == 0, result.output
    assert (
        run(runner, db_path, "festival", "set", "strp", "--board-min-visitors", "4").exit_code == 0
    )
    assert run(runner, db_path, "festival", "set", "strp", "--retain-days", "90").exit_code == 0
    listing = run(runner, db_path, "festival", "list").output.splitlines()
    assert listing[0].split() == ["ID", "NAME", "CHOICES", "BOARD-MIN", "RETAIN-DAYS", "TIMEZONE"]
    assert listing[1].split() == ["dfest", "D", "yes,no", "1", "-", "Europe/Amsterdam"]
    assert listing[2].split() == [
        "strp",
        "STRP",
        "love,like,meh,dislike",
        "4",
        "90",
        "Europe/Amsterdam",
    ]
    assert run(runner, db_path, "artwork", "add", "strp", "aw-1", "--title", "Cloud").exit_code == 0
    assert run(runner, db_path, "artwork", "list", "strp").output.splitlines()[1].split() == [
        "aw-1",
        "Cloud",
    ]


def test_a_festival_speaks_in_its_time_zone_amsterdam_unless_set(runner, db_path):
    run(runner, db_path, "festival", "add", "strp", "--name", "STRP")
    assert registry_store.get_festival(connect(db_path), "strp").timezone == "Europe/Amsterdam"
    result = run(runner, db_path, "festival", "set", "strp", "--timezone", "Europe/London")
    assert result.exit_code == 0, result.output
    assert "time zone Europe/London" in result.output
    assert registry_store.get_festival(connect(db_path), "strp").timezone == "Europe/London"
    # Changing something else keeps the zone.
    assert run(runner, db_path, "festival", "set", "strp", "--name", "S").exit_code == 0
    assert registry_store.get_festival(connect(db_path), "strp").timezone == "Europe/London"


def test_station_add_prints_only_the_station_toml(runner, db_path):
    run(runner, db_path, "festival", "add", "strp", "--name", "STRP")
    result = run(
        runner, db_path, "station", "add", "strp", "st-01", broker="mqtt://hub.example.org:1884"
    )
    assert result.exit_code == 0
    parsed = tomllib.loads(result.stdout)
    # A commented example of the readers, with the festival's choices, ends the file.
    assert "readers" not in parsed
    assert (
        '# [[readers]]\n# device = "tty:AMA0:pn532"\n# artwork = "ARTWORK"\n# choice = "love"'
        in (result.stdout)
    )
    assert "# The festival's choices: love, like, meh, dislike." in result.stdout
    # Uncommented, the example is valid: one reader per choice (two of them).
    tables = [
        line.removeprefix("# ")
        for line in result.stdout.splitlines()
        if line.startswith("# [[") or (line.startswith("# ") and " = " in line)
    ]
    readers = tomllib.loads("\n".join(tables))["readers"]
    assert [(r["artwork"], r["choice"]) for r in readers] == [
        ("ARTWORK", "love"),
        ("ARTWORK", "like"),
    ]
    assert parsed["broker"].startswith("mqtt://strp.st-01:")
    assert parsed["broker"].endswith("@hub.example.org:1884")
    assert (
        parsed["visitor_key"] == registry_store.get_festival(connect(db_path), "strp").visitor_key
    )
    default = run(runner, db_path, "station", "add", "strp", "st-02")
    assert tomllib.loads(default.stdout)["broker"].endswith("@127.0.0.1:1883")
    listing = run(runner, db_path, "station", "list", "strp").output.splitlines()
    assert [line.split()[:3] for line in listing[1:]] == [
        ["st-01", "yes", "unknown"],
        ["st-02", "yes", "unknown"],
        ["web", "yes", "unknown"],
    ]
    assert run(runner, db_path, "station", "disable", "strp", "st-02").exit_code == 0
    listing = run(runner, db_path, "station", "list", "strp").output.splitlines()
    assert listing[2].split()[:2] == ["st-02", "no"]


def test_station_list_without_a_festival_lists_every_festivals_stations(runner, db_path):
    for festival in ("strp", "ddw"):
        run(runner, db_path, "festival", "add", festival, "--name", festival.upper())
    run(runner, db_path, "station", "add", "strp", "st-01")
    run(runner, db_path, "station", "add", "ddw", "gate")
    listing = run(runner, db_path, "station", "list").output.splitlines()
    assert listing[0].split()[:3] == ["FESTIVAL", "STATION", "ENABLED"]
    found = {tuple(line.split()[:2]) for line in listing[1:]}
    # Each festival's own stations (and the web station every festival has), by festival.
    assert {("ddw", "gate"), ("strp", "st-01")} <= found
    assert {festival for festival, _ in found} == {"ddw", "strp"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["festival", "add", "public", "--name", "P"], "reserved"),
        (["festival", "add", "network", "--name", "P"], "reserved"),
        (["festival", "add", "platform", "--name", "P"], "reserved"),
        (["festival", "add", "Bad_Id", "--name", "P"], "not a valid id"),
        (["festival", "add", "strp", "--name", "P"], "already registered"),
        (["festival", "add", "new", "--name", "P", "--choices", "a,,b"], "not a valid id"),
        (["festival", "add", "new"], "--name"),
        (["festival", "set", "strp"], "nothing to change"),
        (["festival", "set", "strp", "--board-min-visitors", "0"], "whole number"),
        (["festival", "set", "strp", "--board-min-visitors", "x"], "not a valid integer"),
        (["festival", "set", "nope", "--name", "N"], "not registered"),
        (["festival", "set", "strp", "--timezone", "Europe/Amsterdm"], "unknown time zone"),
        (["festival", "set", "strp", "--timezone", "../../etc/passwd"], "unknown time zone"),
        (["festival", "set", "strp", "--timezone", "localtime"], "unknown time zone"),
        (["festival", "set", "strp", "--timezone", ""], "unknown time zone"),
        (["artwork", "add", "nope", "aw-1", "--title", "T"], "not registered"),
        (["artwork", "add", "strp", "AW", "--title", "T"], "not a valid id"),
        (["artwork", "list", "nope"], "not registered"),
        (["station", "add", "strp", "St 1"], "not a valid id"),
        # A final newline would break the broker's ACL and password file.
        (["station", "add", "strp", "gate2\n"], "not a valid id"),
        (["station", "add", "strp\n", "gate2"], "not a valid id"),
        (["festival", "add", "fest\n", "--name", "F"], "not a valid id"),
        (["artwork", "add", "strp", "aw-1\n", "--title", "T"], "not a valid id"),
        (["station", "add", "nope", "st-1"], "not registered"),
        (["station", "disable", "strp", "st-9"], "not registered"),
        (["station", "list", "nope"], "not registered"),
    ],
)
def test_bad_input_is_exit_2_with_one_line(runner, db_path, args, message):
    run(runner, db_path, "festival", "add", "strp", "--name", "STRP")
    before = [f.id for f in registry_store.list_festivals(connect(db_path))]
    result = run(runner, db_path, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert [f.id for f in registry_store.list_festivals(connect(db_path))] == before


def test_a_file_that_is_not_a_database_is_exit_2(runner, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database " * 100)
    result = runner.invoke(cli, ["--db", str(path), "festival", "list"])
    assert result.exit_code == 2
    assert "cannot open database" in result.stderr


def test_reader_refuses_a_reader_whose_choice_the_festival_lacks(runner, db_path, tmp_path):
    run(runner, db_path, "festival", "add", "ddw", "--name", "DDW", "--choices", "yes,no")
    text = run(runner, db_path, "station", "add", "ddw", "gate").stdout
    assert tomllib.loads(text)["choices"] == ["yes", "no"]
    config = tmp_path / "station.toml"
    outbox = tmp_path / "o.db"
    text = text.replace('outbox = "/var/lib/tapshare/outbox.db"', f'outbox = "{outbox}"')
    reader = '\n[[readers]]\ndevice = "sim:rate=0"\nartwork = "chair"\nchoice = "{}"\n'
    config.write_text(text + reader.format("love"))
    result = runner.invoke(cli, ["reader", "--config", str(config)])
    assert result.exit_code == 2
    assert "choice 'love', which festival 'ddw' does not have" in result.output
    assert "its choices are yes, no" in result.output
    assert not outbox.exists()  # refused before anything was opened
