"""Benchmark of voting by phone: concurrent phones on distinct NFC stickers.

Everything real: a Mosquitto, ``tapshare hub`` and ``tapshare --broker … dashboard`` as
child processes on a fresh database with one festival, ``--artworks`` artworks and a
sticker at each. Each phone is a keep-alive HTTP client with its own sticker: it opens a
fresh tap's address (the vote page) and posts a vote, as a new visitor every time.

Prints one JSON object:

- ``max``: every phone votes as fast as it can for ``--seconds``: ``votes_per_second``
  the dashboard accepted (answered "recorded"), ``kept`` votes answered "kept" instead;
- ``paced``: the phones together vote at ``--rate`` votes/s for ``--seconds``:
  ``post_to_ack_ms`` p50/p99 of the vote's POST, whose answer the dashboard sends only once
  the broker has acknowledged the Opinion (so it bounds POST-to-acknowledgement from above);
  ``tap_to_board_ms`` p50/p99 from the vote's POST until the public board's event stream
  shows that artwork's new visitor;
- ``vote_page_bytes``: the vote page's HTML plus its stylesheet.

Usage: .venv/bin/python bench/phone.py [--phones 50] [--rate 50] [--seconds 15]
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from consent.store import PolicyStore  # noqa: E402
from hub import registry, sdm, stickers  # noqa: E402
from storage import connect  # noqa: E402
from tapshare.database import migrate  # noqa: E402
from tapshare.mosquitto import Mosquitto  # noqa: E402

FESTIVAL = "bench"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def prepare(db: Path, artworks: int) -> list[tuple[str, bytes, bytes]]:
    """The festival, its artworks and stickers; (sticker, meta key, file key) each."""
    migrate(db)
    conn = connect(db)
    registry.add_festival(conn, FESTIVAL, "Bench")
    rules = [
        {
            "effect": "permit",
            "to": "public",
            "action": "display",
            "level": "artwork",
            "min_visitors": 1,
        }
    ]
    PolicyStore(conn).set(FESTIVAL, {"rules": rules}, "bench", "bench", {FESTIVAL})
    found = []
    for number in range(artworks):
        registry.add_artwork(conn, FESTIVAL, f"a-{number:03d}", f"Artwork {number}")
        sticker = stickers.add(conn, FESTIVAL, f"s-{number:03d}", f"a-{number:03d}")
        found.append((sticker.id, *sticker.keys()))
    conn.close()
    return found


class Child:
    """A ``tapshare`` command as a child process; waits for a line on its standard error."""

    def __init__(self, args: list[str], ready: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tapshare", *args], cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
        assert self.process.stderr is not None
        self.line = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                raise SystemExit(f"tapshare {args[-1]} stopped: {self.line}")
            if re.search(ready, line):
                self.line = line
                break
        threading.Thread(target=self.process.stderr.read, daemon=True).start()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


class Phone:
    """One phone at one sticker: taps, opens the vote page, votes."""

    def __init__(self, port: int, sticker: str, meta: bytes, file: bytes, number: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.sticker, self.keys = sticker, (meta, file)
        self.uid = b"\x04" + number.to_bytes(6, "big")
        self.counter = 0

    def vote(self) -> tuple[float, float, bool]:
        """(POST start, POST seconds, recorded) for one fresh tap."""
        self.counter += 1
        picc, cmac = sdm.make_tap(self.uid, self.counter, *self.keys)
        path = f"/t/{FESTIVAL}/{self.sticker}"
        self.conn.request("GET", f"{path}?picc_data={picc}&cmac={cmac}")
        page = self.conn.getresponse()
        page.read()
        if page.status != 200:
            raise SystemExit(f"the vote page answered {page.status}")
        body = urlencode({"picc_data": picc, "cmac": cmac, "choice": "love"})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        started = time.monotonic()
        self.conn.request("POST", path, body, headers)
        answer = self.conn.getresponse()
        text = answer.read().decode()
        elapsed = time.monotonic() - started
        if answer.status != 200:
            raise SystemExit(f"the vote answered {answer.status}")
        return started, elapsed, "Recorded" in text


class Board:
    """The public board's event stream: when each artwork's visitor count rose, and to what."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.request("GET", "/api/v1/boards/public/stream")
        self.response = self.conn.getresponse()
        self.seen: dict[str, list[tuple[int, float]]] = {}
        self.total = 0
        self.lock = threading.Lock()
        self.stopping = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while not self.stopping:
            line = self.response.readline()
            if not line:
                return
            if not line.startswith(b"data:"):
                continue
            now = time.monotonic()
            board = json.loads(line[5:])
            with self.lock:
                total = 0
                for section in board["sections"]:
                    for cell in section["cells"]:
                        history = self.seen.setdefault(cell["artwork"], [])
                        if not history or history[-1][0] != cell["visitors"]:
                            history.append((cell["visitors"], now))
                        total += cell["visitors"]
                self.total = total

    def visitors(self, artwork: str) -> int:
        with self.lock:
            history = self.seen.get(artwork)
            return history[-1][0] if history else 0

    def when(self, artwork: str, visitors: int) -> float | None:
        """When the board first showed at least ``visitors`` visitors on the artwork."""
        with self.lock:
            for count, moment in self.seen.get(artwork, []):
                if count >= visitors:
                    return moment
        return None


def run_phones(phones: list[Phone], seconds: float, interval: float) -> list[list[tuple]]:
    """Each phone votes every ``interval`` seconds (0: as fast as it can) for ``seconds``."""
    results: list[list[tuple]] = [[] for _ in phones]
    stop = time.monotonic() + seconds

    def work(slot: int) -> None:
        phone = phones[slot]
        # Spread the phones over the interval so that the rate is even.
        next_at = time.monotonic() + interval * slot / len(phones)
        while time.monotonic() < stop:
            if interval:
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
            results[slot].append(phone.vote())

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(phones))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--rate", type=float, default=50.0, help="votes/s of the paced run")
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tapshare-phone-bench-") as directory:
        db = Path(directory) / "tapshare.db"
        found = prepare(db, args.phones)
        broker = Mosquitto()
        broker.start()
        url = f"mqtt://127.0.0.1:{broker.port}"
        hub = Child(["--db", str(db), "--broker", url, "hub"], "subscribed to")
        dash = Child(
            ["--db", str(db), "--broker", url, "dashboard", "--port", "0", "--threads", "200"],
            r"http://127\.0\.0\.1:\d+/",
        )
        port = int(re.findall(r"127\.0\.0\.1:(\d+)", dash.line)[0])
        try:
            result = measure(port, found, args)
        finally:
            dash.stop()
            hub.stop()
            broker.close()
    print(json.dumps(result, indent=2))


def measure(port: int, found: list[tuple[str, bytes, bytes]], args: argparse.Namespace) -> dict:
    phones = [Phone(port, sticker, meta, file, n) for n, (sticker, meta, file) in enumerate(found)]
    page_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    picc, cmac = sdm.make_tap(b"\x04" + bytes(6), 1, found[0][1], found[0][2])
    page_conn.request("GET", f"/t/{FESTIVAL}/{found[0][0]}?picc_data={picc}&cmac={cmac}")
    page_bytes = len(page_conn.getresponse().read())
    page_conn.request("GET", "/static/phone.css")
    page_bytes += len(page_conn.getresponse().read())

    board = Board(port)
    started = time.monotonic()
    fast = run_phones(phones, args.seconds, 0.0)
    elapsed = time.monotonic() - started
    recorded = sum(1 for votes in fast for _, _, ok in votes if ok)
    total = sum(len(votes) for votes in fast)
    # Let the hub and board catch up before the paced run, so its baseline is known.
    deadline = time.monotonic() + 30
    while board.total < total and time.monotonic() < deadline:
        time.sleep(0.1)
    base = {sticker: board.visitors(f"a-{sticker[2:]}") for sticker, _, _ in found}

    interval = len(phones) / args.rate
    paced = run_phones(phones, args.seconds, interval)
    time.sleep(3)
    posts = [seconds * 1000 for votes in paced for _, seconds, _ in votes]
    to_board, missing = [], 0
    for phone, votes in zip(phones, paced, strict=True):
        artwork = f"a-{phone.sticker[2:]}"
        for number, (start, _, _) in enumerate(votes, start=1):
            seen = board.when(artwork, base[phone.sticker] + number)
            if seen is None:
                missing += 1
            else:
                to_board.append((seen - start) * 1000)
    board.stopping = True
    paced_total = sum(len(v) for v in paced)
    return {
        "phones": len(phones),
        "max": {
            "seconds": round(elapsed, 1),
            "votes": total,
            "votes_per_second": round(recorded / elapsed, 1),
            "kept": total - recorded,
        },
        "paced": {
            "target_votes_per_second": args.rate,
            "votes_per_second": round(paced_total / args.seconds, 1),
            "votes": paced_total,
            "kept": sum(1 for v in paced for _, _, ok in v if not ok),
            "post_to_ack_ms": {
                "p50": round(percentile(posts, 0.5), 1),
                "p99": round(percentile(posts, 0.99), 1),
            },
            "tap_to_board_ms": {
                "p50": round(percentile(to_board, 0.5), 1),
                "p99": round(percentile(to_board, 0.99), 1),
                "not_seen": missing,
            },
        },
        "vote_page_bytes": page_bytes,
    }


if __name__ == "__main__":
    main()
