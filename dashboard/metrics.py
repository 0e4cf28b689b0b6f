"""The operator's view: counters in the Prometheus text exposition format."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping

Sample = tuple[str, Mapping[str, str], float]

_NAME = re.compile(r"[^a-zA-Z0-9_:]")


class Metrics:
    """The dashboard's own counters (board requests by kind), safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._board_requests: Counter[str] = Counter()

    def board_request(self, kind: str) -> None:
        """Count one board request (``page``, ``api`` or ``stream``)."""
        with self._lock:
            self._board_requests[kind] += 1

    def samples(self) -> list[Sample]:
        """The counters as samples."""
        with self._lock:
            return [
                ("tapshare_dashboard_board_requests_total", {"kind": kind}, float(count))
                for kind, count in sorted(self._board_requests.items())
            ]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _family(name: str, histograms: set[str]) -> tuple[str, str]:
    """The metric family a sample belongs to, and its type."""
    for suffix in ("_bucket", "_sum", "_count"):
        base = name.removesuffix(suffix)
        if name.endswith(suffix) and base in histograms:
            return base, "histogram"
    return name, "counter" if name.endswith("_total") else "gauge"


def exposition(samples: Iterable[Sample], help_texts: Mapping[str, str]) -> str:
    """Samples as Prometheus text: one ``# HELP``/``# TYPE`` block per metric family.

    Names ending in ``_total`` are counters; ``X_bucket`` (with ``X_sum``, ``X_count``)
    make histogram X; the rest are gauges.
    """
    cleaned = [(_NAME.sub("_", name), labels, value) for name, labels, value in samples]
    histograms = {n.removesuffix("_bucket") for n, _, _ in cleaned if n.endswith("_bucket")}
    grouped: dict[tuple[str, str], list[Sample]] = {}
    for sample in cleaned:
        grouped.setdefault(_family(sample[0], histograms), []).append(sample)
    lines: list[str] = []
    for (family, kind), group in grouped.items():
        lines.append(f"# HELP {family} {help_texts.get(family, family.replace('_', ' '))}")
        lines.append(f"# TYPE {family} {kind}")
        for name, labels, value in group:
            label_text = ",".join(
                f'{_NAME.sub("_", key)}="{_escape(str(val))}"'
                for key, val in sorted(labels.items())
            )
            lines.append(
                f"{name}{{{label_text}}} {_number(value)}"
                if label_text
                else f"{name} {_number(value)}"
            )
    return "\n".join(lines) + "\n"
