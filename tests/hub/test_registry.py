"""The registry: festivals, artworks, stations, credentials and station.toml."""

from __future__ import annotations

import tomllib

import pytest

from hub import registry, registry_store
from hub.passwords import check_password
from hub.registry import RegistryError
from protocol import parse_key
from protocol.broker import parse_broker_url
from storage import connect
from tapshare.database import migrate


def test_migrations_are_recorded_and_run_once(db_path):
    applied = migrate(db_path)
    assert [name for name in applied if name.startswith("hub:")] == [
        "hub:0001_registry",
        "hub:0002_taps",
        "hub:0003_counts",
        "hub:0004_operations",
        "hub:0005_lifecycle",
        "hub:0006_tap_revisions",
        "hub:0007_platform_keys",
        "hub:0008_erasure_markers",
        "hub:0009_stickers",
        "hub:0010_festival_timezone",
        "hub:0011_visitor_index",
    ]
    assert migrate(db_path) == []
    db = connect(db_path)
    assert {"festivals", "taps", "dead_letters", "hub_counters"} <= set(db.table_names())


def test_a_festival_registered_before_time_zones_speaks_amsterdam_time(db_path):
    from sqlite_utils import Database

    from hub.migrations import MIGRATIONS

    db = Database(db_path)
    MIGRATIONS.apply(db, stop_before="0010_festival_timezone")
    db.execute(
        "INSERT INTO festivals (id, name, choices, visitor_key, created_at) "
        "VALUES ('old', 'Old', '[\"yes\"]', ?, '2026-01-01T00:00:00Z')",
        ["0" * 64],
    )
    db.conn.commit()
    migrate(db_path)
    assert registry_store.get_festival(connect(db_path), "old").timezone == "Europe/Amsterdam"


def test_festival_gets_default_choices_and_a_key(db):
    festival = registry.add_festival(db, "strp", "STRP")
    assert festival.choices == ("love", "like", "meh", "dislike")
    assert len(parse_key(festival.visitor_key)) == 32
    assert festival.board_min_visitors == 1
    assert registry_store.get_festival(db, "strp") == festival
    other = registry.add_festival(db, "dfest", "D", ["yes", "no"])
    assert other.visitor_key != festival.visitor_key
    assert [f.id for f in registry_store.list_festivals(db)] == ["dfest", "strp"]


@pytest.mark.parametrize("festival_id", ["public", "network", "platform"])
def test_reserved_festival_ids_are_refused(db, festival_id):
    with pytest.raises(RegistryError, match="reserved"):
        registry.add_festival(db, festival_id, "Name")
    assert registry_store.list_festivals(db) == []


@pytest.mark.parametrize(
    "festival_id", ["", "STRP", "-strp", "strp_2026", "a" * 64, "fête", "a b", "a.b"]
)
def test_bad_festival_slugs_are_refused(db, festival_id):
    with pytest.raises(RegistryError, match="not a valid id"):
        registry.add_festival(db, festival_id, "Name")


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ([], "at least one"),
        (["love", "love"], "different"),
        (["Love"], "not a valid id"),
        ([""], "not a valid id"),
        ([f"c{i}" for i in range(17)], "at most"),
    ],
)
def test_bad_choices_are_refused(db, choices, message):
    with pytest.raises(RegistryError, match=message):
        registry.add_festival(db, "strp", "STRP", choices)
    assert registry_store.get_festival(db, "strp") is None


def test_duplicate_festival_is_refused_and_keeps_its_key(db):
    first = registry.add_festival(db, "strp", "STRP")
    with pytest.raises(RegistryError, match="already registered"):
        registry.add_festival(db, "strp", "Other")
    assert registry_store.get_festival(db, "strp") == first


def test_set_festival(db):
    registry.add_festival(db, "strp", "STRP")
    changed = registry.set_festival(db, "strp", board_min_visitors=3)
    assert (changed.name, changed.board_min_visitors) == ("STRP", 3)
    changed = registry.set_festival(db, "strp", name="STRP 2026")
    assert (changed.name, changed.board_min_visitors) == ("STRP 2026", 3)
    for bad in (0, -1, True):
        with pytest.raises(RegistryError, match="whole number"):
            registry.set_festival(db, "strp", board_min_visitors=bad)
    with pytest.raises(RegistryError, match="not registered"):
        registry.set_festival(db, "nope", name="x")
    with pytest.raises(RegistryError, match="empty"):
        registry.set_festival(db, "strp", name="  ")


def test_artworks(db):
    registry.add_festival(db, "strp", "STRP")
    registry.add_artwork(db, "strp", "aw-2", "Rain")
    registry.add_artwork(db, "strp", "aw-1", "Cloud")
    assert [(a.id, a.title) for a in registry_store.list_artworks(db, "strp")] == [
        ("aw-1", "Cloud"),
        ("aw-2", "Rain"),
    ]
    with pytest.raises(RegistryError, match="already registered"):
        registry.add_artwork(db, "strp", "aw-1", "Again")
    with pytest.raises(RegistryError, match="not registered"):
        registry.add_artwork(db, "nope", "aw-1", "Cloud")
    with pytest.raises(RegistryError, match="not a valid id"):
        registry.add_artwork(db, "strp", "Aw 3", "Cloud")
    with pytest.raises(RegistryError, match="control"):
        registry.add_artwork(db, "strp", "aw-3", "bad\x1b[31m")


def test_station_credentials_are_kept_only_as_hash(db):
    festival = registry.add_festival(db, "strp", "STRP")
    credentials = registry.add_station(db, "strp", "st-01")
    assert credentials.broker_username == "strp.st-01"
    assert credentials.visitor_key == festival.visitor_key
    assert len(parse_key(credentials.station_secret)) == 32
    stored = [tuple(row) for row in db.conn.execute("SELECT * FROM stations")]
    assert credentials.broker_password not in repr(stored)
    (account,) = registry_store.broker_station_accounts(db)
    username, password_hash = account.username, account.password_hash
    assert username == "strp.st-01"
    assert password_hash.startswith("$7$")
    assert check_password(credentials.broker_password, password_hash)
    assert not check_password(credentials.broker_password + "x", password_hash)
    with pytest.raises(RegistryError, match="already registered"):
        registry.add_station(db, "strp", "st-01")
    with pytest.raises(RegistryError, match="not registered"):
        registry.add_station(db, "nope", "st-01")


def test_disable_station(db):
    registry.add_festival(db, "strp", "STRP")
    registry.add_station(db, "strp", "st-01")
    registry.disable_station(db, "strp", "st-01")
    assert registry_store.station_key(db, "strp", "st-01").enabled is False
    assert registry_store.broker_station_accounts(db) == []
    with pytest.raises(RegistryError, match="not registered"):
        registry.disable_station(db, "strp", "st-02")


def test_station_toml_has_the_spec_layout(db):
    registry.add_festival(db, "strp", "STRP")
    credentials = registry.add_station(db, "strp", "st-01")
    broker = parse_broker_url("mqtts://someone:old@hub.example.org:8883")
    text = registry.station_toml(credentials, broker)
    assert [line.split(" = ")[0] for line in text.splitlines()] == [
        "festival",
        "station",
        "broker",
        "station_secret",
        "visitor_key",
        "outbox",
        "choices",
    ]
    parsed = tomllib.loads(text)
    assert parsed["choices"] == ["love", "like", "meh", "dislike"]
    assert parsed["festival"] == "strp" and parsed["station"] == "st-01"
    url = parse_broker_url(parsed["broker"])
    assert (url.host, url.port, url.tls) == ("hub.example.org", 8883, True)
    assert (url.username, url.password) == ("strp.st-01", credentials.broker_password)
    assert parsed["station_secret"] == credentials.station_secret
    assert parsed["visitor_key"] == credentials.visitor_key
    assert parsed["outbox"] == "/var/lib/tapshare/outbox.db"
    assert "readers" not in parsed
