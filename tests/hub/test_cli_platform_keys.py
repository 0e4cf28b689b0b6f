"""``tapshare platform-key add|list|revoke``: one line with the key, only a hash stored."""

from __future__ import annotations

import re

from hub import registry
from storage import connect
from tapshare.cli import cli


def run(runner, db_path, *args):
    return runner.invoke(cli, ["--db", str(db_path), "platform-key", *args])


def test_add_prints_the_key_once_and_stores_only_its_hash(runner, db_path):
    result = run(runner, db_path, "add", "province")
    assert result.exit_code == 0, result.output
    key = result.output.rstrip("\n")
    assert result.output == key + "\n" and re.fullmatch(r"[A-Za-z0-9_-]{43,}", key)
    db = connect(db_path)
    try:
        dump = "\n".join(db.conn.iterdump())
        assert key not in dump and registry.platform_key_hash(key) in dump
        assert registry.platform_key_name(db, key) == "province"
    finally:
        db.close()
    listing = run(runner, db_path, "list").output
    assert key not in listing
    header, row = listing.splitlines()
    assert header.split() == ["NAME", "CREATED", "LAST-USED"]
    assert row.split()[0] == "province" and row.split()[2] != "-"  # used just now


def test_keys_differ_names_are_unique_and_revoked_keys_stop_working(runner, db_path):
    first = run(runner, db_path, "add", "province").output.strip()
    second = run(runner, db_path, "add", "city").output.strip()
    assert first != second
    again = run(runner, db_path, "add", "province")
    assert again.exit_code == 2 and "already exists" in again.output
    assert run(runner, db_path, "revoke", "province").exit_code == 0
    db = connect(db_path)
    try:
        assert registry.platform_key_name(db, first) is None
        assert registry.platform_key_name(db, second) == "city"
    finally:
        db.close()
    missing = run(runner, db_path, "revoke", "province")
    assert missing.exit_code == 2 and "no platform key" in missing.output
    bad = run(runner, db_path, "add", "Not A Name")
    assert bad.exit_code == 2 and "not a valid id" in bad.output
    assert [line.split()[0] for line in run(runner, db_path, "list").output.splitlines()] == [
        "NAME",
        "city",
    ]
