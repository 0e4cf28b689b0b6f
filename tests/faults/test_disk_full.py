"""The hub's disk fills up mid-stream: the hub stops acknowledging and says why, loses
nothing, and carries on by itself once there is space again.

As root, the database lives on a small tmpfs of its own, filled up to the last few pages by
another file, so SQLite meets a real "database or disk is full". Everywhere, the same is
also run with the hub's connection capped by SQLite's ``max_page_count``, which fails the
same way."""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import connect
from tapshare.database import migrate
from tests.conftest import Registered
from tests.faults.capped import cap_file, capped_database
from tests.faults.site import stored
from tests.harness.mqtt import wait_for
from tests.hub.running import running_hub
from tests.hub.stream import StreamPublisher, make_opinions

pytestmark = pytest.mark.e2e

COUNT = 2000
#: What is left free on the filesystem once filled: a few batches' worth.
HEADROOM = 96 * 1024


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 6 MiB tmpfs, mounted for this test only."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    mount_point = Path(tempfile.mkdtemp(prefix="tapshare-full-"))
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m,mode=0755", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        mount_point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
        mount_point.rmdir()


def fill(disk: Path, leave: int) -> Path:
    """Take all but ``leave`` bytes of the filesystem with one file."""
    filler = disk / "filler"
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    with filler.open("wb") as file:
        os.posix_fallocate(file.fileno(), 0, max(free - leave, 0))
    return filler


def test_a_full_disk_holds_messages_back_and_loses_nothing(small_disk, mosquitto, caplog):
    db_path = small_disk / "hub.db"
    registered = register(db_path)
    filler = fill(small_disk, HEADROOM)
    run_until_full_then_free(db_path, registered, mosquitto, caplog, filler.unlink)


def test_a_database_at_its_page_limit_holds_messages_back(db_path, mosquitto, caplog):
    registered = register(db_path)
    reader = connect(db_path)
    (pages,) = reader.conn.execute("PRAGMA page_count").fetchone()
    reader.close()
    cap = cap_file(db_path)
    cap.write_text(str(pages + 20))
    run_until_full_then_free(
        db_path, registered, mosquitto, caplog, cap.unlink, opener=capped_database
    )


def register(db_path: Path) -> Registered:
    migrate(db_path)
    db = connect(db_path)
    try:
        return Registered(db)
    finally:
        db.close()


def run_until_full_then_free(db_path, registered, mosquitto, caplog, free, **options) -> None:
    payloads = make_opinions(registered.st1, COUNT)

    def full_reports() -> int:
        return sum("disk is full" in r.getMessage() for r in caplog.records)

    with (
        caplog.at_level(logging.INFO, logger="tapshare.hub"),
        running_hub(db_path, mosquitto, max_batch=100, **options) as hub,
    ):
        stream = StreamPublisher(mosquitto, registered.st1, payloads).start()
        try:
            assert wait_for(lambda: full_reports() >= 1, 30), stored(db_path)
            held = stored(db_path)
            assert 0 < held[0] < COUNT, held
            # It keeps trying (and saying so) and writes nothing meanwhile.
            assert wait_for(lambda: full_reports() >= 3, 30)
            assert stored(db_path) == held
            assert hub.connected.is_set()

            free()  # space returns
            stream.finish(lambda: stored(db_path)[0], COUNT)
            assert stored(db_path) == (COUNT + 1, COUNT + 1, 0)
            assert any("resuming" in r.getMessage() for r in caplog.records)
        finally:
            stream.close()
