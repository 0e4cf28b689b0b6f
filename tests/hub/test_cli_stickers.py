"""``tapshare tag``: stickers from the command line."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from urllib.parse import parse_qs, urlsplit

import pytest

from hub import sdm
from tapshare.cli import cli

PUBLIC = "https://votes.example.org"


def run(runner, db_path, *args):
    return runner.invoke(cli, ["--db", str(db_path), "--public-url", PUBLIC, *args])


@pytest.fixture
def fest(runner, db_path):
    assert run(runner, db_path, "festival", "add", "strp", "--name", "STRP").exit_code == 0
    assert run(runner, db_path, "artwork", "add", "strp", "aw-1", "--title", "Cloud").exit_code == 0
    return db_path


def test_tag_add_prints_the_url_and_keys_for_a_tag_writing_app(runner, fest):
    result = run(runner, fest, "tag", "add", "strp", "s-1", "--artwork", "aw-1")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == {
        "festival",
        "tag",
        "artwork",
        "choice",
        "url",
        "sdm_meta_read_key",
        "sdm_file_read_key",
    }
    assert (body["festival"], body["tag"], body["artwork"], body["choice"]) == (
        "strp",
        "s-1",
        "aw-1",
        None,
    )
    assert body["url"] == (f"{PUBLIC}/t/strp/s-1?picc_data={'0' * 32}&cmac={'0' * 16}")
    for key in ("sdm_meta_read_key", "sdm_file_read_key"):
        assert len(body[key]) == 32 and body[key] == body[key].lower()
        int(body[key], 16)
    other = json.loads(run(runner, fest, "tag", "add", "strp", "s-2", "--artwork", "aw-1").stdout)
    assert other["sdm_meta_read_key"] != body["sdm_meta_read_key"]


def test_tag_tap_prints_a_fresh_signed_url(runner, fest):
    body = json.loads(run(runner, fest, "tag", "add", "strp", "s-1", "--artwork", "aw-1").stdout)
    first = run(runner, fest, "tag", "tap", "strp", "s-1").stdout.strip()
    second = run(runner, fest, "tag", "tap", "strp", "s-1").stdout.strip()
    assert first.startswith(f"{PUBLIC}/t/strp/s-1?") and first != second
    query = parse_qs(urlsplit(first).query)
    keys = bytes.fromhex(body["sdm_meta_read_key"]), bytes.fromhex(body["sdm_file_read_key"])
    tap = sdm.read_tap(query["picc_data"][0], query["cmac"][0], *keys)
    assert tap.counter == 1 and len(tap.uid) == 7


def test_static_stickers_and_their_qr_code(runner, fest):
    result = run(
        runner,
        fest,
        "tag",
        "add",
        "strp",
        "qr",
        "--artwork",
        "aw-1",
        "--static",
        "--choice",
        "love",
    )
    body = json.loads(result.stdout)
    assert body["url"] == f"{PUBLIC}/t/strp/qr"
    assert body["sdm_meta_read_key"] is None and body["choice"] == "love"
    svg = run(runner, fest, "tag", "qr", "strp", "qr")
    assert svg.exit_code == 0
    assert ElementTree.fromstring(svg.stdout).tag == "{http://www.w3.org/2000/svg}svg"
    listing = run(runner, fest, "tag", "list", "strp").stdout.splitlines()
    assert listing[0].split() == ["TAG", "ARTWORK", "CHOICE", "KIND", "ENABLED", "LAST-COUNTER"]
    assert listing[1].split() == ["qr", "aw-1", "love", "static", "yes", "-"]
    assert "key" not in run(runner, fest, "tag", "list", "strp").stdout.lower()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tag", "add", "strp", "s-1", "--artwork", "nope"), "artwork 'nope' is not registered"),
        (("tag", "add", "strp", "BAD", "--artwork", "aw-1"), "not a valid id"),
        (("tag", "add", "strp", "s-1", "--artwork", "aw-1", "--choice", "wow"), "not one of"),
        (("tag", "add", "nope", "s-1", "--artwork", "aw-1"), "not registered"),
        (("tag", "disable", "strp", "s-9"), "not registered"),
        (("tag", "tap", "strp", "s-9"), "not registered"),
        (("tag", "qr", "strp", "s-9"), "not registered"),
        (("tag", "list", "nope"), "not registered"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(runner, fest, args, message):
    result = run(runner, fest, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_sdm_sticker_has_no_qr_code_and_a_static_one_no_tap(runner, fest):
    run(runner, fest, "tag", "add", "strp", "s-1", "--artwork", "aw-1")
    run(runner, fest, "tag", "add", "strp", "qr", "--artwork", "aw-1", "--static")
    assert run(runner, fest, "tag", "qr", "strp", "s-1").exit_code == 2
    assert run(runner, fest, "tag", "tap", "strp", "qr").exit_code == 2


def test_disable(runner, fest):
    run(runner, fest, "tag", "add", "strp", "s-1", "--artwork", "aw-1")
    assert run(runner, fest, "tag", "disable", "strp", "s-1").exit_code == 0
    assert run(runner, fest, "tag", "list", "strp").stdout.splitlines()[1].split()[4] == "no"
