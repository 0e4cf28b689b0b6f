"""A station with simulated readers against a real Mosquitto."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from protocol import (
    EraseRequest,
    decode_object,
    parse_opinion,
    parse_status,
    verify,
    visitor_pseudonym,
)
from protocol.messages import validate
from reader_agent.agent import ReaderLoop, Station
from reader_agent.settings import StationSettings
from reader_agent.simulation import visitor_uid
from reader_agent.sources import ReaderError, TagSource
from tapshare.mosquitto import Mosquitto
from tests.harness.mqtt import Collector, wait_for
from tests.reader_agent.conftest import SECRET, VISITOR_KEY

OPINIONS = "tapshare/v1/strp/st-01/opinion"
STATUS = "tapshare/v1/strp/st-01/status"


def messages(collector: Collector, topic: str) -> list[bytes]:
    return [bytes(m.payload) for m in list(collector.messages) if m.topic == topic]


def test_simulated_taps_become_signed_opinions_in_seq_order(
    mosquitto: Mosquitto, write_settings, run_station
):
    collector = Collector(mosquitto).connect()
    settings = write_settings(
        mosquitto.url,
        [
            {
                "device": "sim:rate=40,visitors=5,seed=3,limit=12,pool=p",
                "artwork": "aw-1",
                "choice": "love",
            }
        ],
        tap_guard_seconds=0,
    )
    run_station(settings)
    assert wait_for(lambda: len(messages(collector, OPINIONS)) == 12)
    opinions = [parse_opinion(p) for p in messages(collector, OPINIONS)]
    pool = {visitor_pseudonym(visitor_uid("p", n), bytes.fromhex(VISITOR_KEY)) for n in range(5)}
    for opinion in opinions:
        assert verify(opinion, bytes.fromhex(SECRET))
        assert (opinion.festival, opinion.station, opinion.artwork, opinion.choice) == (
            "strp",
            "st-01",
            "aw-1",
            "love",
        )
        assert opinion.visitor in pool
    assert [o.seq for o in opinions] == list(range(12))
    assert len({o.id for o in opinions}) == 12


def test_status_online_then_offline_and_erase_readers(
    mosquitto: Mosquitto, write_settings, run_station
):
    collector = Collector(mosquitto).connect()
    settings = write_settings(
        mosquitto.url,
        [{"device": "sim:rate=20,limit=1", "action": "erase"}],
        # The erase tap may come before the first connect, so the "online" status can
        # still count it; the next periodic status shows the outbox empty.
        status_interval=1,
    )
    station = run_station(settings)
    assert wait_for(lambda: len(messages(collector, "tapshare/v1/strp/st-01/erase")) == 1)
    erase = validate(
        EraseRequest, decode_object(messages(collector, "tapshare/v1/strp/st-01/erase")[0])
    )
    assert verify(erase, bytes.fromhex(SECRET))
    assert wait_for(lambda: any(parse_status(p).outbox == 0 for p in messages(collector, STATUS)))
    first = parse_status(messages(collector, STATUS)[0])
    assert first.state == "online" and first.station == "st-01"
    station.stop()
    assert wait_for(lambda: parse_status(messages(collector, STATUS)[-1]).state == "offline")
    # The retained status a newcomer sees is the latest: offline.
    late = Collector(mosquitto, STATUS).connect()
    assert wait_for(lambda: late.payloads() != [])
    assert parse_status(late.payloads()[0]).state == "offline"


def test_the_last_will_says_offline_when_the_station_vanishes(mosquitto: Mosquitto, write_settings):
    collector = Collector(mosquitto, STATUS).connect()
    station = Station(write_settings(mosquitto.url, [{"device": "sim:rate=0", "action": "erase"}]))
    station.start()
    assert wait_for(lambda: any(b'"online"' in p for p in collector.payloads()))
    # Drop the TCP connection without a DISCONNECT, as a crash or a power cut would.
    station.publisher.client.socket().close()
    assert wait_for(lambda: b'"offline"' in collector.payloads()[-1], timeout=15)
    station.shutdown()


def test_one_reader_fails_and_the_other_keeps_recording(
    mosquitto: Mosquitto, write_settings, run_station
):
    collector = Collector(mosquitto).connect()
    settings = write_settings(
        mosquitto.url,
        [
            {"device": "tty:USB97:pn532", "artwork": "aw-2", "choice": "like"},
            {"device": "sim:rate=20,seed=1,limit=5", "artwork": "aw-1", "choice": "love"},
        ],
        tap_guard_seconds=0,
    )
    run_station(settings)
    assert wait_for(lambda: len(messages(collector, OPINIONS)) == 5)
    assert {parse_opinion(p).artwork for p in messages(collector, OPINIONS)} == {"aw-1"}

    def failed_reader_reported() -> bool:
        statuses = [parse_status(p) for p in messages(collector, STATUS)]
        return any(not s.readers[0].ok and s.readers[0].error and s.readers[1].ok for s in statuses)

    assert wait_for(failed_reader_reported)
    status = [parse_status(p) for p in messages(collector, STATUS)][-1]
    assert status.readers[0].device == "tty:USB97:pn532"
    assert "tty:USB97:pn532" in (status.readers[0].error or "")


class FlakySource(TagSource):
    """A reader that fails to open twice, works for one tap, then breaks, then works."""

    def __init__(self) -> None:
        super().__init__("flaky")
        self.opens = 0
        self.closes = 0

    def open(self) -> None:
        self.opens += 1
        if self.opens in (1, 2, 4):
            raise ReaderError(f"absent (attempt {self.opens})")

    def read(self, on_tag, stop: threading.Event) -> None:
        if self.opens == 3:
            on_tag(b"\x04\x01\x02\x03\x04\x05\x06")
            raise ReaderError("unplugged")
        on_tag(b"\x04\x09\x09\x09\x09\x09\x09")
        stop.wait(0.2)

    def close(self) -> None:
        self.closes += 1


def test_a_failing_reader_is_reopened_and_reported(tmp_path: Path, write_settings):
    settings: StationSettings = write_settings(
        "mqtt://127.0.0.1:9",
        [{"device": "sim:rate=0", "artwork": "aw-1", "choice": "love"}],
        reader_retry_max_seconds=0.2,
    )
    station = Station(settings)
    source = FlakySource()
    loop: ReaderLoop = station.readers[0]
    loop.source = source
    states: list[tuple[bool, str | None]] = []
    original = loop._set_state

    def record(ok: bool, error: str | None) -> None:
        states.append((ok, error))
        original(ok, error)

    loop._set_state = record  # type: ignore[method-assign]
    loop.start()
    try:
        assert wait_for(lambda: source.opens >= 5 and station.outbox.next_seq() >= 2)
    finally:
        station.stopping.set()
        loop.join(5)
    assert [ok for ok, _ in states[:5]] == [False, False, True, False, False]
    assert states[3][1] == "unplugged"
    assert source.closes >= source.opens - 1
    assert json.loads(station.outbox.pending()[0].payload)["artwork"] == "aw-1"
    station.outbox.close()


def test_a_full_outbox_refuses_taps_then_recovers(mosquitto: Mosquitto, write_settings, caplog):
    mosquitto.stop()
    failures: list[str] = []
    settings = write_settings(
        mosquitto.url,
        [{"device": "sim:rate=200,visitors=100000", "artwork": "aw-1", "choice": "love"}],
        outbox_limit=10,
        tap_guard_seconds=0,
        reconnect_max_seconds=1,
    )
    station = Station(
        settings,
        on_tap=lambda reader, result, seconds: (
            failures.append(result.outcome) if result.outcome == "failed" else None
        ),
    )
    thread = threading.Thread(target=station.run, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: len(failures) >= 3)
        assert len(station.outbox) == 10
        assert station.status().outbox_full
        assert "outbox full" in caplog.text
        assert thread.is_alive()
        collector = Collector(mosquitto, STATUS)
        mosquitto.start()
        collector.connect()
        # The broker is back: the outbox drains, taps are recorded again, the status says so.
        assert wait_for(lambda: station.outbox.next_seq() > 20, timeout=20)
        # The status that says so follows the drain, which takes longer on a busy machine.
        assert wait_for(
            lambda: (
                bool(collector.payloads())
                and not parse_status(collector.payloads()[-1]).outbox_full
            ),
            timeout=20,
        )
    finally:
        station.stop()
        thread.join(15)


class TwelveTaps(TagSource):
    """Twelve visitors tap, on a reader with an LED and buzzer."""

    def __init__(self, device) -> None:
        super().__init__("twelve")
        self.device_with_led = device
        self.count = 0

    def open(self) -> None:
        pass

    def read(self, on_tag, stop: threading.Event) -> None:
        if self.count < 12:
            self.count += 1
            on_tag(bytes([4, 0, 0, 0, 0, 0, self.count]))
        else:
            stop.wait(0.1)

    def close(self) -> None:
        pass

    def feedback_device(self):
        return self.device_with_led


def test_feedback_says_recorded_or_failed(write_settings):
    from tests.reader_agent.test_parts import LedReader

    settings = write_settings(
        "mqtt://127.0.0.1:9",
        [{"device": "sim:rate=0", "artwork": "aw-1", "choice": "love"}],
        outbox_limit=10,
    )
    outcomes: list[str] = []
    station = Station(settings, on_tap=lambda reader, result, s: outcomes.append(result.outcome))
    led = LedReader()
    station.readers[0].source = TwelveTaps(led)
    station.readers[0].start()
    try:
        assert wait_for(lambda: len(outcomes) == 12)
    finally:
        station.stopping.set()
        station.readers[0].join(5)
        station.outbox.close()
    assert outcomes == ["recorded"] * 10 + ["failed"] * 2
    assert led.calls == ["on", "off"] * (10 + 3 * 2)
