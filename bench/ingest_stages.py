"""Hub writer stages: the CPU time per opinion of each stage of the writer's work.

Does in this process, on a fresh database with one festival of 4 stations and 10 artworks,
what the writer process does with N signed opinions in batches of ``--batch``, and times
each stage with ``time.process_time`` (CPU time, not waiting for the disk):

- ``pipe_and_frames``: unpickling the chunks the hub sends and making each message;
- ``validation``: the fast reading of each payload (hub.wire);
- ``signature``: the canonical bytes and the HMAC check;
- ``decision_rest``: the rest of :func:`hub.validate.classify` (topic, registry, artwork,
  choice, clock, the item to store), i.e. classify less the two stages above;
- ``sql_statements``: every SQL statement of :func:`hub.write_path.write_batch` but the commit;
- ``commit``: the ``COMMIT`` (write-ahead log, sync);
- ``write_rest``: the rest of ``write_batch`` (rows to write, duplicates, counters).

Prints one JSON line per run, then the medians. The writer process's own total is what
``bench/ingest_writer.py`` measures; it also pays for its pipe answers and metrics.

``--stored N`` first stores N taps, as ``bench/ingest_writer.py --stored`` does.

Usage: .venv/bin/python bench/ingest_stages.py [--count 40000] [--batch 4000] [--runs 3]
       [--stored 0]
"""

from __future__ import annotations

import json
import pickle
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest_writer import measured_runs
from hub import metrics, write_path, writer
from hub.ingest import MAX_CHUNK
from hub.validate import RegistryView, classify
from hub.wire import read_opinion
from protocol import canonical_opinion
from storage import connect


class TimedConnection:
    """A SQLite connection that adds the CPU time of its statements to ``timers``."""

    def __init__(self, conn: Any, timers: Counter[str]) -> None:
        self._conn = conn
        self._timers = timers

    def _timed(self, method: str, sql: str, *args: Any) -> Any:
        started = time.process_time()
        result = getattr(self._conn, method)(sql, *args)
        stage = "commit" if sql == "COMMIT" else "sql_statements"
        self._timers[stage] += time.process_time() - started
        return result

    def execute(self, sql: str, *args: Any) -> Any:
        return self._timed("execute", sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        return self._timed("executemany", sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def run(template: Path, frames: list[writer.Frame], batch: int) -> dict[str, float]:
    """One run on a copy of the template database: CPU µs per opinion of each stage."""
    timers: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="tapshare-bench-") as tmp:
        db_path = Path(tmp) / "bench.db"
        shutil.copy(template, db_path)
        db = connect(db_path, "FULL")
        markers = write_path.load_markers(db)
        db.conn = TimedConnection(db.conn, timers)  # type: ignore[assignment]
        chunks = [pickle.dumps(frames[s : s + MAX_CHUNK]) for s in range(0, len(frames), MAX_CHUNK)]
        started = time.process_time()
        for chunk in chunks:
            [writer.received(frame) for frame in pickle.loads(chunk)]
        timers["pipe_and_frames"] += time.process_time() - started
        for start in range(0, len(frames), batch):
            messages = [writer.received(frame) for frame in frames[start : start + batch]]
            registry, now = RegistryView(db), datetime.now(UTC)
            started = time.process_time()
            read = [read_opinion(m.payload) for m in messages]
            timers["validation"] += time.process_time() - started
            senders = [registry.sender(w.festival, w.station) for w, _ in read]  # type: ignore[misc]
            started = time.process_time()
            for (w, _), sender in zip(read, senders, strict=True):  # type: ignore[misc]
                assert sender.verifier.verify(canonical_opinion(w), w.sig)
            timers["signature"] += time.process_time() - started
            started = time.process_time()
            items = [classify(registry, m, now) for m in messages]
            timers["classify"] += time.process_time() - started
            started = time.process_time()
            write_path.write_batch(db, items, metrics.new_counters(), metrics.outcome, markers)
            timers["write_batch"] += time.process_time() - started
        db.conn._conn.close()  # type: ignore[attr-defined]
    timers["decision_rest"] = timers.pop("classify") - timers["validation"] - timers["signature"]
    timers["write_rest"] = timers.pop("write_batch") - timers["sql_statements"] - timers["commit"]
    stages = {stage: round(1e6 * seconds / len(frames), 1) for stage, seconds in timers.items()}
    return {**stages, "total": round(sum(stages.values()), 1)}


def main() -> None:
    args, results = measured_runs(__doc__, run)
    stages = [key for key in results[0] if key not in ("run", "load_average")]
    medians = {key: statistics.median(r[key] for r in results) for key in stages}
    summary = {"runs": args.runs, "batch": args.batch, "stored": args.stored}
    print(json.dumps({**summary, "median_us_per_opinion": medians}))


if __name__ == "__main__":
    main()
