"""Benchmark of the board function: boards built per second, straight from the hub's counts.

Builds a hub database in a temporary folder (festivals, artworks, taps written through the
hub's store), gives every festival a policy, then times ``consent.boards.build_board`` for a
festival's own screen, another festival's screen (network, artwork level), the public board
(festival level) and a board with a 15-minute delay (read from the hub's delayed views,
which the first read builds from the stored taps).
Prints one JSON object.

    .venv/bin/python bench/consent_boards.py [--taps 100000] [--festivals 5] [--artworks 100]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import board_data

from consent.boards import build_board
from consent.policy import viewer_for
from consent.store import PolicyStore
from hub import registry
from hub.opinions import HubOpinions
from storage import connect
from tapshare.database import migrate


def populate(path: Path, taps: int, festivals: int, artworks: int) -> list[str]:
    migrate(path)
    db = connect(path)
    ids = [f"fest-{n:02d}" for n in range(festivals)]
    for index, festival in enumerate(ids):
        registry.add_festival(db, festival, f"Festival {index}")
        for artwork in range(artworks):
            registry.add_artwork(db, festival, f"aw-{artwork:03d}", f"Artwork {artwork}")
    policies = PolicyStore(db)
    for festival in ids:
        rules = [
            {"effect": "permit", "to": "network", "action": "display", "level": "artwork"},
            {"effect": "permit", "to": "public", "action": "display", "min_visitors": 20},
            {
                "effect": "permit",
                "to": "platform",
                "action": "display",
                "level": "artwork",
                "delay_minutes": 15,
            },
        ]
        policies.set(festival, {"rules": rules}, "bench", "bench", ids)
    visitors = max(1, taps // (festivals * 10))
    start = datetime.now(UTC) - timedelta(hours=6)
    board_data.write_random_taps(db, ids, taps, artworks, visitors, start, 21_000)
    db.close()
    return ids


def rate(db_path: Path, viewer: str, seconds: float) -> dict[str, float]:
    db = connect(db_path)
    source, policies = HubOpinions(db), PolicyStore(db)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        build_board(source, policies, viewer, "display", datetime.now(UTC))
        count += 1
    elapsed = time.perf_counter() - started
    db.close()
    return {
        "boards_per_second": round(count / elapsed, 1),
        "ms_per_board": round(1000 * elapsed / count, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=100_000)
    parser.add_argument("--festivals", type=int, default=5)
    parser.add_argument("--artworks", type=int, default=100, help="per festival")
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        ids = populate(path, args.taps, args.festivals, args.artworks)
        result = {
            "taps": args.taps,
            "festivals": args.festivals,
            "artworks_per_festival": args.artworks,
            "own_screen": rate(path, viewer_for(ids[0]), args.seconds),
            "other_festival_screen": rate(path, viewer_for(ids[1]), args.seconds),
            "public_board": rate(path, "public", args.seconds),
            "platform_15_minute_delay": rate(path, "platform", args.seconds),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
