"""Schema migrations of the consent tables (policy versions, access log)."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

MIGRATIONS = Migrations("consent")


@MIGRATIONS(name="0001_policy_versions_and_access_log")
def _policy_versions_and_access_log(db: Database) -> None:
    # Versions are never updated or deleted: the history is the audit trail.
    db.execute(
        """
        CREATE TABLE consent_policy_versions (
            festival TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version >= 1),
            policy TEXT NOT NULL,
            author TEXT NOT NULL,
            reason TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (festival, version)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE consent_access_log (
            id INTEGER PRIMARY KEY,
            festival TEXT NOT NULL,
            accessor TEXT NOT NULL,
            viewer TEXT NOT NULL,
            action TEXT NOT NULL,
            policy_version INTEGER NOT NULL,
            at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX consent_access_log_by_festival ON consent_access_log (festival, id)")
