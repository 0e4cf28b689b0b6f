"""The dashboard's one watcher of commits: a generation number that moves on after every
commit to the database by anyone (the hub, a vote, an organiser, a screen key's use).

Whatever is kept until something changes is tagged with the generation current when it
was computed, and is fresh while the generation stays the same: cached boards
(:mod:`dashboard.cache`), valid screen keys (:mod:`dashboard.access`), and the boards of
open streams (:mod:`dashboard.streams`, whose thread asks ten times a second).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from storage import connect

#: Connections that requests use to learn whether anything was committed.
PROBES = 4


@dataclass
class _Probe:
    lock: threading.Lock = field(default_factory=threading.Lock)
    db: Database | None = None
    seen: int | None = None


class CommitWatcher:
    """The generation of the database at ``db_path``, from ``PRAGMA data_version``."""

    def __init__(self, db_path: Path | str) -> None:
        self.db_path = db_path
        self._watch: Database | None = None
        self._watch_lock = threading.Lock()
        self._watch_seen: int | None = None
        self._generation = 0
        self._probes = [_Probe() for _ in range(PROBES)]

    def generation(self) -> int:
        """A number that changes after every commit to the database by anyone: what is
        tagged with the number current when its computation began is fresh while the
        number stays the same."""
        # Each caller asks one of a few probe connections (whichever is free), so that
        # requests do not queue for one. A probe's data_version changes when anyone has
        # committed since that probe last looked; only then is the shared watching
        # connection asked, and the generation moves on once per commit it sees, however
        # many probes noticed the same commit.
        probe = next((p for p in self._probes if p.lock.acquire(blocking=False)), None)
        if probe is None:
            probe = self._probes[threading.get_ident() % len(self._probes)]
            probe.lock.acquire()
        try:
            if probe.db is None:
                probe.db = connect(self.db_path)
            version = int(probe.db.conn.execute("PRAGMA data_version").fetchone()[0])
            if version == probe.seen:
                return self._generation
            with self._watch_lock:
                if self._watch is None:
                    self._watch = connect(self.db_path)
                watched = int(self._watch.execute("PRAGMA data_version").fetchone()[0])
                if watched != self._watch_seen:
                    self._watch_seen = watched
                    self._generation += 1
                # Only now: had the watcher failed, the probe would look again next time.
                probe.seen = version
                return self._generation
        finally:
            probe.lock.release()

    def close(self) -> None:
        """Close the watching and probing connections (they reopen when next asked)."""
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
        for probe in self._probes:
            with probe.lock:
                if probe.db is not None:
                    probe.db.close()
                    probe.db = None
                probe.seen = None
