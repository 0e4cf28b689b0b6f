"""Schema migrations of the hub's tables (registry, taps, counts, health, dead letters).

Applied in order by :func:`tapshare.database.migrate` (at the hub's start and by
``tapshare migrate``) and recorded in ``_sqlite_migrations``. Never edit a released
migration: add a new one.

The counting tables (``current_opinions``, ``opinion_counts``, ``festival_visitors``,
``festival_totals``) are kept in step by triggers, so every write of a current opinion,
wherever it happens, leaves the counts right.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

from hub.passwords import hash_password, new_key, new_password
from storage import now_text

MIGRATIONS = Migrations("hub")

_REGISTRY = [
    """CREATE TABLE festivals (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        choices TEXT NOT NULL,            -- JSON array of slugs
        visitor_key TEXT NOT NULL,        -- 64 lowercase hex
        board_min_visitors INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE artworks (
        festival TEXT NOT NULL REFERENCES festivals(id),
        id TEXT NOT NULL,
        title TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (festival, id)
    )""",
    """CREATE TABLE stations (
        festival TEXT NOT NULL REFERENCES festivals(id),
        id TEXT NOT NULL,
        secret TEXT NOT NULL,             -- HMAC key for signatures, 64 lowercase hex
        broker_username TEXT NOT NULL UNIQUE,
        broker_password_hash TEXT NOT NULL,  -- Mosquitto $7$ PBKDF2-SHA512, never the password
        enabled INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        disabled_at TEXT,
        PRIMARY KEY (festival, id)
    )""",
    "CREATE INDEX stations_by_id ON stations(id)",
    """CREATE TABLE broker_accounts (
        username TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
]

_TAPS = [
    """CREATE TABLE taps (
        tap_no INTEGER PRIMARY KEY,
        id TEXT NOT NULL,
        festival TEXT NOT NULL,
        station TEXT NOT NULL,
        artwork TEXT NOT NULL,
        visitor TEXT NOT NULL,
        choice TEXT NOT NULL,
        tapped_at TEXT NOT NULL,
        tapped_us INTEGER NOT NULL,       -- tapped_at as microseconds since the epoch
        seq INTEGER NOT NULL,
        received_at TEXT NOT NULL
    )""",
    # Delayed boards pick each visitor's latest tap at or before an instant from here, and
    # erasure finds a visitor's taps by it: one index, so each stored tap updates one.
    """CREATE INDEX taps_by_visitor ON taps(
        festival, visitor, artwork, tapped_us, seq, id, choice)""",
    # Every accepted message id, kept after erasure so a redelivery changes nothing.
    """CREATE TABLE accepted_ids (
        id TEXT PRIMARY KEY,
        received_at TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE erasures (
        id INTEGER PRIMARY KEY,
        festival TEXT NOT NULL,
        station TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        erased_at TEXT NOT NULL,
        taps_deleted INTEGER NOT NULL
    )""",
]

_COUNTS = [
    """CREATE TABLE current_opinions (
        festival TEXT NOT NULL,
        artwork TEXT NOT NULL,
        visitor TEXT NOT NULL,
        choice TEXT NOT NULL,
        tapped_us INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        tap_id TEXT NOT NULL,
        -- Visitor before artwork: erasure finds a visitor's opinions by this key.
        PRIMARY KEY (festival, visitor, artwork)
    ) WITHOUT ROWID""",
    """CREATE TABLE opinion_counts (
        festival TEXT NOT NULL,
        artwork TEXT NOT NULL,
        choice TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (festival, artwork, choice)
    ) WITHOUT ROWID""",
    """CREATE TABLE festival_visitors (
        festival TEXT NOT NULL,
        visitor TEXT NOT NULL,
        artworks INTEGER NOT NULL,
        PRIMARY KEY (festival, visitor)
    ) WITHOUT ROWID""",
    """CREATE TABLE festival_totals (
        festival TEXT PRIMARY KEY,
        visitors INTEGER NOT NULL
    )""",
    """CREATE TRIGGER current_opinions_insert AFTER INSERT ON current_opinions BEGIN
        INSERT INTO opinion_counts (festival, artwork, choice, n)
            VALUES (NEW.festival, NEW.artwork, NEW.choice, 1)
            ON CONFLICT (festival, artwork, choice) DO UPDATE SET n = n + 1;
        INSERT INTO festival_visitors (festival, visitor, artworks)
            VALUES (NEW.festival, NEW.visitor, 1)
            ON CONFLICT (festival, visitor) DO UPDATE SET artworks = artworks + 1;
    END""",
    """CREATE TRIGGER current_opinions_change AFTER UPDATE OF choice ON current_opinions
    WHEN OLD.choice <> NEW.choice BEGIN
        UPDATE opinion_counts SET n = n - 1
            WHERE festival = OLD.festival AND artwork = OLD.artwork AND choice = OLD.choice;
        INSERT INTO opinion_counts (festival, artwork, choice, n)
            VALUES (NEW.festival, NEW.artwork, NEW.choice, 1)
            ON CONFLICT (festival, artwork, choice) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER current_opinions_delete AFTER DELETE ON current_opinions BEGIN
        UPDATE opinion_counts SET n = n - 1
            WHERE festival = OLD.festival AND artwork = OLD.artwork AND choice = OLD.choice;
        UPDATE festival_visitors SET artworks = artworks - 1
            WHERE festival = OLD.festival AND visitor = OLD.visitor;
        DELETE FROM festival_visitors
            WHERE festival = OLD.festival AND visitor = OLD.visitor AND artworks <= 0;
    END""",
    """CREATE TRIGGER festival_visitors_insert AFTER INSERT ON festival_visitors BEGIN
        INSERT INTO festival_totals (festival, visitors) VALUES (NEW.festival, 1)
            ON CONFLICT (festival) DO UPDATE SET visitors = visitors + 1;
    END""",
    """CREATE TRIGGER festival_visitors_delete AFTER DELETE ON festival_visitors BEGIN
        UPDATE festival_totals SET visitors = visitors - 1 WHERE festival = OLD.festival;
    END""",
]

_OPERATIONS = [
    """CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY,
        received_at TEXT NOT NULL,
        topic TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        payload BLOB NOT NULL,            -- the first 2 KiB
        size INTEGER NOT NULL             -- the whole payload's size in bytes
    )""",
    """CREATE TABLE station_status (
        festival TEXT NOT NULL,
        station TEXT NOT NULL,
        state TEXT NOT NULL,
        at TEXT NOT NULL,                 -- the station's own time stamp
        at_us INTEGER NOT NULL,
        last_seen TEXT NOT NULL,          -- the hub's time it heard from the station
        last_seen_us INTEGER NOT NULL,
        outbox INTEGER NOT NULL,
        outbox_full INTEGER NOT NULL,
        readers TEXT NOT NULL,            -- JSON array
        version TEXT NOT NULL,
        PRIMARY KEY (festival, station)
    )""",
    """CREATE TABLE hub_counters (
        name TEXT NOT NULL,
        labels TEXT NOT NULL,             -- JSON object, keys sorted
        value REAL NOT NULL,
        PRIMARY KEY (name, labels)
    )""",
]


def _run(db: Database, statements: list[str]) -> None:
    for statement in statements:
        db.execute(statement)


@MIGRATIONS(name="0001_registry")
def registry(db: Database) -> None:
    """Festivals, artworks, stations and broker accounts."""
    _run(db, _REGISTRY)


@MIGRATIONS(name="0002_taps")
def taps(db: Database) -> None:
    """Stored taps, accepted message ids and erasure records."""
    _run(db, _TAPS)


@MIGRATIONS(name="0003_counts")
def counts(db: Database) -> None:
    """Current opinions and the counts maintained from them."""
    _run(db, _COUNTS)


@MIGRATIONS(name="0004_operations")
def operations(db: Database) -> None:
    """Dead letters, station health and counters."""
    _run(db, _OPERATIONS)


_LIFECYCLE = [
    # 0 keeps a festival's taps forever; N > 0 removes taps older than N days.
    "ALTER TABLE festivals ADD COLUMN retain_days INTEGER NOT NULL DEFAULT 0",
    # Retention finds a festival's old taps by time.
    "CREATE INDEX taps_by_time ON taps(festival, tapped_us)",
    # Bridge accounts of site brokers: a site's broker forwards its festival's messages.
    "ALTER TABLE broker_accounts ADD COLUMN festival TEXT",
]


@MIGRATIONS(name="0005_lifecycle")
def lifecycle(db: Database) -> None:
    """Per-festival retention of taps, and site brokers' bridge accounts."""
    _run(db, _LIFECYCLE)


_TAP_REVISIONS = [
    # Delayed views (hub.delayed) apply new taps as they come; removing or changing stored
    # taps bumps the festival's revision instead, in the same transaction, so that every
    # process drops its views of that festival, whoever removed them (erasure, retention).
    """CREATE TABLE tap_revisions (
        festival TEXT PRIMARY KEY,
        revision INTEGER NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TRIGGER taps_delete AFTER DELETE ON taps BEGIN
        INSERT INTO tap_revisions (festival, revision) VALUES (OLD.festival, 1)
            ON CONFLICT (festival) DO UPDATE SET revision = revision + 1;
    END""",
    """CREATE TRIGGER taps_update AFTER UPDATE ON taps BEGIN
        INSERT INTO tap_revisions (festival, revision) VALUES (OLD.festival, 1)
            ON CONFLICT (festival) DO UPDATE SET revision = revision + 1;
        INSERT INTO tap_revisions (festival, revision) VALUES (NEW.festival, 1)
            ON CONFLICT (festival) DO UPDATE SET revision = revision + 1;
    END""",
]


@MIGRATIONS(name="0006_tap_revisions")
def tap_revisions(db: Database) -> None:
    """A per-festival revision that every removal or change of a stored tap bumps."""
    _run(db, _TAP_REVISIONS)


_PLATFORM_KEYS = [
    # Keys of urban data platforms (the viewer `platform`): only a SHA-256 of each key is
    # kept, so a copy of the database does not let anyone read as the platform.
    """CREATE TABLE platform_keys (
        name TEXT PRIMARY KEY,
        key_hash TEXT NOT NULL UNIQUE,    -- SHA-256 of the key, 64 lowercase hex
        created_at TEXT NOT NULL,
        last_used_at TEXT
    )""",
]


@MIGRATIONS(name="0007_platform_keys")
def platform_keys(db: Database) -> None:
    """Hashed keys that let urban data platforms read as the viewer `platform`."""
    _run(db, _PLATFORM_KEYS)


_ERASURE_MARKERS = [
    # The hub's own secrets, made once (the erasure key: see hub.erasure).
    """CREATE TABLE hub_secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL               -- 64 lowercase hex
    ) WITHOUT ROWID""",
    # Per erased visitor and festival: a keyed hash of the pseudonym, never the pseudonym,
    # and the latest requested_at; a tap at or before it arriving later is not stored.
    """CREATE TABLE erasure_markers (
        festival TEXT NOT NULL,
        visitor_hash TEXT NOT NULL,       -- HMAC-SHA256 under the erasure key, 64 hex
        requested_us INTEGER NOT NULL,    -- microseconds since the epoch
        PRIMARY KEY (festival, visitor_hash)
    ) WITHOUT ROWID""",
    # The festival of an accepted opinion's id, so retention can forget it with the taps
    # (NULL for erase requests: their ids are kept).
    "ALTER TABLE accepted_ids ADD COLUMN festival TEXT",
    "UPDATE accepted_ids SET festival = taps.festival FROM taps WHERE taps.id = accepted_ids.id",
]


@MIGRATIONS(name="0008_erasure_markers")
def erasure_markers(db: Database) -> None:
    """The hub's erasure key, erasure markers, and the festival of accepted ids."""
    _run(db, _ERASURE_MARKERS)
    db.execute(
        "INSERT INTO hub_secrets (name, value) VALUES ('erasure_key', ?)",
        [new_key()],
    )


_STICKERS = [
    # NFC stickers at artworks (docs/phones.md). A static sticker has no keys; an SDM
    # sticker's UID is bound by its first accepted vote, and every accepted vote raises
    # last_counter, so a tap's message is good for one vote.
    """CREATE TABLE stickers (
        festival TEXT NOT NULL REFERENCES festivals(id),
        id TEXT NOT NULL,
        artwork TEXT NOT NULL,
        choice TEXT,                      -- NULL: the vote page asks
        static INTEGER NOT NULL,
        meta_read_key TEXT,               -- 32 lowercase hex; NULL for a static sticker
        file_read_key TEXT,
        uid TEXT,                         -- 14 lowercase hex once bound
        last_counter INTEGER,             -- the last accepted read counter
        enabled INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        disabled_at TEXT,
        PRIMARY KEY (festival, id),
        FOREIGN KEY (festival, artwork) REFERENCES artworks(festival, id)
    )""",
    # When each tap above a sticker's last accepted counter was first opened: a tap is
    # good for 10 minutes from then. Rows at or below the last accepted counter are
    # removed when a vote is accepted (the counter rule refuses them anyway).
    """CREATE TABLE sticker_taps (
        festival TEXT NOT NULL,
        sticker TEXT NOT NULL,
        counter INTEGER NOT NULL,
        opened_us INTEGER NOT NULL,
        PRIMARY KEY (festival, sticker, counter)
    ) WITHOUT ROWID""",
]


@MIGRATIONS(name="0009_stickers")
def stickers(db: Database) -> None:
    """NFC stickers, and the station ``web`` of every festival that has none."""
    _run(db, _STICKERS)
    rows = db.execute(
        "SELECT id FROM festivals WHERE id NOT IN (SELECT festival FROM stations WHERE id = 'web')"
    ).fetchall()
    for (festival_id,) in rows:
        # The web station's broker account is never used (the dashboard connects as
        # tapshare-web), so its password is thrown away.
        db.execute(
            "INSERT INTO stations (festival, id, secret, broker_username, "
            "broker_password_hash, enabled, created_at) VALUES (?, 'web', ?, ?, ?, 1, ?)",
            (
                festival_id,
                new_key(),
                f"{festival_id}.web",
                hash_password(new_password()),
                now_text(),
            ),
        )


@MIGRATIONS(name="0010_festival_timezone")
def festival_timezone(db: Database) -> None:
    """The time zone each festival's pages and explanations give times in."""
    # The default is hub.models.DEFAULT_TIMEZONE; a migration keeps its own copy.
    db.execute("ALTER TABLE festivals ADD COLUMN timezone TEXT NOT NULL DEFAULT 'Europe/Amsterdam'")


_VISITOR_INDEX = [
    # A visitor's taps are found by (festival, visitor) alone (erasure): every stored tap
    # lands at a random place of this index (pseudonyms are random), and each column more
    # made each such entry dearer to write. Delayed views read their taps in time order,
    # by taps_by_time.
    "DROP INDEX taps_by_visitor",
    "CREATE INDEX taps_by_visitor ON taps(festival, visitor)",
]


@MIGRATIONS(name="0011_visitor_index")
def visitor_index(db: Database) -> None:
    """A narrower index of taps by visitor."""
    _run(db, _VISITOR_INDEX)
