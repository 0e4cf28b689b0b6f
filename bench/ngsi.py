"""Benchmark of the NGSI-LD API: entities per second served to an urban data platform for
``GET /ngsi-ld/v1/entities?type=OpinionSummary&limit=1000`` at a million stored taps,
beside the constant-JSON endpoint on the same server in the same run.

The database is the dashboard benchmark's (``bench/board_data.py``, cached under
``bench/.data``), copied once and given ``export`` rules for the platform: every festival
per artwork from 5 visitors on, one of them 15 minutes late, so that one response holds
all 1,000 artworks. Every request is a platform read: it checks the key and writes one
access-log entry per festival, as in production. Prints one JSON object.

    .venv/bin/python bench/ngsi.py [--taps 1000000] [--festivals 10] [--artworks 1000]
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import board  # noqa: E402
import board_data  # noqa: E402

from consent.store import PolicyStore  # noqa: E402
from hub import registry  # noqa: E402
from storage import connect  # noqa: E402
from tapshare.database import migrate  # noqa: E402

PATH = "/ngsi-ld/v1/entities?type=OpinionSummary&limit=1000"
KEY_NAME = "bench"


def export_rules(index: int, festivals: list[str]) -> list[dict]:
    """The board benchmark's rules plus an export to the platform."""
    rule = {
        "effect": "permit",
        "to": "platform",
        "action": "export",
        "level": "artwork",
        "min_visitors": 5,
    }
    if index == 1:
        rule["delay_minutes"] = 15
    return [*board_data.rules_for(index, festivals), rule]


def database(taps: int, festivals: int, artworks: int) -> Path:
    """A copy of the board benchmark's database with export rules for the platform."""
    base = board_data.database(taps, festivals, artworks)
    path = base.with_name(base.name.replace("board-", "ngsi-"))
    if not path.exists():
        partial = path.with_suffix(".partial.db")
        shutil.copyfile(base, partial)
        db = connect(partial)
        ids = board_data.festival_ids(festivals)
        policies = PolicyStore(db)
        for index, festival in enumerate(ids):
            rules = {"rules": export_rules(index, ids)}
            policies.set(festival, rules, "bench", "platform export", set(ids))
        db.close()
        partial.rename(path)
    migrate(path)
    return path


def platform_key(path: Path) -> str:
    """A fresh platform key for this run."""
    db = connect(path)
    try:
        if any(name == KEY_NAME for name, _, _ in registry.platform_keys(db)):
            registry.revoke_platform_key(db, KEY_NAME)
        return registry.add_platform_key(db, KEY_NAME)
    finally:
        db.close()


def entities_per_response(port: int, headers: dict) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", PATH, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{PATH} answered {response.status}: {body[:300]!r}")
        return len(json.loads(body))
    finally:
        conn.close()


def main() -> None:
    parser = board_data.data_arguments(__doc__)
    parser.add_argument("--threads", type=int, default=64)
    args = parser.parse_args()

    started = time.monotonic()
    db_path = database(args.taps, args.festivals, args.artworks)
    headers = {"Authorization": f"Bearer {platform_key(db_path)}"}
    prepared = time.monotonic() - started
    server = board.Server(db_path, args.threads)
    try:
        per_response = entities_per_response(server.port, headers)
        board.throughput(server.port, PATH, 1.0, 2, headers)  # warm up
        rounds: dict[str, list[dict]] = {"constant": [], "ngsi": []}
        for _ in range(2):  # interleaved, so that other load on the machine hits both
            rounds["constant"].append(
                board.throughput(server.port, "/api/v1/ping", args.seconds, args.clients)
            )
            rounds["ngsi"].append(
                board.throughput(server.port, PATH, args.seconds, args.clients, headers)
            )
    finally:
        server.stop()
    rate = {
        name: round(statistics.mean(r["requests_per_second"] for r in runs), 2)
        for name, runs in rounds.items()
    }
    entities_per_second = round(rate["ngsi"] * per_response, 1)
    print(
        json.dumps(
            {
                "benchmark": "NGSI-LD entities",
                "path": PATH,
                "viewer": "platform",
                "taps": args.taps,
                "festivals": args.festivals,
                "artworks": args.artworks,
                "cpus": os.cpu_count(),
                "clients": args.clients,
                "entities_per_response": per_response,
                "requests_per_second": rate,
                "entities_per_second": entities_per_second,
                "ratio_entities_per_second_to_constant_requests_per_second": round(
                    entities_per_second / rate["constant"], 3
                ),
                "ratio_requests_to_constant": round(rate["ngsi"] / rate["constant"], 4),
                "errors": sum(r["errors"] for runs in rounds.values() for r in runs),
                "body_bytes": {name: runs[0]["body_bytes"] for name, runs in rounds.items()},
                "database_prepare_seconds": round(prepared, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
