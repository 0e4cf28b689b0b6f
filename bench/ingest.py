"""Hub ingest benchmark: stored rate against a bare subscriber, and latency at 1,000/s.

Runs a private Mosquitto (configured as ``tapshare broker-config`` recommends) and
measures, per run:

- ``bare_rate``: messages per second a bare paho subscriber (QoS 1, counting only) takes
  off a backlog of N opinions queued for its persistent session (from the broker's
  acknowledgement of its connection to the last message);
- ``hub_rate``: opinions per second the hub validates, verifies, stores, commits and
  acknowledges off the same backlog (from the broker's acknowledgement of its connection,
  which the hub asks for once its writer process is ready, to the last commit);
- ``ratio`` = hub_rate / bare_rate, and ``lost`` (published minus stored);
- ``client_rate``: the same bare subscriber made with tapshare's own client
  (``protocol.mqtt.make_client``, which the hub uses too: it reads the broker's stream in
  large pieces), and ``client_ratio`` = hub_rate / client_rate;
- ``latency_ms``: p50/p99/max from publish to commit, with a separate process offering
  opinions at ``--rate`` per second for ``--seconds``.

The opinions are made as stations make them (signed, with time-ordered ids from
``protocol.new_message_id``), from 4 stations, 10 artworks and 5,000 visitors.

Each run prints one JSON line (with the 1-minute load average before and after it), and the
last object gives the medians over ``--runs``. ``writer_cpu_us_per_opinion`` is the writer
process's CPU time (``getrusage`` in that process) from when it was ready to its last commit
of the drain, per opinion stored: steadier than a rate on a shared machine.
``network_cpu_us_per_opinion`` is the same for the hub's network process (this one, whose
threads are the hub's during the drain), and ``bare_cpu_us_per_message`` the bare
subscriber's.

Usage: .venv/bin/python bench/ingest.py [--count 50000] [--rate 1000] [--seconds 10] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub import registry
from hub.ingest import Hub
from hub.models import StationCredentials
from hub.validate import Received
from hub.write_path import BatchOutcome
from protocol import Opinion, new_message_id, parse_key, parse_timestamp, topic_for
from protocol.broker import parse_broker_url
from protocol.mqtt import make_client
from storage import connect
from tapshare.database import migrate
from tapshare.mosquitto import Mosquitto

STATIONS = 4
ARTWORKS = 10


def build(stations: list[StationCredentials], count: int, start: datetime, step_ms: float):
    """(topic, payload) of ``count`` signed opinions, tapped ``step_ms`` apart."""
    messages = []
    keys = [parse_key(s.station_secret) for s in stations]
    for n in range(count):
        station = stations[n % len(stations)]
        opinion = Opinion.build(
            id=new_message_id(),
            festival=station.festival,
            station=station.station,
            artwork=f"aw-{n % ARTWORKS}",
            visitor=f"{n % 5000:064x}",
            choice=("love", "like", "meh", "dislike")[n % 4],
            tapped_at=start + timedelta(milliseconds=n * step_ms),
            seq=n,
            station_secret=keys[n % len(stations)],
        )
        messages.append(
            (topic_for(station.festival, station.station, "opinion"), opinion.payload())
        )
    return messages


def publish_all(broker: Mosquitto, messages, schedule_start: float | None = None, step=0.0):
    """Publish at QoS 1 and wait for the broker's acknowledgements; with a schedule, publish
    message n at ``schedule_start + n * step`` (wall clock)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv311
    )
    client.max_inflight_messages_set(1000)
    client.connect(broker.host, broker.port)
    client.loop_start()
    infos = []
    for n, (topic, payload) in enumerate(messages):
        if schedule_start is not None:
            delay = schedule_start + n * step - time.time()
            if delay > 0:
                time.sleep(delay)
        infos.append(client.publish(topic, payload, qos=1))
    for info in infos:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()


def _paced(host: str, port: int, messages, schedule_start: float, step: float) -> None:
    broker = Mosquitto.__new__(Mosquitto)
    broker.host, broker.port = host, port
    publish_all(broker, messages, schedule_start, step)


def forget_session(broker: Mosquitto, client_id: str) -> None:
    """Drop a persistent session, so the broker stops queueing messages for it (a large
    queue makes Mosquitto's periodic saves slow down everything after)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True, protocol=mqtt.MQTTv311
    )
    client.connect(broker.host, broker.port)
    client.loop_start()
    time.sleep(0.3)
    client.disconnect()
    client.loop_stop()


def plain_client(broker: Mosquitto, client_id: str) -> mqtt.Client:
    """paho's own client, as an application would make it."""
    return mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
        protocol=mqtt.MQTTv311,
    )  # fmt: skip


def tapshare_client(broker: Mosquitto, client_id: str) -> mqtt.Client:
    """The client tapshare's services make (protocol.mqtt), which reads and writes the
    broker's stream in large pieces."""
    return make_client(parse_broker_url(broker.url), client_id, persistent=True)


def bare_rate(broker: Mosquitto, messages, make=plain_client) -> tuple[float, float]:
    """Rate of a bare QoS 1 subscriber (made by ``make``) draining a backlog of
    ``messages``, and the CPU seconds it used meanwhile (this process's)."""
    received = 0
    done = threading.Event()
    subscribed = threading.Event()

    def on_message(client, userdata, message):
        nonlocal received
        received += 1
        if received == len(messages):
            done.set()

    connected: list[float] = []

    def on_connect(client, userdata, flags, reason, properties):
        connected.append(time.perf_counter())
        client.subscribe("tapshare/#", qos=1)

    client = make(broker, "bench-bare")
    client.on_connect = on_connect
    client.on_subscribe = lambda *args: subscribed.set()
    client.on_message = on_message
    client.connect(broker.host, broker.port)
    client.loop_start()
    subscribed.wait(10)
    client.disconnect()
    client.loop_stop()
    publish_all(broker, messages)
    received = 0
    connected.clear()
    cpu = time.process_time()
    client.connect(broker.host, broker.port)
    client.loop_start()
    if not done.wait(600):
        raise RuntimeError(f"bare subscriber got {received} of {len(messages)}")
    elapsed = time.perf_counter() - connected[0]
    cpu = time.process_time() - cpu
    client.disconnect()
    client.loop_stop()
    forget_session(broker, "bench-bare")
    return len(messages) / elapsed, cpu


def hub_rate(broker: Mosquitto, db_path: Path, messages) -> tuple[float, int, float, float, int]:
    """Rate of the hub draining a backlog of ``messages``; how many it stored; the writer
    process's CPU seconds from when it was ready to its last commit; the network
    process's (this one's) meanwhile; and the writer's commits."""
    url = parse_broker_url(broker.url)
    first = Hub(db_path, url, client_id="bench-hub")
    thread = threading.Thread(target=first.run)
    thread.start()
    first.connected.wait(10)
    time.sleep(0.2)  # the subscription is made in on_connect
    first.stop()
    thread.join()
    publish_all(broker, messages)
    stored = commits = 0
    done = threading.Event()

    def on_commit(outcome: BatchOutcome, items: object) -> None:
        nonlocal stored, commits
        stored += outcome.stored
        commits += 1
        if stored >= len(messages):
            done.set()

    hub = Hub(db_path, url, client_id="bench-hub", on_commit=on_commit)
    thread = threading.Thread(target=hub.run)
    thread.start()
    if not hub.connected.wait(60):
        raise RuntimeError("the hub did not connect")
    started = time.perf_counter()
    cpu = time.process_time()
    done.wait(600)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    hub.stop()
    thread.join()
    forget_session(broker, "bench-hub")
    return stored / elapsed, stored, hub.writer_cpu_seconds, cpu, commits


def latency(broker: Mosquitto, db_path: Path, stations, rate: int, seconds: int) -> dict:
    """Publish-to-commit latency with opinions offered at ``rate`` per second."""
    count = rate * seconds
    latencies: list[float] = []
    done = threading.Event()

    def on_commit(outcome: BatchOutcome, messages: list[Received]) -> None:
        now = time.time()
        for message in messages:
            tapped_at = json.loads(message.payload)["tapped_at"]
            latencies.append(now - parse_timestamp(tapped_at).timestamp())
        if len(latencies) >= count:
            done.set()

    hub = Hub(db_path, parse_broker_url(broker.url), client_id="bench-latency", on_commit=on_commit)
    thread = threading.Thread(target=hub.run)
    thread.start()
    hub.connected.wait(10)
    time.sleep(0.5)
    # tapped_at is the time each opinion is due to be published (ms precision).
    schedule_start = time.time() + 1.0
    messages = build(stations, count, datetime.fromtimestamp(schedule_start, UTC), 1000 / rate)
    publisher = multiprocessing.get_context("fork").Process(
        target=_paced, args=(broker.host, broker.port, messages, schedule_start, 1 / rate)
    )
    publisher.start()
    done.wait(seconds + 60)
    publisher.join(60)
    hub.stop()
    thread.join()
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    return {
        "offered_per_second": rate,
        "opinions": len(ordered),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(1000 * ordered[-1], 2),
        "mean_ms": round(1000 * statistics.fmean(ordered), 2),
    }


def make_database(db_path: Path) -> list[StationCredentials]:
    """A migrated database with one festival, its artworks and its stations."""
    migrate(db_path)
    db = connect(db_path)
    registry.add_festival(db, "bench", "Bench")
    for n in range(ARTWORKS):
        registry.add_artwork(db, "bench", f"aw-{n}", f"Artwork {n}")
    stations = [registry.add_station(db, "bench", f"st-{n}") for n in range(STATIONS)]
    db.close()
    return stations


def run(args: argparse.Namespace) -> dict:
    """One run: a fresh database and broker, the bare and hub drains, then latency."""
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="tapshare-bench-") as tmp:
        db_path = Path(tmp) / "bench.db"
        stations = make_database(db_path)
        broker = Mosquitto(
            directory=Path(tmp) / "broker",
            extra_config=["max_inflight_messages 10000", "max_queued_messages 0"],
        )
        broker.start()
        try:
            start = datetime.now(UTC) - timedelta(hours=2)
            messages = build(stations, args.count, start, 1)
            bare, bare_cpu = bare_rate(broker, messages)
            client, client_cpu = bare_rate(broker, messages, tapshare_client)
            hub, stored, writer_cpu, network_cpu, commits = hub_rate(broker, db_path, messages)
            timing = latency(broker, db_path, stations, args.rate, args.seconds)
        finally:
            broker.close()
    return {
        "opinions": args.count,
        "bare_rate": round(bare),
        "hub_rate": round(hub),
        "ratio": round(hub / bare, 3),
        "stored": stored,
        "lost": args.count - stored,
        "writer_cpu_us_per_opinion": round(1e6 * writer_cpu / max(stored, 1), 1),
        "network_cpu_us_per_opinion": round(1e6 * network_cpu / max(stored, 1), 1),
        "bare_cpu_us_per_message": round(1e6 * bare_cpu / args.count, 1),
        "client_rate": round(client),
        "client_ratio": round(hub / client, 3),
        "client_cpu_us_per_message": round(1e6 * client_cpu / args.count, 1),
        "writer_mean_batch": round(stored / max(commits, 1)),
        "latency": timing,
        "load_average": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=1, help="runs, each printed, then medians")
    args = parser.parse_args()
    results = []
    for n in range(args.runs):
        result = {"run": n + 1, **run(args)}
        results.append(result)
        print(json.dumps(result), flush=True)
    print(
        json.dumps(
            {
                "runs": args.runs,
                "median": {
                    key: round(statistics.median(r[key] for r in results), 3)
                    for key in (
                        "bare_rate",
                        "hub_rate",
                        "ratio",
                        "writer_cpu_us_per_opinion",
                        "network_cpu_us_per_opinion",
                        "bare_cpu_us_per_message",
                        "client_rate",
                        "client_ratio",
                        "client_cpu_us_per_message",
                    )
                }
                | {"latency_p99_ms": statistics.median(r["latency"]["p99_ms"] for r in results)},
                "lost": [r["lost"] for r in results],
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
