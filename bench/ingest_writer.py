"""Hub writer benchmark: the writer process alone, fed through its pipe as the hub feeds it.

Starts the hub's writer process (``hub.writer.serve``) on a fresh database with one
festival of 4 stations and 10 artworks, sends it N signed opinions in chunks of 500 (as
the network process does, with no broker), and prints one JSON line per run with the
writer's CPU time per opinion, from its own ``getrusage`` between its being ready and its
last commit, then the median. Without the broker and the network process competing for
the cores, this is the steadiest figure of the write path. ``--stored N`` first stores N
taps (of N other visitors, with their accepted ids and current opinions) in the database,
as a festival's database holds after a while: the writer's cost grows with its indexes.

Usage: .venv/bin/python bench/ingest_writer.py [--count 40000] [--batch 4000] [--runs 3]
       [--stored 0]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import ARTWORKS, build, make_database
from hub import writer
from hub.ingest import MAX_CHUNK
from storage import connect, immediate

# Random ids and pseudonyms in the forms of the wire protocol, written in SQL: fast enough
# for millions of rows.
_FILL = """
INSERT INTO taps (id, festival, station, artwork, visitor, choice, tapped_at, tapped_us, seq,
                  received_at)
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1),
     r(i, h) AS (SELECT i, lower(hex(randomblob(16))) FROM n)
SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-' ||
       substr(h, 17, 4) || '-' || substr(h, 21), 'bench', 'st-0', 'aw-' || (i % ?),
       lower(hex(randomblob(32))), 'love', '2026-01-01T00:00:00.000Z', i, i,
       '2026-01-01T00:00:00.000Z'
FROM r
"""


def store_taps(db_path: Path, count: int) -> None:
    """Store ``count`` taps, their accepted ids and current opinions (counted by the
    schema's triggers), as if the hub had received them."""
    db = connect(db_path)
    with immediate(db):
        db.conn.execute(_FILL, (count, ARTWORKS))
        db.conn.execute(
            "INSERT INTO accepted_ids (id, festival, received_at) "
            "SELECT id, festival, received_at FROM taps"
        )
        db.conn.execute(
            "INSERT INTO current_opinions SELECT festival, artwork, visitor, choice, "
            "tapped_us, seq, id FROM taps"
        )
    db.close()


def run(template: Path, frames: list[writer.Frame], batch: int) -> dict[str, float]:
    """One run on a copy of the template database: CPU µs per opinion and commits."""
    with tempfile.TemporaryDirectory(prefix="tapshare-bench-") as tmp:
        db_path = Path(tmp) / "bench.db"
        shutil.copy(template, db_path)
        context = multiprocessing.get_context("spawn")
        conn, child = context.Pipe()
        settings = writer.WriterSettings(db_path, "FULL", batch, 3600.0)
        process = context.Process(target=writer.serve, args=(child, settings), daemon=True)
        process.start()
        child.close()
        ready = conn.recv()
        assert isinstance(ready, writer.Ready)
        for start in range(0, len(frames), MAX_CHUNK):
            conn.send(frames[start : start + MAX_CHUNK])
        committed, commits, last = 0, 0, ready.cpu_seconds
        while committed < len(frames):
            answer = conn.recv()
            if isinstance(answer, writer.Committed):
                committed += answer.count
                commits += 1
                last = answer.cpu_seconds
        conn.send(None)
        process.join(60)
    return {
        "writer_cpu_us_per_opinion": round(1e6 * (last - ready.cpu_seconds) / len(frames), 1),
        "commits": commits,
    }


def writer_arguments(doc: str) -> argparse.ArgumentParser:
    """The options of the writer benchmarks: how many opinions, per commit, runs, and how
    many taps the database holds before."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--count", type=int, default=40_000)
    parser.add_argument("--batch", type=int, default=4000, help="most messages per commit")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stored", type=int, default=0, help="taps stored before the runs")
    return parser


def template_and_frames(folder: Path, args: argparse.Namespace) -> tuple[Path, list[Any]]:
    """A registered database in ``folder`` (holding ``--stored`` taps) and ``--count``
    received opinions for it, as the hub hands them to its writer."""
    template = folder / "template.db"
    stations = make_database(template)
    if args.stored:
        store_taps(template, args.stored)
    messages = build(stations, args.count, datetime.now(UTC) - timedelta(hours=2), 1)
    return template, [(topic, payload, time.time(), False, 1) for topic, payload in messages]


def measured_runs(
    doc: str, measure: Callable[[Path, list[Any], int], dict[str, Any]]
) -> tuple[argparse.Namespace, list[dict[str, Any]]]:
    """The command line's options, and ``measure`` run ``--runs`` times on one database
    and its opinions, each run printed as it ends (with the load average before it)."""
    args = writer_arguments(doc).parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="tapshare-bench-") as tmp:
        template, frames = template_and_frames(Path(tmp), args)
        for n in range(args.runs):
            load = os.getloadavg()[0]
            result = {"run": n + 1, **measure(template, frames, args.batch), "load_average": load}
            results.append(result)
            print(json.dumps(result), flush=True)
    return args, results


def main() -> None:
    args, results = measured_runs(__doc__, run)
    median = statistics.median(r["writer_cpu_us_per_opinion"] for r in results)
    summary = {"runs": args.runs, "batch": args.batch, "stored": args.stored}
    print(json.dumps({**summary, "median_us_per_opinion": median}))


if __name__ == "__main__":
    main()
