"""Station benchmark: outbox appends, drain after an outage, peak memory, tap feedback.

Prints one JSON object:

- ``append_ms``: p50/p99 of one durable outbox append of a signed opinion (WAL,
  synchronous=FULL), the work done between a read and the visitor's feedback;
- ``tap_to_feedback_ms``: p50/p99 from a read to the feedback decision in a running station;
- ``drain``: 10,000 taps wait in the outbox of a station process while the broker is down;
  the broker (a real Mosquitto) starts and a subscriber counts them in. ``per_second`` is
  measured from the first to the last message received, ``seconds_after_broker_start``
  includes the station's reconnect;
- ``peak_rss_mb``: the station process's peak resident memory (VmHWM) over the whole run.

Usage: .venv/bin/python bench/station.py [--taps 10000] [--appends 2000]
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from protocol import Opinion, new_message_id, visitor_pseudonym  # noqa: E402
from reader_agent.agent import Station  # noqa: E402
from reader_agent.outbox import Outbox  # noqa: E402
from reader_agent.settings import load_settings  # noqa: E402
from tapshare.mosquitto import Mosquitto  # noqa: E402

SECRET = bytes.fromhex("5e" * 32)
VISITOR_KEY = bytes.fromhex("a7" * 32)
TOPIC = "tapshare/v1/strp/st-01/opinion"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def signed_opinion(seq: int, number: int) -> bytes:
    return Opinion.build(
        id=new_message_id(),
        festival="strp",
        station="st-01",
        artwork="aw-1",
        visitor=visitor_pseudonym(number.to_bytes(7, "big"), VISITOR_KEY),
        choice="love",
        tapped_at=datetime.now(UTC),
        seq=seq,
        station_secret=SECRET,
    ).payload()


def bench_append(directory: Path, count: int) -> dict[str, float]:
    outbox = Outbox(directory / "append.db", limit=count + 1)
    times = []
    for number in range(count):
        started = time.perf_counter()
        outbox.append(TOPIC, lambda seq, n=number: signed_opinion(seq, n))
        times.append((time.perf_counter() - started) * 1000)
    outbox.close()
    return {
        "count": count,
        "p50": round(percentile(times, 0.50), 3),
        "p99": round(percentile(times, 0.99), 3),
        "max": round(max(times), 3),
    }


def station_toml(directory: Path, broker: str, device: str, outbox: Path) -> Path:
    path = directory / f"station-{uuid.uuid4().hex[:6]}.toml"
    path.write_text(
        f"""festival = "strp"
station = "st-01"
broker = "{broker}"
station_secret = "{SECRET.hex()}"
visitor_key = "{VISITOR_KEY.hex()}"
outbox = "{outbox}"
tap_guard_seconds = 0
reconnect_max_seconds = 1
log_level = "warning"

[[readers]]
device = "{device}"
artwork = "aw-1"
choice = "love"
"""
    )
    return path


def bench_feedback(directory: Path, broker: Mosquitto, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    config = station_toml(
        directory, broker.url, "sim:rate=100,vary=0,visitors=100000", directory / "fb.db"
    )
    station = Station(
        load_settings(config),
        on_tap=lambda reader, result, took: latencies.append(took * 1000),
    )
    thread = threading.Thread(target=station.run, daemon=True)
    thread.start()
    time.sleep(seconds)
    station.stop()
    thread.join(15)
    return {
        "taps": len(latencies),
        "p50": round(percentile(latencies, 0.50), 3),
        "p99": round(percentile(latencies, 0.99), 3),
    }


class Counter:
    """A persistent subscriber that notes when each opinion arrives."""

    def __init__(self, broker: Mosquitto) -> None:
        self.times: list[float] = []
        self.ready = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="bench-counter", clean_session=False
        )
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(TOPIC, qos=1)
        self.client.on_subscribe = lambda *args: self.ready.set()
        self.client.on_message = lambda c, u, m: self.times.append(time.perf_counter())
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.ready.wait(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_drain(directory: Path, broker: Mosquitto, taps: int) -> dict[str, float]:
    counter = Counter(broker)  # subscribe first, so the broker queues for it
    broker.stop()
    outbox_path = directory / "drain.db"
    outbox = Outbox(outbox_path, limit=taps + 1)
    # The outage: taps accumulate in the outbox exactly as the station writes them.
    for number in range(taps):
        outbox.append(TOPIC, lambda seq, n=number: signed_opinion(seq, n))
    outbox.close()
    config = station_toml(directory, broker.url, "sim:rate=0", outbox_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "tapshare", "reader", "--config", str(config)], cwd=ROOT
    )
    try:
        time.sleep(2)  # the station is up, trying to reach the broker
        started = time.perf_counter()
        broker.start()
        deadline = time.monotonic() + 300
        while len(counter.times) < taps and time.monotonic() < deadline:
            time.sleep(0.05)
            rss = peak_rss_mb(process.pid)
        received = len(counter.times)
        rss = peak_rss_mb(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        counter.close()
    first, last = counter.times[0], counter.times[-1]
    return {
        "taps": taps,
        "received": received,
        "per_second": round((received - 1) / (last - first), 1) if last > first else 0.0,
        "seconds_after_broker_start": round(last - started, 3),
        "peak_rss_mb": round(rss, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=10_000, help="taps waiting after the outage")
    parser.add_argument("--appends", type=int, default=2_000, help="outbox appends to time")
    parser.add_argument("--feedback-seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tapshare-bench-") as tmp, Mosquitto() as broker:
        directory = Path(tmp)
        append = bench_append(directory, args.appends)
        feedback = bench_feedback(directory, broker, args.feedback_seconds)
        drain = bench_drain(directory, broker, args.taps)
    result = {
        "benchmark": "station",
        "append_ms": append,
        "tap_to_feedback_ms": feedback,
        "drain": {k: v for k, v in drain.items() if k != "peak_rss_mb"},
        "peak_rss_mb": drain["peak_rss_mb"],
        "targets": {"append_p99_ms": 10, "drain_per_second": 1000, "peak_rss_mb": 60},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
