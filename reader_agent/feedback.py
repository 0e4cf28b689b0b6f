"""Feedback to the visitor: a signal for "tap recorded" and one for "tap failed".

Which signal a reader gives is its ``feedback`` setting:

- ``none``: nothing (a PC, a simulated reader);
- ``device``: the reader's own LED and buzzer through nfcpy, on readers that have them
  (ACR122U); other readers stay silent;
- ``gpio:ok=PIN,fail=PIN[,buzzer=PIN]``: LEDs (and a buzzer) on the Pi's GPIO pins through
  gpiozero (BCM numbering);
- ``auto`` (default): ``device`` for an nfcpy reader, ``none`` for a simulated one.

Signals start within milliseconds of the read: the tap is committed to the outbox first,
which takes about a millisecond.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Feedback(Protocol):
    """What a reader does to tell the visitor whether their tap was recorded."""

    def recorded(self) -> None:
        """The tap is safely in the outbox."""

    def failed(self) -> None:
        """The tap could not be recorded (outbox full, disk error)."""

    def close(self) -> None:
        """Release whatever the signal holds (pins)."""


class NoFeedback:
    """No signal at all."""

    def recorded(self) -> None:
        pass

    def failed(self) -> None:
        pass

    def close(self) -> None:
        pass


class DeviceFeedback:
    """The reader's own LED and buzzer through nfcpy: one short beep, or three when failed.

    The signal is given on the reader's own thread, inside nfcpy's connect callback while
    the tag is held: nfcpy drives a device from one thread only, and the presence check
    simply waits for the beep.
    """

    BEEP_SECONDS = 0.08

    def __init__(self, device: Any) -> None:
        # ``device`` is an nfcpy ``nfc.clf.device.Device``; readers without LED or buzzer
        # do nothing when asked to turn them on.
        self._device = device

    def _pattern(self, beeps: int) -> None:
        try:
            for number in range(beeps):
                if number:
                    time.sleep(self.BEEP_SECONDS)
                self._device.turn_on_led_and_buzzer()
                time.sleep(self.BEEP_SECONDS)
                self._device.turn_off_led_and_buzzer()
        except Exception as exc:  # a reader unplugged mid-beep: the reader loop handles it
            log.debug("feedback on the reader failed: %s", exc)

    def recorded(self) -> None:
        self._pattern(1)

    def failed(self) -> None:
        self._pattern(3)

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class GpioPins:
    ok: int
    fail: int
    buzzer: int | None = None


class GpioFeedback:
    """LEDs (and a buzzer) on GPIO pins through gpiozero: green for recorded, red for failed."""

    def __init__(self, pins: GpioPins) -> None:
        try:
            from gpiozero import LED, Buzzer  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            raise RuntimeError(
                "feedback gpio:… needs gpiozero: apt install python3-gpiozero "
                "or pip install gpiozero"
            ) from None
        self._ok = LED(pins.ok)
        self._fail = LED(pins.fail)
        self._buzzer = Buzzer(pins.buzzer) if pins.buzzer is not None else None

    def recorded(self) -> None:
        self._ok.blink(on_time=0.6, off_time=0.1, n=1, background=True)
        if self._buzzer is not None:
            self._buzzer.beep(on_time=0.08, off_time=0.08, n=1, background=True)

    def failed(self) -> None:
        self._fail.blink(on_time=0.2, off_time=0.2, n=3, background=True)
        if self._buzzer is not None:
            self._buzzer.beep(on_time=0.08, off_time=0.08, n=3, background=True)

    def close(self) -> None:
        for part in (self._ok, self._fail, self._buzzer):
            if part is not None:
                part.close()


def parse_feedback_spec(text: str) -> str | GpioPins:
    """Check a ``feedback`` setting: ``auto``, ``none``, ``device`` or GPIO pins."""
    if text in ("auto", "none", "device"):
        return text
    if not text.startswith("gpio:"):
        raise ValueError("feedback is auto, none, device or gpio:ok=PIN,fail=PIN[,buzzer=PIN]")
    pins: dict[str, int] = {}
    for part in text.removeprefix("gpio:").split(","):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in ("ok", "fail", "buzzer"):
            raise ValueError(f"gpio feedback has pins ok, fail and buzzer, not {name!r}")
        if not value.strip().isdigit() or not 0 <= int(value) <= 53:
            raise ValueError(f"gpio pin {name} must be a BCM pin number 0-53, not {value!r}")
        pins[name] = int(value)
    if "ok" not in pins or "fail" not in pins:
        raise ValueError("gpio feedback needs both ok=PIN and fail=PIN")
    return GpioPins(pins["ok"], pins["fail"], pins.get("buzzer"))


def make_feedback(spec: str, device: Any | None) -> Feedback:
    """The feedback a reader's setting asks for; ``device`` is the open nfcpy device, if any."""
    parsed = parse_feedback_spec(spec)
    if isinstance(parsed, GpioPins):
        return GpioFeedback(parsed)
    if parsed in ("device", "auto") and device is not None:
        return DeviceFeedback(device)
    return NoFeedback()
