"""Schema migrations of the hub's tables (registry, taps, counts, health, dead letters)."""

from sqlite_utils import Migrations

MIGRATIONS = Migrations("hub")
