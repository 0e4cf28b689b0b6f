"""Schema migrations of the consent tables (policy versions, access log)."""

from sqlite_utils import Migrations

MIGRATIONS = Migrations("consent")
