"""The database of the dashboard benchmarks (``bench/board.py``, ``bench/ngsi.py``,
``bench/consent_boards.py``): festivals with policies and a million stored taps, generated
once and kept under ``bench/.data``; and the options that size it.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlite_utils import Database  # noqa: E402

from consent.policy import viewer_for  # noqa: E402
from consent.store import PolicyStore  # noqa: E402
from hub import registry, write_path  # noqa: E402
from hub.models import DEFAULT_CHOICES  # noqa: E402
from protocol.messages import Opinion  # noqa: E402
from storage import connect  # noqa: E402
from tapshare.database import migrate  # noqa: E402

CHOICES = DEFAULT_CHOICES
#: Every benchmark station's secret.
SECRET = bytes(32)


def festival_ids(festivals: int) -> list[str]:
    return [f"fest-{n:02d}" for n in range(festivals)]


def rules_for(index: int, festivals: list[str]) -> list[dict]:
    """A mix of real-world policies: artwork and festival level, thresholds, one delay."""
    rules: list[dict] = []
    if index % 2 == 0:
        rules.append(
            {
                "effect": "permit",
                "to": "public",
                "action": "display",
                "level": "artwork",
                "min_visitors": 5,
            }
        )
    else:
        rules.append(
            {
                "effect": "permit",
                "to": "public",
                "action": "display",
                "level": "festival",
                "min_visitors": 20,
            }
        )
    if index == 1:
        rules.append(
            {
                "effect": "permit",
                "to": "network",
                "action": "display",
                "level": "artwork",
                "min_visitors": 10,
                "delay_minutes": 15,
            }
        )
    if index == 3:
        rules.append({"effect": "prohibit", "to": viewer_for(festivals[0]), "action": "display"})
    return rules


def populate(path: Path, taps: int, festivals: int, artworks: int) -> None:
    """A hub database with ``taps`` stored opinions spread over the festivals' artworks."""
    migrate(path)
    db = connect(path)
    ids = festival_ids(festivals)
    per_festival = artworks // festivals
    for index, festival in enumerate(ids):
        registry.add_festival(db, festival, f"Festival {index}")
        for artwork in range(per_festival):
            registry.add_artwork(db, festival, f"aw-{artwork:03d}", f"Artwork {artwork}")
        registry.add_station(db, festival, "st-01")
    policies = PolicyStore(db)
    for index, festival in enumerate(ids):
        policies.set(festival, {"rules": rules_for(index, ids)}, "bench", "bench", set(ids))
    visitors = max(1, taps // (festivals * 20))
    start = datetime.now(UTC) - timedelta(days=2)
    write_random_taps(db, ids, taps, per_festival, visitors, start, 170_000, progress=True)
    db.close()


def write_random_taps(
    db: Database,
    ids: list[str],
    taps: int,
    artworks: int,
    visitors: int,
    start: datetime,
    span_seconds: float,
    progress: bool = False,
) -> None:
    """Store ``taps`` opinions of st-01 (the same ones every run), festival by festival in
    turn, on random artworks by random visitors, spread over ``span_seconds`` from
    ``start``."""
    rng = Random(7)
    batch: list[write_path.StoreOpinion] = []
    received = datetime.now(UTC)
    for number in range(taps):
        opinion = Opinion.build(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            festival=ids[number % len(ids)],
            station="st-01",
            artwork=f"aw-{rng.randrange(artworks):03d}",
            visitor=f"{rng.randrange(visitors):064x}",
            choice=rng.choice(CHOICES),
            tapped_at=start + timedelta(seconds=number * span_seconds / taps),
            seq=number,
            station_secret=SECRET,
        )
        batch.append(write_path.StoreOpinion(opinion, received))
        if len(batch) == 20_000:
            write_path.write_batch(db, batch, {})
            batch.clear()
            if progress:
                print(f"populate: {number + 1} taps", file=sys.stderr, flush=True)
    if batch:
        write_path.write_batch(db, batch, {})


def database(taps: int, festivals: int, artworks: int) -> Path:
    folder = ROOT / "bench" / ".data"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"board-{taps}-{festivals}-{artworks}.db"
    if not path.exists():
        partial = path.with_suffix(".partial.db")
        for leftover in folder.glob(partial.name + "*"):
            leftover.unlink()
        populate(partial, taps, festivals, artworks)
        db = connect(partial)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        partial.rename(path)
    return path


def data_arguments(doc: str) -> argparse.ArgumentParser:
    """The options of the benchmarks that serve this database: its size, and how long and
    by how many clients each throughput round is."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--taps", type=int, default=1_000_000)
    parser.add_argument("--festivals", type=int, default=10)
    parser.add_argument("--artworks", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=8.0, help="per throughput round")
    parser.add_argument("--clients", type=int, default=8)
    return parser
