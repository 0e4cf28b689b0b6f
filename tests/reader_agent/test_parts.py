"""Small parts of the station: simulated readers, feedback, the tap guard."""

from __future__ import annotations

import math
import threading
import time

import pytest

from reader_agent.agent import TapGuard
from reader_agent.feedback import (
    DeviceFeedback,
    GpioPins,
    NoFeedback,
    make_feedback,
    parse_feedback_spec,
)
from reader_agent.simulation import SimSpec, SimulatedSource, parse_sim_spec, visitor_uid


def test_sim_spec_defaults_and_values():
    assert parse_sim_spec("sim:") == SimSpec()
    spec = parse_sim_spec("sim:rate=0.5, visitors=300,seed=7,pool=strp,uid=4,limit=9")
    assert (spec.rate, spec.visitors, spec.seed, spec.pool, spec.uid, spec.limit) == (
        0.5,
        300,
        7,
        "strp",
        4,
        9,
    )


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("sim:rate=-1", "rate must be 0 or more"),
        ("sim:vary=2", "vary must be between 0 and 1"),
        ("sim:uid=5", "uid must be 4, 7 or 10"),
        ("sim:visitors=0", "visitors must be 1 or more"),
        ("sim:rate", "is not NAME=VALUE"),
        ("sim:rate=nan", "rate must be 0 or more"),
        ("sim:colour=red", "unknown simulated reader parameter 'colour'"),
    ],
)
def test_bad_sim_specs(device: str, message: str):
    with pytest.raises(ValueError, match=message):
        parse_sim_spec(device)


def test_visitors_are_shared_within_a_pool_and_differ_between_pools():
    assert visitor_uid("a", 1) == visitor_uid("a", 1)
    assert visitor_uid("a", 1) != visitor_uid("a", 2) != visitor_uid("b", 1)
    assert len(visitor_uid("a", 1, 10)) == 10 and visitor_uid("a", 1)[0] == 0x04


def test_the_rate_swings_around_its_mean():
    source = SimulatedSource("sim:rate=2,vary=0.5,period=100")
    assert math.isclose(source.rate_at(0), 2)
    assert math.isclose(source.rate_at(25), 3)
    assert math.isclose(source.rate_at(75), 1)


def test_a_simulated_reader_taps_from_its_pool_and_stops_at_its_limit():
    source = SimulatedSource("sim:rate=500,visitors=3,seed=1,limit=20,pool=x")
    stop = threading.Event()
    uids: list[bytes] = []
    while len(uids) < 20:
        source.read(uids.append, stop)
    assert set(uids) <= {visitor_uid("x", n) for n in range(3)}
    stop.set()
    source.read(uids.append, stop)
    assert len(uids) == 20


def test_feedback_specs():
    assert parse_feedback_spec("gpio:ok=17,fail=27,buzzer=22") == GpioPins(17, 27, 22)
    for bad in ("gpio:ok=17,fail=x", "gpio:ok=17,fail=99", "gpio:led=1", "beep"):
        with pytest.raises(ValueError):
            parse_feedback_spec(bad)
    assert isinstance(make_feedback("auto", None), NoFeedback)
    assert isinstance(make_feedback("none", object()), NoFeedback)


class LedReader:
    """Stands in for an nfcpy device with an LED and buzzer (as the ACR122U has)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def turn_on_led_and_buzzer(self) -> None:
        self.calls.append("on")

    def turn_off_led_and_buzzer(self) -> None:
        self.calls.append("off")


def test_device_feedback_beeps_once_for_recorded_three_times_for_failed():
    device = LedReader()
    feedback = make_feedback("auto", device)
    assert isinstance(feedback, DeviceFeedback)
    feedback.recorded()
    assert device.calls == ["on", "off"]
    device.calls.clear()
    feedback.failed()
    assert device.calls == ["on", "off"] * 3


def test_gpio_feedback_without_gpiozero_says_what_to_install():
    try:
        import gpiozero  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="needs gpiozero"):
            make_feedback("gpio:ok=17,fail=27", None)
    else:
        pytest.skip("gpiozero is installed here")


def test_tap_guard_window():
    guard = TapGuard(3.0)
    now = time.monotonic()
    assert not guard.repeat("a", now)
    assert guard.repeat("a", now + 1)
    assert not guard.repeat("b", now + 1)
    assert not guard.repeat("a", now + 10)
    assert not TapGuard(0).repeat("a", now) and not TapGuard(0).repeat("a", now)
