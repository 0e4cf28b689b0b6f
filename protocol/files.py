"""Files that hold secrets or visitors' data (the hub's database and its backups, a
station's outbox) are created readable and writable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path

#: Owner read and write, nothing for group and others.
PRIVATE_MODE = 0o600


def create_private(path: Path | str) -> None:
    """Create ``path`` as an empty file of mode 0600 unless it exists (then it is left as
    it is). SQLite gives a database's ``-wal``, ``-shm`` and journal files the database
    file's mode, so a database opened after this keeps all of them private.

    Any other failure (a missing directory, no permission) is left for the caller's own
    open to report."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except OSError:
        return
    os.close(fd)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (and its missing directories), readable and writable by
    its owner only: a station's settings hold its secret."""
    path.parent.mkdir(parents=True, exist_ok=True)
    create_private(path)
    path.chmod(PRIVATE_MODE)
    path.write_text(text)
