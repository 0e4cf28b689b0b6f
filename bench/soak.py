"""Soak: stations, hub and dashboard together at a festival-like load for a given time.

Starts a private Mosquitto with per-station credentials (as ``tapshare broker-config``
writes them), the hub (``tapshare hub``) and the dashboard (``tapshare dashboard``) as
processes, and the stations in a few worker processes (each runs many
``reader_agent.agent.Station`` objects with simulated readers, as ``tapshare reader``
does one). Open boards are event streams on ``/api/v1/boards/ID/stream``, read by this
process. After ``--seconds`` the readers stop, the outboxes drain, and it prints JSON:

- ``taps``: ``published`` (recorded in a station outbox), ``stored`` (rows in the hub's
  ``taps``), ``rejected`` (dead letters), ``lost`` = published - stored, ``left_in_outboxes``;
- ``tap_to_board_ms``: p50/p99/max over every (tap, open board of its festival) pair of
  the time from the tap's ``tapped_at`` (station clock, same machine) to the arrival of
  the first event of that board that reflects it. Every tap comes from a fresh visitor
  (a pool of 10^9), and the hub commits taps in ``tap_no`` order from one writer, so a
  board whose own section counts ``N`` current opinions reflects exactly the first taps
  of that festival (by ``tap_no``) that bring the number of distinct (visitor, artwork)
  pairs to ``N``. ``unreflected`` counts pairs no event reflected before the end;
- ``rss_mb`` per process: ``peak`` (VmHWM), and the mean RSS of the first and last
  thirds of the run; ``grew`` is true when the last third is above the first by more
  than 10 % and 10 MB (memory that keeps growing rather than levelling off).

Usage: .venv/bin/python bench/soak.py [--seconds 60] [--stations 200] [--rate 50]
       [--boards 100] [--festivals 4] [--artworks 5] [--workers 4]
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import http.client
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub.models import DEFAULT_CHOICES  # noqa: E402
from protocol import write_private  # noqa: E402
from protocol.broker import BrokerURL  # noqa: E402
from tapshare.mosquitto import Mosquitto  # noqa: E402
from tapshare.processes import ProcessGroup, wait_for_line  # noqa: E402

CHOICES = DEFAULT_CHOICES
VISITOR_POOL = 10**9


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- setup ----------------------------------------------------------------------------


def register(args: argparse.Namespace, data: Path, port: int) -> tuple[dict[str, str], list[Path]]:
    """Festivals, artworks and stations; return each festival's screen key (by festival id)
    and the station.toml files."""
    from dashboard.screens import add_screen
    from hub import registry
    from storage import connect
    from tapshare.database import migrate

    db_path = data / "tapshare.db"
    migrate(db_path)
    db = connect(db_path)
    festivals = [f"fest-{n}" for n in range(args.festivals)]
    keys: dict[str, str] = {}
    configs: list[Path] = []
    rate = args.rate / args.stations
    try:
        for festival in festivals:
            registry.add_festival(db, festival, festival.upper())
            keys[festival] = add_screen(db, festival, "soak")
            for a in range(args.artworks):
                registry.add_artwork(db, festival, f"aw-{a}", f"Artwork {a}")
        for number in range(args.stations):
            festival = festivals[number % len(festivals)]
            station = f"st-{number:03d}"
            credentials = registry.add_station(db, festival, station)
            outbox = data / "stations" / f"{festival}-{station}.outbox.db"
            device = (
                f"sim:rate={rate:.4f},vary=0.3,period=120,visitors={VISITOR_POOL},"
                f"pool={festival},seed={number}"
            )
            text = registry.station_toml(credentials, BrokerURL("127.0.0.1", port), str(outbox))
            text += (
                f'\n[[readers]]\ndevice = "{device}"\n'
                f'artwork = "aw-{number % args.artworks}"\n'
                f'choice = "{CHOICES[number % len(CHOICES)]}"\n'
            )
            path = data / "stations" / f"{festival}-{station}.toml"
            write_private(path, text)
            configs.append(path)
    finally:
        db.close()
    return keys, configs


def start_mosquitto(data: Path, port: int) -> tuple[Mosquitto, BrokerURL]:
    from hub.broker_config import HUB_USERNAME, write_broker_config
    from storage import connect

    db = connect(data / "tapshare.db")
    try:
        written = write_broker_config(db, data / "broker", rotate_hub_password=True)
    finally:
        db.close()
    broker = Mosquitto(
        port=port,
        password_file=written.password_file,
        acl_file=written.acl_file,
        extra_config=["max_inflight_messages 10000", "max_queued_messages 0"],
    )
    broker.start()
    assert written.hub_password is not None
    return broker, BrokerURL("127.0.0.1", port, False, HUB_USERNAME, written.hub_password)


# -- station workers --------------------------------------------------------------------


def run_worker(config_list: Path, result_path: Path) -> None:
    """Run the stations of ``config_list`` until SIGTERM; drain; write counts as JSON."""
    import logging

    from reader_agent.agent import Station
    from reader_agent.settings import load_settings

    logging.basicConfig(level=logging.WARNING)
    recorded = 0
    lock = threading.Lock()

    def on_tap(reader: Any, result: Any, seconds: float) -> None:
        nonlocal recorded
        if result.outcome == "recorded":
            with lock:
                recorded += 1

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda number, frame: stop.set())
    stations = [
        Station(load_settings(Path(line)), on_tap)
        for line in config_list.read_text().splitlines()
        if line
    ]
    for station in stations:
        station.start()
    print("ready", flush=True)
    stop.wait()
    # Readers watch the station's event; the publishers have their own, so they go on
    # sending what is left in the outboxes.
    for station in stations:
        station.stopping.set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and any(len(s.outbox) for s in stations):
        time.sleep(0.2)
    left = sum(len(s.outbox) for s in stations)
    for station in stations:
        station.shutdown()
    result_path.write_text(json.dumps({"recorded": recorded, "left": left}))


# -- boards -----------------------------------------------------------------------------


class BoardWatcher(threading.Thread):
    """One open event stream: the arrival time and own-section total of each event."""

    def __init__(self, port: int, festival: str, key: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.festival = festival
        self.key = key
        self.stop_event = stop
        self.events: list[tuple[float, int]] = []
        self.opened = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            connection.request(
                "GET",
                f"/api/v1/boards/{self.festival}/stream",
                headers={"Authorization": f"Bearer {self.key}"},
            )
            response = connection.getresponse()
            if response.status != 200:
                self.error = f"status {response.status}"
                return
            self.opened.set()
            data: list[str] = []
            while not self.stop_event.is_set():
                line = response.fp.readline()
                if not line:
                    self.error = "stream closed"
                    return
                text = line.decode().rstrip("\n")
                if text.startswith("data: "):
                    data.append(text[6:])
                elif not text and data:
                    self.events.append((time.time(), self.total("\n".join(data))))
                    data = []
        except OSError as exc:
            if not self.stop_event.is_set():
                self.error = str(exc)
        finally:
            self.opened.set()

    def total(self, payload: str) -> int:
        board = json.loads(payload)
        for section in board["sections"]:
            if section["festival"] == self.festival:
                return sum(sum(cell["counts"].values()) for cell in section["cells"])
        return 0


def latencies(db_path: Path, watchers: list[BoardWatcher]) -> tuple[list[float], int]:
    """Tap-to-board latencies (ms) over every (tap, watcher of its festival) pair."""
    from storage import connect

    db = connect(db_path)
    needed: dict[str, list[tuple[float, int]]] = {}
    try:
        for festival in {w.festival for w in watchers}:
            seen: set[tuple[str, str]] = set()
            rows = []
            for visitor, artwork, tapped_us in db.execute(
                "select visitor, artwork, tapped_us from taps where festival = ? order by tap_no",
                [festival],
            ):
                seen.add((visitor, artwork))
                rows.append((tapped_us / 1e6, len(seen)))
            needed[festival] = rows
    finally:
        db.close()
    found: list[float] = []
    unreflected = 0
    for watcher in watchers:
        times = [t for t, _ in watcher.events]
        totals: list[int] = []
        highest = 0
        for _, total in watcher.events:
            highest = max(highest, total)
            totals.append(highest)
        for tapped, count in needed[watcher.festival]:
            index = bisect.bisect_left(totals, count)
            if index == len(totals):
                unreflected += 1
            else:
                found.append((times[index] - tapped) * 1000)
    return found, unreflected


# -- memory -----------------------------------------------------------------------------


def rss_kb(pid: int, field: str = "VmRSS") -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


class MemorySampler(threading.Thread):
    def __init__(self, pids: dict[str, int], every: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.every = every
        self.samples: dict[str, list[int]] = {name: [] for name in pids}
        self.peaks: dict[str, int] = {}
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(self.every):
            for name, pid in self.pids.items():
                value = rss_kb(pid)
                if value is not None:
                    self.samples[name].append(value)
                peak = rss_kb(pid, "VmHWM")
                if peak is not None:
                    self.peaks[name] = peak

    def report(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, values in self.samples.items():
            third = max(1, len(values) // 3)
            first = statistics.mean(values[:third]) / 1024 if values else 0.0
            last = statistics.mean(values[-third:]) / 1024 if values else 0.0
            result[name] = {
                "peak": round(self.peaks.get(name, 0) / 1024, 1),
                "first_third": round(first, 1),
                "last_third": round(last, 1),
                "grew": last > first * 1.1 and last - first > 10,
            }
        return result


# -- the run ----------------------------------------------------------------------------


def wait_http(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def count(db_path: Path, sql: str) -> int:
    from storage import connect

    db = connect(db_path)
    try:
        return int(db.execute(sql).fetchone()[0])
    finally:
        db.close()


def soak(args: argparse.Namespace) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="tapshare-soak-"))
    db_path = data / "tapshare.db"
    broker_port = free_port()
    keys, configs = register(args, data, broker_port)
    festivals = list(keys)
    group = ProcessGroup(data / "logs")
    broker, hub_url = start_mosquitto(data, broker_port)
    stop_boards = threading.Event()
    tapshare = [sys.executable, "-m", "tapshare", "--db", str(db_path)]
    try:
        hub = group.start("hub", [*tapshare, "--broker", str(hub_url), "hub"])
        if not wait_for_line(hub, "subscribed to", 30):
            raise SystemExit(f"the hub did not start:\n{hub.tail()}")
        port = free_port()
        threads = args.boards + 60
        dashboard = group.start(
            "dashboard",
            # Every board is read from this one address.
            [
                *tapshare,
                "dashboard",
                "--port",
                str(port),
                "--threads",
                str(threads),
                "--max-streams-per-client",
                str(args.boards),
            ],
        )
        if not wait_http(f"http://127.0.0.1:{port}/api/v1/festivals", 30):
            raise SystemExit(f"the dashboard did not start:\n{dashboard.tail()}")
        watchers = [
            BoardWatcher(port, festival, keys[festival], stop_boards)
            for festival in (festivals[n % len(festivals)] for n in range(args.boards))
        ]
        for watcher in watchers:
            watcher.start()
        for watcher in watchers:
            watcher.opened.wait(30)
        workers = []
        for number in range(args.workers):
            listing = data / f"worker-{number}.txt"
            listing.write_text("\n".join(str(c) for c in configs[number :: args.workers]))
            child = group.start(
                f"stations-{number}",
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--worker",
                    str(listing),
                    str(data / f"worker-{number}.json"),
                ],
            )
            workers.append(child)
        for child in workers:
            if not wait_for_line(child, "ready", 60):
                raise SystemExit(f"a station worker did not start:\n{child.tail()}")
        pids = {"hub": hub.process.pid, "dashboard": dashboard.process.pid}
        if broker.pid is not None:
            pids["mosquitto"] = broker.pid
        pids |= {child.name: child.process.pid for child in workers}
        pids["boards (this process)"] = os.getpid()
        sampler = MemorySampler(pids)
        sampler.start()
        started = time.monotonic()
        while time.monotonic() - started < args.seconds:
            time.sleep(min(5.0, args.seconds))
            stored = count(db_path, "select count(*) from taps")
            print(
                f"{time.monotonic() - started:6.0f} s: {stored} taps stored",
                file=sys.stderr,
                flush=True,
            )
        sampler.stop_event.set()
        for child in workers:
            child.process.send_signal(signal.SIGTERM)
        for child in workers:
            child.process.wait(180)
        published = left = 0
        for number in range(args.workers):
            result = json.loads((data / f"worker-{number}.json").read_text())
            published += result["recorded"]
            left += result["left"]
        # The hub stores what the broker holds; wait until the count stops moving.
        last, steady_since = -1, time.monotonic()
        while time.monotonic() - steady_since < 5:
            stored = count(db_path, "select count(*) from taps")
            if stored != last:
                last, steady_since = stored, time.monotonic()
            if stored >= published:
                break
            time.sleep(0.5)
        time.sleep(1.5)  # the boards' last events
        stop_boards.set()
        found, unreflected = latencies(db_path, watchers)
        stored = count(db_path, "select count(*) from taps")
        return {
            "seconds": args.seconds,
            "stations": args.stations,
            "station_processes": args.workers,
            "offered_taps_per_second": args.rate,
            "open_boards": sum(1 for w in watchers if w.events),
            "board_errors": sorted({w.error for w in watchers if w.error}),
            "taps": {
                "published": published,
                "stored": stored,
                "rejected": count(db_path, "select count(*) from dead_letters"),
                "lost": published - stored,
                "left_in_outboxes": left,
                "stored_per_second": round(stored / args.seconds, 1),
            },
            "tap_to_board_ms": {
                "pairs": len(found),
                "p50": round(percentile(found, 0.5), 1) if found else None,
                "p99": round(percentile(found, 0.99), 1) if found else None,
                "max": round(max(found), 1) if found else None,
                "unreflected": unreflected,
            },
            "rss_mb": sampler.report(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
    finally:
        stop_boards.set()
        group.close()
        broker.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50, help="taps per second, in total")
    parser.add_argument("--boards", type=int, default=100, help="open event streams")
    parser.add_argument("--festivals", type=int, default=4)
    parser.add_argument("--artworks", type=int, default=5, help="per festival")
    parser.add_argument("--workers", type=int, default=4, help="station processes")
    parser.add_argument("--worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(*args.worker)
        return
    print(json.dumps(soak(args), indent=2))


if __name__ == "__main__":
    main()
