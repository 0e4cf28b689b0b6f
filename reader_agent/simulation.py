"""Simulated readers: virtual visitors tapping at a varying rate, for demos and benchmarks.

A reader whose ``device`` is ``sim:NAME=VALUE,…`` behaves like an NFC reader whose taps come
from a pool of virtual visitors:

| parameter | default | meaning |
| --- | --- | --- |
| ``rate`` | 0.2 | mean taps per second (0: never) |
| ``vary`` | 0.5 | how far the rate swings around its mean, 0 (steady) to 1 |
| ``period`` | 300 | seconds of one swing of the rate, busy to quiet and back |
| ``visitors`` | 500 | size of the pool of visitors |
| ``pool`` | ``default`` | name of the pool; readers with the same pool share visitors |
| ``uid`` | 7 | UID length in bytes: 4, 7 (NTAG) or 10 |
| ``seed`` | random | seed of the timing and of who taps, for repeatable runs |
| ``limit`` | none | stop tapping after this many taps |

Taps arrive as a Poisson process whose rate follows a sine around ``rate``. A visitor's UID
is derived from the pool name and their number, so the same visitors appear at every
reader of a pool, as festival visitors walk from artwork to artwork.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
import time
from dataclasses import dataclass

from reader_agent.sources import OnTag, TagSource


@dataclass(frozen=True)
class SimSpec:
    rate: float = 0.2
    vary: float = 0.5
    period: float = 300.0
    visitors: int = 500
    pool: str = "default"
    uid: int = 7
    seed: int | None = None
    limit: int | None = None


_NUMBERS = {"rate": float, "vary": float, "period": float, "visitors": int, "uid": int}


def parse_sim_spec(device: str) -> SimSpec:
    """Parse ``sim:rate=0.5,visitors=300,…``; raise ValueError naming a bad parameter."""
    values: dict[str, object] = {}
    body = device.removeprefix("sim:").strip()
    for part in filter(None, (p.strip() for p in body.split(","))):
        name, sep, text = part.partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not text:
            raise ValueError(f"simulated reader parameter {part!r} is not NAME=VALUE")
        try:
            if name in _NUMBERS:
                values[name] = _NUMBERS[name](text)
            elif name in ("seed", "limit"):
                values[name] = int(text)
            elif name == "pool":
                values[name] = text
            else:
                raise ValueError(f"unknown simulated reader parameter {name!r}")
        except ValueError as exc:
            if "unknown" in str(exc):
                raise
            raise ValueError(
                f"simulated reader parameter {name}={text!r} is not a number"
            ) from None
    spec = SimSpec(**values)  # type: ignore[arg-type]
    checks = [
        (spec.rate >= 0 and math.isfinite(spec.rate), "rate must be 0 or more"),
        (0 <= spec.vary <= 1, "vary must be between 0 and 1"),
        (spec.period > 0, "period must be more than 0"),
        (spec.visitors >= 1, "visitors must be 1 or more"),
        (spec.uid in (4, 7, 10), "uid must be 4, 7 or 10 (bytes)"),
        (spec.limit is None or spec.limit >= 0, "limit must be 0 or more"),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(f"simulated reader: {message}")
    return spec


def visitor_uid(pool: str, number: int, length: int = 7) -> bytes:
    """The UID of virtual visitor ``number`` of ``pool``; NXP-like (first byte 0x04)."""
    digest = hashlib.sha256(f"{pool}/{number}".encode()).digest()
    return b"\x04" + digest[: length - 1]


class SimulatedSource(TagSource):
    """Virtual visitors tapping a reader at a varying rate."""

    def __init__(self, device: str) -> None:
        super().__init__(device)
        self.spec = parse_sim_spec(device)
        self._random = random.Random(self.spec.seed)
        self._started = time.monotonic()
        self.taps = 0

    def open(self) -> None:
        pass

    def rate_at(self, elapsed: float) -> float:
        """Taps per second ``elapsed`` seconds after the reader opened."""
        swing = self.spec.vary * math.sin(2 * math.pi * elapsed / self.spec.period)
        return self.spec.rate * (1 + swing)

    def read(self, on_tag: OnTag, stop: threading.Event) -> None:
        spec = self.spec
        if spec.rate == 0 or (spec.limit is not None and self.taps >= spec.limit):
            stop.wait(1.0)
            return
        rate = max(self.rate_at(time.monotonic() - self._started), spec.rate * 0.05)
        if stop.wait(self._random.expovariate(rate)):
            return
        number = self._random.randrange(spec.visitors)
        self.taps += 1
        on_tag(visitor_uid(spec.pool, number, spec.uid))

    def close(self) -> None:
        pass
