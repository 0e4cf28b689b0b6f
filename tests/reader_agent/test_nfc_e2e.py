"""End to end through nfcpy: emulated tags over the udp driver -> station -> Mosquitto."""

from __future__ import annotations

import logging
import threading

import pytest

from protocol import parse_opinion, verify, visitor_pseudonym
from tapshare.mosquitto import Mosquitto, free_port
from tests.harness.mqtt import Collector, wait_for
from tests.reader_agent.conftest import SECRET, VISITOR_KEY
from tests.reader_agent.emulators import NtagEmulator, Type3Tag

OPINIONS = "tapshare/v1/strp/st-01/opinion"
WRISTBANDS = [bytes.fromhex("04a1b2c3d4e5f6"), bytes.fromhex("04778899aabbcc")]
CARDS = [bytes.fromhex("03fe000000000001"), bytes.fromhex("03fe0000000000a2")]


@pytest.fixture
def tags():
    ntag = NtagEmulator(free_port())
    type3 = Type3Tag(free_port())
    yield ntag, type3
    ntag.close()
    type3.close()


@pytest.mark.e2e
def test_taps_on_two_nfcpy_readers_arrive_as_signed_opinions(
    tags, mosquitto: Mosquitto, write_settings, run_station, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    ntag, type3 = tags
    collector = Collector(mosquitto, OPINIONS).connect()
    settings = write_settings(
        mosquitto.url,
        [
            {
                "device": f"udp:127.0.0.1:{ntag.port}",
                "targets": ["106A"],
                "artwork": "aw-1",
                "choice": "love",
            },
            {
                "device": f"udp:127.0.0.1:{type3.port}",
                "targets": ["212F"],
                "artwork": "aw-2",
                "choice": "meh",
            },
        ],
        tap_guard_seconds=60,
    )
    station = run_station(settings)
    assert wait_for(lambda: all(reader.ok for reader in station.readers))

    # Wristband 0 twice: the second tap is within the guard window and is no new opinion.
    wristbands = threading.Thread(
        target=lambda: [ntag.tap(uid) for uid in (WRISTBANDS[0], WRISTBANDS[1], WRISTBANDS[0])]
    )
    wristbands.start()
    for idm in CARDS:
        type3.tap(idm)
    wristbands.join()

    assert wait_for(lambda: len(collector.payloads()) >= 4)
    opinions = [parse_opinion(p) for p in collector.payloads()]
    key = bytes.fromhex(VISITOR_KEY)
    got = sorted((o.artwork, o.choice, o.visitor) for o in opinions)
    expected = sorted(
        [("aw-1", "love", visitor_pseudonym(uid, key)) for uid in WRISTBANDS]
        + [("aw-2", "meh", visitor_pseudonym(idm, key)) for idm in CARDS]
    )
    assert got == expected  # one opinion per tap, nothing for the repeat
    for opinion in opinions:
        assert verify(opinion, bytes.fromhex(SECRET))
        assert opinion.festival == "strp" and opinion.station == "st-01"
    assert sorted(o.seq for o in opinions) == [0, 1, 2, 3]
    assert [r.taps for r in station.readers] == [2, 2]
    # The UID itself is nowhere in the outbox file.
    station.stop()
    assert wait_for(lambda: station._shut_down)
    raw = settings.outbox.read_bytes() + b"".join(
        p.read_bytes() for p in settings.outbox.parent.glob("outbox.db-*")
    )
    logged = caplog.text.lower()
    for uid in WRISTBANDS + CARDS:
        assert uid not in raw and uid.hex().encode() not in raw
        assert uid.hex() not in logged
