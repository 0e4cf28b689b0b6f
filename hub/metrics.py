"""The hub's counters, as added to the database with each batch.

Names follow Prometheus conventions: ``_total`` for counters, and two histograms,
``tapshare_hub_batch_size`` (messages per batch) and ``tapshare_hub_commit_seconds``
(time to write and commit a batch), as cumulative ``_bucket`` counters with an ``le``
label plus ``_sum`` and ``_count``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Final

from hub.write_path import BatchOutcome

RECEIVED: Final = "tapshare_hub_messages_received_total"
STORED: Final = "tapshare_hub_opinions_stored_total"
DUPLICATES: Final = "tapshare_hub_duplicates_total"
REJECTED: Final = "tapshare_hub_rejected_total"
ERASURES: Final = "tapshare_hub_erasures_total"
TAPS_ERASED: Final = "tapshare_hub_taps_erased_total"
#: Opinions that arrived after an erasure covering them: accepted, never stored.
OPINIONS_ERASED_ON_ARRIVAL: Final = "tapshare_hub_opinions_erased_on_arrival_total"
STATUSES: Final = "tapshare_hub_statuses_total"
COMMIT_FAILURES: Final = "tapshare_hub_commit_failures_total"
BATCH_SIZE: Final = "tapshare_hub_batch_size"
COMMIT_SECONDS: Final = "tapshare_hub_commit_seconds"

#: What each metric counts, for the ``# HELP`` line of ``/metrics``.
HELP: Final = {
    RECEIVED: "Messages received from the broker, by kind (opinion, erase, status, other).",
    STORED: "Opinions stored.",
    DUPLICATES: "Messages dropped as duplicates of accepted ids.",
    REJECTED: "Messages rejected as dead letters, by reason.",
    ERASURES: "Erase requests carried out.",
    TAPS_ERASED: "Stored taps removed by erase requests.",
    STATUSES: "Station status messages stored.",
    COMMIT_FAILURES: "Batches whose commit failed and was retried.",
    BATCH_SIZE: "Messages per written batch.",
    COMMIT_SECONDS: "Seconds to write and commit one batch.",
}

BATCH_SIZE_BUCKETS: Final = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)
COMMIT_SECONDS_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)

Counters = defaultdict[tuple[str, str], float]


def new_counters() -> Counters:
    """An empty set of counter increments."""
    return defaultdict(float)


def labels(**values: str) -> str:
    """Labels as the counters table keys them: a JSON object with sorted keys."""
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


NO_LABELS: Final = labels()


def observe(counters: Counters, name: str, buckets: tuple[float, ...], value: float) -> None:
    """Add one observation to a histogram."""
    for bound in buckets:
        if value <= bound:
            counters[(f"{name}_bucket", labels(le=_bound(bound)))] += 1
    counters[(f"{name}_bucket", labels(le="+Inf"))] += 1
    counters[(f"{name}_sum", NO_LABELS)] += value
    counters[(f"{name}_count", NO_LABELS)] += 1


def _bound(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def received(counters: Counters, kind: str, n: int = 1) -> None:
    """Count ``n`` received messages of a kind (opinion, erase, status or other)."""
    counters[(RECEIVED, labels(kind=kind))] += n


def outcome(result: BatchOutcome) -> Counters:
    """Counters for what a batch did."""
    counters = new_counters()
    counters[(STORED, NO_LABELS)] += result.stored
    counters[(DUPLICATES, NO_LABELS)] += result.duplicates
    counters[(ERASURES, NO_LABELS)] += result.erasures
    counters[(TAPS_ERASED, NO_LABELS)] += result.taps_erased
    counters[(OPINIONS_ERASED_ON_ARRIVAL, NO_LABELS)] += result.hidden
    counters[(STATUSES, NO_LABELS)] += result.statuses
    for reason, n in result.rejected.items():
        counters[(REJECTED, labels(reason=reason))] += n
    return counters
