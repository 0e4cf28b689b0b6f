"""Every file that holds station secrets, visitor keys or pending taps is created
readable by its owner only (0600), whatever the umask: the hub's database and its
``-wal``/``-shm`` files, whichever program creates it, its backups, a station's outbox."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reader_agent.outbox import Outbox
from storage import connect
from tapshare.cli import cli
from tapshare.database import migrate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """The common default umask, which leaves new files readable by everyone."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(os.stat(path).st_mode))


def opened_with_wal(path: Path, opener: Callable[[Path], object]) -> list[str]:
    db = opener(path)
    try:
        db.execute("PRAGMA journal_mode=WAL")  # type: ignore[attr-defined]
        db.execute("CREATE TABLE IF NOT EXISTS t (x)")  # type: ignore[attr-defined]
        db.execute("INSERT INTO t VALUES (1)")  # type: ignore[attr-defined]
        db.conn.commit()  # type: ignore[attr-defined]
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        return [mode(p) for p in files]
    finally:
        db.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("synchronous", ["NORMAL", "FULL"])
def test_a_new_database_and_its_wal_and_shm_are_private(tmp_path, synchronous):
    def opener(path):
        return connect(path, synchronous)

    assert opened_with_wal(tmp_path / "hub.db", opener) == ["0o600"] * 3


def test_the_cli_creates_private_databases_and_backups(tmp_path, runner):
    db_path = tmp_path / "hub.db"
    base = ["--db", str(db_path)]
    assert runner.invoke(cli, [*base, "festival", "add", "strp", "--name", "S"]).exit_code == 0
    assert mode(db_path) == "0o600"
    backup = tmp_path / "backup.db"
    result = runner.invoke(cli, [*base, "backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert mode(backup) == "0o600"
    migrate(tmp_path / "migrated.db")
    assert mode(tmp_path / "migrated.db") == "0o600"


def test_an_existing_database_keeps_its_mode(tmp_path):
    path = tmp_path / "hub.db"
    path.touch(mode=0o640)
    os.chmod(path, 0o640)
    connect(path).close()
    assert mode(path) == "0o640"


def test_a_station_outbox_is_private(tmp_path):
    path = tmp_path / "state" / "outbox.db"
    outbox = Outbox(path)
    try:
        outbox.append("tapshare/v1/strp/st-01/opinion", lambda seq: b"{}")
        assert [mode(p) for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))] == ["0o600"] * 3
    finally:
        outbox.close()


@pytest.mark.parametrize(
    "unit", ["tapshare-hub.service", "tapshare-dashboard.service", "tapshare-reader.service"]
)
def test_service_units_keep_their_files_private(unit):
    lines = (ROOT / "deploy" / unit).read_text().splitlines()
    assert "UMask=0077" in lines
    assert "StateDirectoryMode=0700" in lines
