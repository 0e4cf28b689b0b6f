"""Schema migrations of the consent tables (policy versions, access log)."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

from storage import rewrite_times

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


@MIGRATIONS(name="0002_times_in_milliseconds")
def _times_in_milliseconds(db: Database) -> None:
    # Versions and reads were written to the second (microseconds when there were any);
    # every time in the database is now RFC 3339 UTC with milliseconds, so they compare as
    # text with the hub's.
    rewrite_times(db, "consent_policy_versions", ["created_at"])
    rewrite_times(db, "consent_access_log", ["at"])
