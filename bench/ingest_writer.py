"""Hub writer benchmark: the writer process alone, fed through its pipe as the hub feeds it.

Starts the hub's writer process (``hub.writer.serve``) on a fresh database with one
festival of 4 stations and 10 artworks, sends it N signed opinions in chunks of 500 (as
the network process does, with no broker), and prints one JSON line per run with the
writer's CPU time per opinion, from its own ``getrusage`` between its being ready and its
last commit, then the median. Without the broker and the network process competing for
the cores, this is the steadiest figure of the write path.

Usage: .venv/bin/python bench/ingest_writer.py [--count 40000] [--batch 4000] [--runs 3]
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import build, make_database
from hub import writer
from hub.ingest import MAX_CHUNK


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40_000)
    parser.add_argument("--batch", type=int, default=4000, help="most messages per commit")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tapshare-bench-") as tmp:
        template = Path(tmp) / "template.db"
        stations = make_database(template)
        messages = build(stations, args.count, datetime.now(UTC) - timedelta(hours=2), 1)
        frames = [(topic, payload, time.time(), False, 1) for topic, payload in messages]
        results = []
        for n in range(args.runs):
            load = os.getloadavg()[0]
            result = {"run": n + 1, **run(template, frames, args.batch), "load_average": load}
            results.append(result)
            print(json.dumps(result), flush=True)
    median = statistics.median(r["writer_cpu_us_per_opinion"] for r in results)
    print(json.dumps({"runs": args.runs, "batch": args.batch, "median_us_per_opinion": median}))


if __name__ == "__main__":
    main()
