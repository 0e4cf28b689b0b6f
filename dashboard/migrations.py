"""Schema migrations of the dashboard's tables (organiser accounts, login attempts)."""

from sqlite_utils import Migrations

MIGRATIONS = Migrations("dashboard")
