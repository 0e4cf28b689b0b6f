"""Broker password hashes in Mosquitto's $7$ format."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from hub.passwords import check_password, hash_password, new_password


def test_hash_round_trip_and_salt():
    password = new_password()
    first, second = hash_password(password), hash_password(password)
    assert first != second  # a new salt each time
    assert check_password(password, first) and check_password(password, second)
    assert not check_password("wrong", first)
    assert not check_password(password, "$6$abc$def")


def test_reads_hashes_made_by_mosquitto_passwd(tmp_path):
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd is not installed")
    path = tmp_path / "passwd"
    subprocess.run([tool, "-c", "-b", str(path), "alice", "s3cret"], check=True)
    hashed = path.read_text().strip().split(":", 1)[1]
    assert check_password("s3cret", hashed)
    assert not check_password("s3cret!", hashed)
