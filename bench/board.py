"""Benchmark of the dashboard: board requests per second at a million stored taps, beside a
constant-JSON endpoint on the same server in the same run, and how many event streams one
dashboard process holds with updates still arriving within a second.

Prints one JSON object. The server is ``tapshare dashboard`` itself, run as a child
process on the generated database (kept under ``bench/.data`` for the next run).

    .venv/bin/python bench/board.py [--taps 1000000] [--festivals 10] [--artworks 1000]
"""

from __future__ import annotations

import http.client
import json
import os
import re
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from hub import write_path  # noqa: E402
from protocol import new_message_id  # noqa: E402
from protocol.messages import Opinion  # noqa: E402
from storage import connect  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))

from board_data import SECRET, data_arguments, database, festival_ids  # noqa: E402

# -- server --------------------------------------------------------------------------------


class Server:
    """``tapshare dashboard`` as a child process."""

    def __init__(self, db: Path, threads: int) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tapshare",
                "--db",
                str(db),
                "dashboard",
                "--port",
                "0",
                "--threads",
                str(threads),
                # Every stream is opened from this one address.
                "--max-streams-per-client",
                str(threads),
            ],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        line = self.process.stderr.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not found:
            self.process.kill()
            raise SystemExit(f"the dashboard did not start: {line}")
        self.port = int(found.group(1))
        # Keep reading its log so that a full pipe never blocks it.
        threading.Thread(target=self.process.stderr.read, daemon=True).start()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def throughput(
    port: int, path: str, seconds: float, clients: int, headers: dict | None = None
) -> dict:
    """Requests per second of ``clients`` keep-alive clients asking for ``path``."""
    done = [0] * clients
    failures = [0] * clients
    size = [0]
    stop = time.monotonic() + seconds

    def client(slot: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            body = response.read()
            if response.status == 200:
                done[slot] += 1
                size[0] = len(body)
            else:
                failures[slot] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "requests_per_second": round(sum(done) / elapsed, 1),
        "errors": sum(failures),
        "body_bytes": size[0],
    }


# -- streams -------------------------------------------------------------------------------


class Reader:
    """One stream's bytes as they arrive: the HTTP head, chunked framing if any, and the
    complete server-sent events of the body. Every search covers only new bytes, so a
    large event costs its copy and one scan, however many pieces it arrives in."""

    def __init__(self) -> None:
        self.raw = bytearray()
        self.head = True
        self.chunked = False
        self.left = 0  # bytes of the current chunk still to come
        self.body = bytearray()
        self.scanned = 0  # body bytes already searched for an event's end

    def feed(self, chunk: bytes) -> list[int]:
        """Take ``chunk``; the ids of the events it completed."""
        self.raw += chunk
        if self.head:
            end = self.raw.find(b"\r\n\r\n")
            if end < 0:
                return []
            head = bytes(self.raw[:end]).lower()
            self.chunked = b"transfer-encoding: chunked" in head
            del self.raw[: end + 4]
            self.head = False
        if self.chunked:
            self._dechunk()
        else:
            self.body += self.raw
            self.raw.clear()
        return self._events()

    def _dechunk(self) -> None:
        raw, taken = self.raw, 0
        while taken < len(raw):
            if self.left:
                part = raw[taken : taken + self.left]
                self.body += part
                taken += len(part)
                self.left -= len(part)
                continue
            # A chunk's size line, after the previous chunk's CRLF.
            if raw.startswith(b"\r\n", taken):
                taken += 2
                continue
            end = raw.find(b"\r\n", taken)
            if end < 0:
                break
            self.left = int(raw[taken:end].split(b";")[0], 16)
            taken = end + 2
        del raw[:taken]

    def _events(self) -> list[int]:
        ids = []
        body = self.body
        start = 0
        end = body.find(b"\n\n", max(0, self.scanned - 1))
        while end >= 0:
            if body.startswith(b"id: ", start):
                ids.append(int(body[start + 4 : body.index(b"\n", start)]))
            start = end + 2
            end = body.find(b"\n\n", start)
        del body[:start]
        self.scanned = len(body)
        return ids


class Streams:
    """Many open event streams read by one thread with a selector; an event counts as
    arrived when its last byte has."""

    def __init__(self, port: int, paths: list[str]) -> None:
        self.selector = selectors.DefaultSelector()
        self.latest: dict[socket.socket, int] = {}
        self.arrived: dict[socket.socket, float] = {}
        for path in paths:
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n".encode()
            )
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, Reader())
            self.latest[sock] = 0

    def pump(self, until: float) -> None:
        while time.monotonic() < until:
            for key, _ in self.selector.select(timeout=0.05):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    chunk = sock.recv(262144)
                except BlockingIOError:
                    continue
                if not chunk:
                    self.selector.unregister(sock)
                    continue
                ids = key.data.feed(chunk)
                if ids and ids[-1] > self.latest[sock]:
                    self.latest[sock] = ids[-1]
                    self.arrived[sock] = time.monotonic()

    def wait_all_beyond(self, versions: dict[socket.socket, int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(time.monotonic() + 0.05)
            if all(self.latest[s] > v for s, v in versions.items()):
                return True
        return False

    def close(self) -> None:
        for sock in list(self.latest):
            sock.close()
        self.selector.close()


def add_tap(db_path: Path, festival: str, number: int) -> None:
    opinion = Opinion.build(
        id=new_message_id(),
        festival=festival,
        station="st-01",
        artwork="aw-000",
        visitor=uuid.uuid4().hex * 2,
        choice="love",
        tapped_at=datetime.now(UTC),
        seq=10**9 + number,
        station_secret=SECRET,
    )
    db = connect(db_path)
    write_path.write_batch(db, [write_path.StoreOpinion(opinion, datetime.now(UTC))], {})
    db.close()


def open_streams(port: int) -> float:
    """The server's open-streams gauge, from ``/metrics``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    found = re.search(r"(?m)^tapshare_dashboard_open_streams (\S+)$", text)
    return float(found.group(1)) if found else 0.0


def screen_keys(db_path: Path, festivals: list[str]) -> dict[str, str]:
    """A fresh screen key of each festival's board (the previous run's are revoked)."""
    from dashboard.screens import add_screen, revoke_screen, screens

    db = connect(db_path)
    try:
        for festival in festivals:
            for screen in screens(db, festival):
                revoke_screen(db, festival, screen.name)
        return {festival: add_screen(db, festival, "bench") for festival in festivals}
    finally:
        db.close()


def board_path(board: str, keys: dict[str, str], suffix: str = "") -> str:
    """The API path of a board, with the festival's screen key (``public`` needs none)."""
    path = f"/api/v1/boards/{board}{suffix}"
    return path if board == "public" else f"{path}?key={keys[board]}"


def stream_level(
    port: int, db_path: Path, count: int, boards: list[str], updates: int, keys: dict[str, str]
) -> dict:
    """Open ``count`` streams over ``boards``; commit ``updates`` taps; time their arrival."""
    # The previous level's streams are closed; start when the server has let them go.
    deadline = time.monotonic() + 30
    while open_streams(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    paths = [board_path(boards[n % len(boards)], keys, "/stream") for n in range(count)]
    streams = Streams(port, paths)
    try:
        opened = streams.wait_all_beyond({s: 0 for s in streams.latest}, timeout=120)
        if not opened:
            got = sum(1 for v in streams.latest.values() if v > 0)
            return {"streams": count, "opened": got, "held": False}
        latencies: list[float] = []
        for update in range(updates):
            before = dict(streams.latest)
            streams.arrived.clear()
            committed = time.monotonic()
            add_tap(db_path, "fest-00", count * 100 + update)
            arrived = streams.wait_all_beyond(before, timeout=10)
            latencies += [streams.arrived[s] - committed for s in before if s in streams.arrived]
            if not arrived:
                return {"streams": count, "held": False, "missed": count - len(streams.arrived)}
            time.sleep(0.5)
        latencies.sort()
        return {
            "streams": count,
            "held": latencies[-1] < 1.0,
            "latency_p50_s": round(statistics.median(latencies), 3),
            "latency_p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3),
            "latency_max_s": round(latencies[-1], 3),
        }
    finally:
        streams.close()


# -- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = data_arguments(__doc__)
    parser.add_argument("--streams", default="100,250,500,750,1000")
    parser.add_argument("--updates", type=int, default=3, help="updates per stream level")
    parser.add_argument("--threads", type=int, default=1050)
    parser.add_argument(
        "--stream-boards",
        default="public",
        help="comma-separated boards the streams watch: public or festival ids",
    )
    args = parser.parse_args()

    started = time.monotonic()
    db_path = database(args.taps, args.festivals, args.artworks)
    prepared = time.monotonic() - started
    keys = screen_keys(db_path, festival_ids(args.festivals))
    server = Server(db_path, args.threads)
    try:
        throughput(server.port, "/api/v1/boards/public", 1.0, 2)  # warm up
        rounds = {"constant": [], "public_board": [], "festival_board": []}
        for _ in range(2):  # interleaved, so that other load on the machine hits both
            rounds["constant"].append(
                throughput(server.port, "/api/v1/ping", args.seconds, args.clients)
            )
            rounds["public_board"].append(
                throughput(server.port, "/api/v1/boards/public", args.seconds, args.clients)
            )
            rounds["festival_board"].append(
                throughput(server.port, board_path("fest-00", keys), args.seconds, args.clients)
            )
        rate = {
            name: round(statistics.mean(r["requests_per_second"] for r in runs), 1)
            for name, runs in rounds.items()
        }
        boards = args.stream_boards.split(",")
        levels = []
        for count in (int(n) for n in args.streams.split(",")):
            result = stream_level(server.port, db_path, count, boards, args.updates, keys)
            levels.append(result)
            print(f"streams: {result}", file=sys.stderr, flush=True)
            if not result["held"]:
                break
    finally:
        server.stop()
    held = [level["streams"] for level in levels if level["held"]]
    print(
        json.dumps(
            {
                "benchmark": "dashboard board",
                "taps": args.taps,
                "festivals": args.festivals,
                "artworks": args.artworks,
                "cpus": os.cpu_count(),
                "clients": args.clients,
                "requests_per_second": rate,
                "errors": sum(r["errors"] for runs in rounds.values() for r in runs),
                "body_bytes": {name: runs[0]["body_bytes"] for name, runs in rounds.items()},
                "ratio_public_board_to_constant": round(rate["public_board"] / rate["constant"], 3),
                "ratio_festival_board_to_constant": round(
                    rate["festival_board"] / rate["constant"], 3
                ),
                "stream_levels": levels,
                "stream_boards": boards,
                "max_streams_with_updates_within_1s": max(held) if held else 0,
                "database_prepare_seconds": round(prepared, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
