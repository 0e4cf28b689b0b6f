"""Read helpers for the dashboard and the command line: station health and the hub's counters.
(Opinion counts are read only through :class:`hub.opinions.HubOpinions`; registry rows
through :mod:`hub.registry_store`.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

from sqlite_utils import Database

import storage
from hub import counter_store, health_store, registry_store
from hub.models import StationHealth

#: Stations send their status every 30 seconds.
STATUS_INTERVAL_SECONDS: Final = 30
#: A station silent for longer than this is offline, whatever it last said.
SILENCE_LIMIT_SECONDS: Final = 2 * STATUS_INTERVAL_SECONDS


def stations(db: Database, festival_id: str, now: datetime | None = None) -> list[StationHealth]:
    """A festival's stations with their health, ordered by id.

    ``state`` is ``"unknown"`` before the first status, ``"offline"`` when the station (or
    its last will) said so or it has been silent longer than twice the status interval,
    else ``"online"``.
    """
    moment = now or datetime.now(UTC)
    statuses = health_store.list_station_status(db, festival_id)
    found = []
    for station in registry_store.list_stations(db, festival_id):
        status = statuses.get(station.id)
        if status is None:
            found.append(
                StationHealth(
                    festival_id, station.id, station.enabled, "unknown", None, None, False
                )
            )
            continue
        silent = (storage.micros(moment) - status.last_seen_us) / 1e6
        state = status.state
        if silent > SILENCE_LIMIT_SECONDS:
            state = "offline"
        found.append(
            StationHealth(
                festival=festival_id,
                station=station.id,
                enabled=station.enabled,
                state=state,
                last_seen=status.last_seen,
                outbox=status.outbox,
                outbox_full=status.outbox_full,
                readers=status.readers,
                version=status.version,
            )
        )
    return found


def counters(db: Database) -> list[tuple[str, dict[str, str], float]]:
    """The hub's counters as (name, labels, value), for Prometheus text format.

    Names end in ``_total`` for plain counters; ``tapshare_hub_batch_size`` and
    ``tapshare_hub_commit_seconds`` are histograms (``_bucket`` with ``le``, ``_sum``,
    ``_count``).
    """
    found: list[tuple[str, dict[str, str], float]] = []
    for counter in counter_store.list_counters(db):
        parsed: Any = json.loads(counter.labels)
        found.append((counter.name, {str(k): str(v) for k, v in parsed.items()}, counter.value))
    return found
