"""The operator's view: ``/metrics`` in the Prometheus text format, through prometheus-client.

Each app has its own registry: the dashboard's board requests by kind, its open streams,
the process collector (CPU, memory, open files), and the hub's counters. The hub runs in
another process and adds its counters to the database with each batch (``hub.metrics``);
they are read from there on each scrape, so a scrape always shows what is committed.

With a metrics token set (``tapshare dashboard --metrics-token-file``), a scrape needs the
header ``Authorization: Bearer TOKEN``; see docs/operator.md.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Iterator, Mapping

from flask import Blueprint, Response, current_app, request
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from werkzeug.exceptions import Unauthorized

from dashboard.database import get_db
from dashboard.errors import error_response
from dashboard.streams import board_streams
from hub import metrics as hub_metrics
from hub import queries

Sample = tuple[str, Mapping[str, str], float]

blueprint = Blueprint("metrics", __name__)

# No ``_created`` series beside each counter: the process start time says when they began.
disable_created_metrics()  # type: ignore[no-untyped-call]

HUB_HISTOGRAMS = frozenset({hub_metrics.BATCH_SIZE, hub_metrics.COMMIT_SECONDS})
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def hub_families(samples: Iterable[Sample]) -> list[Metric]:
    """The hub's stored counters as metric families: names ending in ``_total`` are
    counters, ``X_bucket``/``X_sum``/``X_count`` of a hub histogram X make histogram X, the
    rest are gauges."""
    families: dict[str, Metric] = {}
    # Buckets in increasing order of their bound, as Prometheus lists them.
    for name, labels, value in sorted(samples, key=_bucket_order):
        family = _family_name(name)
        if family not in families:
            families[family] = _new_family(family, name)
        families[family].add_sample(name, dict(labels), value)
    return list(families.values())


def _bucket_order(sample: Sample) -> tuple[str, bool, float]:
    name, labels, _ = sample
    bucket = name.endswith("_bucket") and "le" in labels
    return (_family_name(name), not bucket, float(labels["le"]) if bucket else 0.0)


def _family_name(name: str) -> str:
    for suffix in _HISTOGRAM_SUFFIXES:
        base = name.removesuffix(suffix)
        if name.endswith(suffix) and base in HUB_HISTOGRAMS:
            return base
    return name


def _new_family(family: str, sample_name: str) -> Metric:
    text = hub_metrics.HELP.get(family, family.replace("_", " "))
    if family in HUB_HISTOGRAMS:
        return HistogramMetricFamily(family, text)
    if sample_name.endswith("_total"):
        # prometheus-client names a counter family without its ``_total``.
        return CounterMetricFamily(family.removesuffix("_total"), text)
    return GaugeMetricFamily(family, text)


class _HubCounters:
    """A collector of the hub's counters, read through ``read`` on each scrape."""

    def __init__(self, read: Callable[[], Iterable[Sample]]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        yield from hub_families(self._read())


class Metrics:
    """One app's metrics: its own registry, so that apps (and tests) never share counts."""

    def __init__(self, hub_counters: Callable[[], Iterable[Sample]] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._board_requests = Counter(
            "tapshare_dashboard_board_requests",
            "Board requests by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.open_streams = Gauge(
            "tapshare_dashboard_open_streams",
            "Event streams open right now.",
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        self.registry.register(_HubCounters(hub_counters or _request_hub_counters))

    def board_request(self, kind: str) -> None:
        """Count one board request (``page``, ``api`` or ``stream``)."""
        self._board_requests.labels(kind=kind).inc()

    def exposition(self) -> bytes:
        """Every metric in the Prometheus text format."""
        return generate_latest(self.registry)


def metrics() -> Metrics:
    """The app's metrics."""
    found: Metrics = current_app.extensions["tapshare_metrics"]
    return found


def _request_hub_counters() -> list[Sample]:
    return list(queries.counters(get_db()))


def token_accepted(token: str | None, authorization: str | None) -> bool:
    """Whether a request's ``Authorization`` header carries the bearer ``token`` (always,
    when no token is set); compared in constant time."""
    if token is None:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


@blueprint.get("/metrics")
def prometheus() -> Response:
    """Metrics in the Prometheus text format: the hub's, board requests, open streams, and
    the dashboard process's CPU, memory and open files."""
    token: str | None = current_app.config.get("TAPSHARE_METRICS_TOKEN")
    if not token_accepted(token, request.headers.get("Authorization")):
        response = error_response(Unauthorized("/metrics needs its bearer token."))
        response.headers["WWW-Authenticate"] = 'Bearer realm="tapshare metrics"'
        return response
    found = metrics()
    found.open_streams.set(board_streams().open_streams)
    return Response(found.exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
