"""The moments at which the display rules of current policies start or stop applying."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime

from sqlite_utils import Database

from consent.store import PolicyStore

#: No validity window opens or closes.
NEVER = datetime.max.replace(tzinfo=UTC)


class ValidityBoundaries:
    """The moments at which a display rule of a festival's current policy starts or stops
    applying (``valid_from``, ``valid_until``): open boards are recomputed then, not only
    at the next commit or periodic refresh."""

    def __init__(self) -> None:
        self._versions: dict[str, int] | None = None
        self._moments: list[datetime] = []

    def after(self, db: Database, now: datetime) -> datetime:
        """The first boundary later than ``now`` (:data:`NEVER` when there is none)."""
        store = PolicyStore(db)
        versions = store.current_versions()
        if versions != self._versions:
            moments: set[datetime] = set()
            for festival in versions:
                for rule in store.current(festival).policy.rules:
                    if rule.action == "display":
                        moments.update(m for m in (rule.valid_from, rule.valid_until) if m)
            self._versions, self._moments = versions, sorted(moments)
        found = bisect.bisect_right(self._moments, now)
        return self._moments[found] if found < len(self._moments) else NEVER
