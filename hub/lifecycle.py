"""Data lifecycle: per-festival retention of taps and consistent online backups.

Retention removes a festival's taps whose ``tapped_at`` is older than its ``retain_days``.
A visitor's current opinion on an artwork is their latest tap on it, so it is older than
the cut-off exactly when every tap of that visitor on that artwork is: removing those
current opinions (the counting triggers follow) leaves the counts exactly what a recount
of the kept taps gives.

It also removes the festival's dead letters received before the cut-off (a station may
publish only under its festival's topics, so the topic names the festival), and forgets
the ids of its opinions received more than the hub's clock tolerance before it. Such an
opinion was tapped before the cut-off (a ``tapped_at`` is never more than that tolerance
ahead of the hub's clock), so its tap is gone already: an id lives at least as long as its
tap. Erase requests' ids, and erasure markers, are kept (docs/operator.md, "Retention").
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from sqlite_utils import Database

import storage
from hub import counter_store, retention_store
from protocol import create_private
from protocol.messages import MAX_CLOCK_AHEAD

#: Taps removed per transaction, so the hub's writer never waits long for the lock.
RETENTION_CHUNK: Final = 5000
#: Most days a festival may keep its taps for (about 100 years); 0 keeps them forever.
MAX_RETAIN_DAYS: Final = 36_500
#: Pages copied per backup step (4 KiB pages: 16 MiB a step).
BACKUP_PAGES_PER_STEP: Final = 4096
TAPS_EXPIRED: Final = "tapshare_hub_taps_expired_total"


@dataclass(frozen=True)
class Expired:
    """What retention removed from one festival."""

    festival: str
    retain_days: int
    cutoff: str
    taps: int
    opinions: int
    dead_letters: int = 0
    accepted_ids: int = 0


def apply_retention(db: Database, now: datetime) -> list[Expired]:
    """Remove every festival's taps older than its retention; return what went, per
    festival with a retention (festivals without one are left alone)."""
    results = []
    for retention in retention_store.festival_retentions(db):
        festival_id, days = retention.festival, retention.days
        cutoff = now - timedelta(days=days)
        cutoff_us = storage.micros(cutoff)
        with storage.immediate(db):
            opinions = retention_store.expire_current_opinions(db, festival_id, cutoff_us)
        taps = 0
        while True:
            with storage.immediate(db):
                removed = retention_store.expire_taps(db, festival_id, cutoff_us, RETENTION_CHUNK)
                if removed:
                    counter_store.add_counters(db, {(TAPS_EXPIRED, "{}"): removed})
            taps += removed
            if removed < RETENTION_CHUNK:
                break
        with storage.immediate(db):
            letters = retention_store.expire_dead_letters(db, festival_id, storage.now_text(cutoff))
            ids = retention_store.expire_accepted_ids(
                db, festival_id, storage.now_text(cutoff - MAX_CLOCK_AHEAD)
            )
        results.append(
            Expired(festival_id, days, storage.now_text(cutoff), taps, opinions, letters, ids)
        )
    return results


class BackupError(RuntimeError):
    """A backup could not be made; the message says why. Nothing is left behind."""


def backup(
    source: Path | str,
    target: Path | str,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Copy the database at ``source`` to ``target`` with SQLite's online backup API while
    the hub may keep writing; return the copy's size in pages.

    The copy is one consistent snapshot: the source is read inside one read transaction,
    so commits made meanwhile are neither half in it nor restart it. ``target`` must not
    exist; the copy is written next to it and linked into place only when complete and
    checked. ``progress(copied, total)`` is called after each step.
    """
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} already exists; refusing to overwrite it")
    if not Path(source).exists():
        raise BackupError(f"database {source} does not exist")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        src = sqlite3.connect(str(source), timeout=30)
        try:
            # One snapshot for the whole copy (WAL lets the hub commit meanwhile).
            src.execute("BEGIN")
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
            create_private(partial)  # it holds every secret the database does
            dst = sqlite3.connect(str(partial))
            try:

                def step(status: int, remaining: int, total: int) -> None:
                    if progress is not None:
                        progress(total - remaining, total)

                src.backup(dst, pages=BACKUP_PAGES_PER_STEP, progress=step, sleep=0)
                (check,) = dst.execute("PRAGMA quick_check").fetchone()
                if check != "ok":
                    raise BackupError(f"the copy failed its check: {check}")
                (pages,) = dst.execute("PRAGMA page_count").fetchone()
            finally:
                dst.close()
        finally:
            src.close()
        try:
            # A hard link never replaces a file that appeared meanwhile.
            os.link(partial, target)
        except FileExistsError:
            raise BackupError(f"{target} already exists; refusing to overwrite it") from None
        return int(pages)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {source} to {target} failed: {exc}") from exc
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
