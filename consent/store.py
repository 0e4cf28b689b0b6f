"""Policy versions and the access log: the only module with consent SQL.

Every policy change is a new numbered version (with author, time and reason); versions are
never changed or deleted. Version 0 is the empty policy every festival starts with:
nothing is shared until its organisers say so.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from consent.policy import EMPTY_POLICY, Action, Policy, Rule, format_time, parse_time
from storage import from_row, immediate, now_text

VERSIONS = "consent_policy_versions"
ACCESS_LOG = "consent_access_log"


@dataclass(frozen=True)
class PolicyVersion:
    """One version of a festival's policy. Version 0 (no author, no time) is the empty one."""

    festival: str
    version: int
    policy: Policy
    author: str | None
    reason: str | None
    created_at: datetime | None


@dataclass(frozen=True)
class AccessRecord:
    """One ``analyse`` or ``export`` read of a festival's data by someone else."""

    festival: str
    accessor: str
    viewer: str
    action: str
    policy_version: int
    at: datetime


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PolicyStore:
    """Reads and writes policy versions and the access log in the hub's database."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = _utcnow) -> None:
        self.db = db
        self.clock = clock

    def current(self, festival: str) -> PolicyVersion:
        """The festival's current policy; version 0 (nothing shared) when none was set."""
        row = self._one(
            f"SELECT * FROM {VERSIONS} WHERE festival = ? ORDER BY version DESC LIMIT 1",
            [festival],
        )
        return _version(row) if row else _empty(festival)

    def current_versions(self) -> dict[str, int]:
        """Each festival with a saved policy, and the number of its current version."""
        rows = self._rows(
            f"SELECT festival, MAX(version) AS version FROM {VERSIONS} GROUP BY festival", []
        )
        return {row["festival"]: int(row["version"]) for row in rows}

    def version(self, festival: str, number: int) -> PolicyVersion:
        """One version of the festival's policy. Raises LookupError if there is no such one."""
        if number == 0:
            return _empty(festival)
        row = self._one(
            f"SELECT * FROM {VERSIONS} WHERE festival = ? AND version = ?", [festival, number]
        )
        if row is None:
            raise LookupError(f"festival {festival!r} has no policy version {number}")
        return _version(row)

    def history(self, festival: str) -> list[PolicyVersion]:
        """Every stored version of the festival's policy, oldest first (version 0 left out)."""
        rows = self._rows(
            f"SELECT * FROM {VERSIONS} WHERE festival = ? ORDER BY version", [festival]
        )
        return [_version(row) for row in rows]

    def set(
        self,
        festival: str,
        policy: Policy | Mapping[str, Any],
        author: str,
        reason: str,
        known_festivals: Collection[str],
    ) -> PolicyVersion:
        """Store ``policy`` as the festival's next version and return it.

        The policy is validated first (raising :class:`consent.policy.PolicyError`); a
        refused policy leaves the current version unchanged. Rules are stored in a fixed
        order; a policy that decides exactly what the current version decides creates no
        version, and the current version is returned.
        """
        if festival not in known_festivals:
            raise LookupError(f"unknown festival {festival!r}")
        checked = Policy.checked(policy, known_festivals).canonical()
        if not author.strip():
            raise ValueError("a policy change needs an author")
        text = json.dumps(checked.wire(), sort_keys=True, ensure_ascii=False)
        created = now_text(self.clock())
        with immediate(self.db):
            # Judged inside the write lock, so that two writers of one policy make one version.
            if self.current(festival).policy.canonical() == checked:
                return self.current(festival)
            # One statement picks and takes the next number, so two writers cannot share it.
            self.db.execute(
                f"""
                INSERT INTO {VERSIONS} (festival, version, policy, author, reason, created_at)
                SELECT ?, COALESCE(MAX(version), 0) + 1, ?, ?, ?, ?
                FROM {VERSIONS} WHERE festival = ?
                """,
                [festival, text, author.strip(), reason.strip(), created, festival],
            )
        return self.current(festival)

    def diff(self, festival: str, a: int, b: int) -> str:
        """A readable account of what changed from version ``a`` to version ``b``."""
        old, new = self.version(festival, a), self.version(festival, b)
        return diff_policies(old, new)

    def record_access(
        self,
        festival: str,
        accessor: str,
        viewer: str,
        action: Action,
        policy_version: int,
        at: datetime,
    ) -> None:
        """Record that ``accessor`` (as ``viewer``) read ``festival``'s data for ``action``."""
        with immediate(self.db):
            self.db.execute(
                f"""
                INSERT INTO {ACCESS_LOG} (festival, accessor, viewer, action, policy_version, at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
                [festival, accessor, viewer, action, policy_version, now_text(at)],
            )

    def access_log(
        self, festival: str, limit: int = 100, *, offset: int = 0, action: Action | None = None
    ) -> list[AccessRecord]:
        """Reads of ``festival``'s data by others, newest first: ``limit`` of them after
        skipping ``offset``; only ``action`` reads when it is given."""
        where, params = self._access_where(festival, action)
        rows = self._rows(
            f"SELECT * FROM {ACCESS_LOG} WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?",
            [*params, max(0, limit), max(0, offset)],
        )
        return [from_row(AccessRecord, row, at=parse_time(row["at"])) for row in rows]

    def access_count(self, festival: str, action: Action | None = None) -> int:
        """How many reads of ``festival``'s data by others the log holds (of ``action``)."""
        where, params = self._access_where(festival, action)
        row = self.db.execute(f"SELECT COUNT(*) FROM {ACCESS_LOG} WHERE {where}", params)
        return int(row.fetchone()[0])

    @staticmethod
    def _access_where(festival: str, action: Action | None) -> tuple[str, list[Any]]:
        if action is None:
            return "festival = ?", [festival]
        return "festival = ? AND action = ?", [festival, action]

    def _rows(self, sql: str, params: list[Any]) -> list[sqlite3.Row]:
        # Named rows whoever opened the connection (storage.connect gives them anyway).
        cursor = self.db.conn.cursor()
        cursor.row_factory = sqlite3.Row
        rows: list[sqlite3.Row] = cursor.execute(sql, params).fetchall()
        return rows

    def _one(self, sql: str, params: list[Any]) -> sqlite3.Row | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None


def _empty(festival: str) -> PolicyVersion:
    return PolicyVersion(festival, 0, EMPTY_POLICY, None, None, None)


def _version(row: sqlite3.Row) -> PolicyVersion:
    # Stored policies were validated when they were set; festivals named in them may have
    # gone since, which must not make an old version unreadable, so they are not rechecked.
    policy = Policy.model_validate(json.loads(row["policy"]))
    return from_row(PolicyVersion, row, policy=policy, created_at=parse_time(row["created_at"]))


def describe_rule(rule: Rule) -> str:
    """A rule in a few words: ``permit network analyse: artwork level, at least 5 ...``."""
    words = rule.describe()
    details: list[str] = []
    if rule.effect == "permit":
        details.append(f"{rule.level} level")
        details.append(f"at least {rule.min_visitors} visitors per cell")
        details.append(f"{rule.delay_minutes} min delay" if rule.delay_minutes else "no delay")
    if rule.valid_from is not None:
        details.append(f"from {format_time(rule.valid_from)}")
    if rule.valid_until is not None:
        details.append(f"until {format_time(rule.valid_until)}")
    return f"{words}: {', '.join(details)}" if details else words


_COMPARED = ("effect", "level", "min_visitors", "delay_minutes", "valid_from", "valid_until")


def diff_policies(old: PolicyVersion, new: PolicyVersion) -> str:
    """What changed between two versions, one line per added, removed or changed rule."""
    lines = [f"policy of {new.festival}: version {old.version} -> version {new.version}"]
    before = {(rule.to, rule.action): rule for rule in old.policy.rules}
    after = {(rule.to, rule.action): rule for rule in new.policy.rules}
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key), after.get(key)
        if was is not None and now is None:
            lines.append(f"- removed  {describe_rule(was)}")
        elif was is None and now is not None:
            lines.append(f"+ added    {describe_rule(now)}")
        elif was is not None and now is not None and was != now:
            changes = [
                f"{name} {_show(getattr(was, name))} -> {_show(getattr(now, name))}"
                for name in _COMPARED
                if getattr(was, name) != getattr(now, name)
            ]
            lines.append(f"~ changed  {now.to} {now.action}: {'; '.join(changes)}")
    if len(lines) == 1:
        lines.append("  no change")
    return "\n".join(lines)


def _show(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, datetime):
        return format_time(value)
    return str(value)
