"""Retention keeps the counts exactly right for what is kept; backups are consistent
copies that give the same boards and honour erasures made before them."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta

from sqlite_utils import Database

import storage
from consent.boards import build_board
from consent.store import PolicyStore
from hub import health_store, retention_store, write_path
from hub.lifecycle import apply_retention, backup
from hub.opinions import HubOpinions
from hub.registry import set_festival
from storage import connect
from tapshare.cli import cli
from tests.conftest import Registered
from tests.hub.messages import BASE, erase, opinion

NOW = BASE + timedelta(days=10)


def write(db: Database, messages) -> write_path.BatchOutcome:
    items = []
    for message in messages:
        if hasattr(message, "artwork"):
            items.append(write_path.StoreOpinion(message, NOW))
        else:
            items.append(write_path.StoreErase(message, NOW))
    return write_path.write_batch(db, items, {})


def random_taps(registered: Registered, seed: int, count: int = 400) -> list:
    rng = random.Random(seed)
    taps = []
    for _ in range(count):
        station = rng.choice([registered.st1, registered.st2, registered.d1])
        festival = station.festival
        taps.append(
            opinion(
                station,
                artwork=rng.choice(["aw-1", "aw-2"]) if festival == "strp" else "aw-1",
                who=rng.randrange(40),
                choice=rng.choice(["love", "like", "meh", "dislike"])
                if festival == "strp"
                else rng.choice(["yes", "no"]),
                minute=rng.uniform(0, 10 * 24 * 60),
                seq=rng.randrange(5),
            )
        )
    return taps


def brute_force(db: Database, festival: str) -> tuple[dict[str, Counter[str]], int]:
    """Counts per artwork and distinct visitors, recounted from the stored taps alone."""
    latest: dict[tuple[str, str], tuple[int, int, str, str]] = {}
    for artwork, visitor, tapped_us, seq, tap_id, choice in db.conn.execute(
        "SELECT artwork, visitor, tapped_us, seq, id, choice FROM taps WHERE festival = ?",
        (festival,),
    ):
        key = (visitor, artwork)
        if key not in latest or (tapped_us, seq, tap_id) > latest[key][:3]:
            latest[key] = (tapped_us, seq, tap_id, choice)
    counts: dict[str, Counter[str]] = {}
    for (_, artwork), (*_, choice) in latest.items():
        counts.setdefault(artwork, Counter())[choice] += 1
    return counts, len({visitor for visitor, _ in latest})


def incremental(db: Database, festival: str) -> tuple[dict[str, Counter[str]], int]:
    source = HubOpinions(db)
    cells = source.artwork_cells(festival, None)
    counts = {c.artwork: Counter({k: v for k, v in c.counts.items() if v}) for c in cells}
    for cell in cells:
        assert cell.visitors == sum(cell.counts.values())
    return counts, source.festival_cell(festival, None).visitors  # type: ignore[misc]


def test_retention_removes_old_taps_and_counts_stay_exact(db, registered):
    for seed in range(5):
        write(db, random_taps(registered, seed))
        if seed == 2:
            write(db, [erase(registered.st1, who=3), erase(registered.d1, who=4)])
    set_festival(db, "strp", retain_days=4)
    before_dfest = brute_force(db, "dfest")
    total = db.conn.execute("SELECT count(*) FROM taps WHERE festival = 'strp'").fetchone()[0]

    expired = apply_retention(db, NOW)

    cutoff = storage.micros(NOW - timedelta(days=4))
    (old,) = db.conn.execute(
        "SELECT count(*) FROM taps WHERE festival = 'strp' AND tapped_us < ?", (cutoff,)
    ).fetchone()
    (kept,) = db.conn.execute("SELECT count(*) FROM taps WHERE festival = 'strp'").fetchone()
    assert old == 0
    assert [(e.festival, e.taps) for e in expired] == [("strp", total - kept)]
    assert 0 < kept < total
    for festival in ("strp", "dfest"):
        assert incremental(db, festival) == brute_force(db, festival)
    # A festival without retention keeps everything.
    assert brute_force(db, "dfest") == before_dfest
    # The delayed path (from the taps) agrees with the incremental tables too.
    late = HubOpinions(db).festival_cell("strp", NOW + timedelta(days=1))
    assert late == HubOpinions(db).festival_cell("strp", None)
    # Running it again removes nothing more; new taps keep counting right.
    assert apply_retention(db, NOW)[0].taps == 0
    write(db, random_taps(registered, 99, 100))
    apply_retention(db, NOW)
    assert incremental(db, "strp") == brute_force(db, "strp")


def test_retention_covers_dead_letters_and_accepted_ids(db, registered):
    """Dead letters of the festival's topics and its opinions' ids go with its taps (ids
    only once their taps are surely gone); erase ids, other festivals, stray topics stay."""
    long_ago, lately = NOW - timedelta(days=3), NOW - timedelta(hours=1)

    def letter(topic: str, at) -> write_path.StoreRejection:
        return write_path.StoreRejection(topic, "bad_value", "x", b"{}", at)

    def at(received, *messages) -> None:
        items = [
            write_path.StoreErase(m, received)
            if type(m).__name__ == "EraseRequest"
            else write_path.StoreOpinion(m, received)
            for m in messages
        ]
        write_path.write_batch(db, items, {})

    write_path.write_batch(
        db,
        [
            letter("tapshare/v1/strp/st-01/opinion", long_ago),
            letter("tapshare/v1/strp/st-01/opinion", lately),
            letter("tapshare/v1/strp-2/st-01/opinion", long_ago),  # not strp's topic
            letter("tapshare/v1/dfest/d-01/opinion", long_ago),
            letter("elsewhere", long_ago),
        ],
        {},
    )
    old, new, other = (
        opinion(registered.st1, who=1),
        opinion(registered.st1, who=2),
        opinion(registered.d1, who=1, choice="yes"),
    )
    # Received just inside the clock tolerance before the cut-off: its tap may be newer.
    edge = opinion(registered.st1, who=3)
    gone = erase(registered.st1, who=4)
    at(long_ago, old, other, gone)
    at(NOW - timedelta(days=2, minutes=4), edge)
    at(lately, new)
    set_festival(db, "strp", retain_days=2)

    (expired,) = apply_retention(db, NOW)

    assert (expired.dead_letters, expired.accepted_ids) == (1, 1)
    topics = [row[0] for row in db.conn.execute("SELECT topic FROM dead_letters ORDER BY id")]
    assert topics == [
        "tapshare/v1/strp/st-01/opinion",
        "tapshare/v1/strp-2/st-01/opinion",
        "tapshare/v1/dfest/d-01/opinion",
        "elsewhere",
    ]
    ids = {row[0] for row in db.conn.execute("SELECT id FROM accepted_ids")}
    assert ids == {new.id, other.id, edge.id, gone.id}
    # The erased visitor's old tap stays hidden even once its id is forgotten.
    late = opinion(registered.st1, who=4, minute=-1)
    assert write(db, [late]).hidden == 1


def test_a_redelivered_expired_tap_does_not_come_back(db, registered):
    old = opinion(registered.st1, minute=0)
    write(db, [old])
    set_festival(db, "strp", retain_days=1)
    assert apply_retention(db, NOW)[0].taps == 1
    outcome = write(db, [old])
    assert outcome.duplicates == 1
    assert brute_force(db, "strp") == ({}, 0) == incremental(db, "strp")


def boards(db: Database) -> list[dict]:
    source, policies = HubOpinions(db), PolicyStore(db)
    viewers = ["festival:strp", "festival:dfest", "public"]
    return [
        build_board(source, policies, viewer, "display", NOW).model_dump(exclude={"generated_at"})
        for viewer in viewers
    ]


def test_backup_gives_the_same_boards_and_honours_an_earlier_erasure(
    db, registered, db_path, tmp_path
):
    PolicyStore(db).set(
        "strp",
        {
            "rules": [
                {
                    "effect": "permit",
                    "to": "public",
                    "action": "display",
                    "min_visitors": 1,
                    "level": "artwork",
                }
            ]
        },
        author="test",
        reason="share",
        known_festivals={"strp", "dfest"},
    )
    write(db, random_taps(registered, 7))
    erased = write(db, [erase(registered.st1, who=5)])
    assert erased.erasures == 1
    copy = tmp_path / "copy.db"

    # The hub keeps writing while the copy is made.
    stop = threading.Event()

    def keep_writing() -> None:
        writer = connect(db_path)
        n = 0
        while not stop.is_set():
            write(writer, [opinion(registered.st2, who=1000 + n, minute=n)])
            n += 1
        writer.close()

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        seen: list[tuple[int, int]] = []
        pages = backup(db_path, copy, lambda done, total: seen.append((done, total)))
    finally:
        stop.set()
        thread.join()
    assert pages > 0 and seen and seen[-1][0] == seen[-1][1]

    restored = connect(copy)
    try:
        (visitor_taps,) = restored.conn.execute(
            "SELECT count(*) FROM taps WHERE festival = 'strp' AND visitor = ?", (f"{5:064x}",)
        ).fetchone()
        assert visitor_taps == 0
        assert health_store.list_erasures(restored, "strp")[-1].station == "st-01"
        # A consistent snapshot: the incremental counts agree with its own taps.
        for festival in ("strp", "dfest"):
            assert incremental(restored, festival) == brute_force(restored, festival)
        # Boards of a copy equal those of the original: back up again while nothing
        # writes, and compare.
        second = tmp_path / "second.db"
        backup(db_path, second)
        quiet = connect(second)
        try:
            shown = boards(db)
            assert shown[2]["sections"][0]["cells"], "the public board shows strp's cells"
            assert boards(quiet) == shown
        finally:
            quiet.close()
    finally:
        restored.close()


def test_backup_refuses_to_overwrite(db, db_path, tmp_path, runner):
    target = tmp_path / "exists.db"
    target.write_text("keep me")
    result = runner.invoke(cli, ["--db", str(db_path), "backup", str(target)])
    assert result.exit_code == 2
    assert "refusing to overwrite" in result.stderr
    assert target.read_text() == "keep me"
    assert not list(tmp_path.glob(".exists.db.partial*"))


def test_cli_retain_days_retention_and_backup(db, registered, db_path, tmp_path, runner):
    write(db, [opinion(registered.st1, minute=0)])
    base = ["--db", str(db_path)]
    bad = runner.invoke(cli, [*base, "festival", "set", "strp", "--retain-days", "-1"])
    assert bad.exit_code == 2 and "retention must be" in bad.stderr
    assert retention_store.festival_retain_days(db, "strp") == 0
    ok = runner.invoke(cli, [*base, "festival", "set", "strp", "--retain-days", "30"])
    assert ok.exit_code == 0, ok.output
    assert "taps kept 30 days" in ok.output
    assert retention_store.festival_retain_days(db, "strp") == 30
    # The tap is from BASE (May 2026), more than 30 days before the real clock's today.
    removed = runner.invoke(cli, [*base, "retention"])
    assert removed.exit_code == 0, removed.output
    assert "festival strp: removed 1 taps" in removed.output
    assert db.conn.execute("SELECT count(*) FROM taps").fetchone()[0] == 0
    copied = runner.invoke(cli, [*base, "backup", str(tmp_path / "b.db")])
    assert copied.exit_code == 0, copied.output
    assert (tmp_path / "b.db").exists()


def test_the_running_hub_applies_retention_at_start_and_on_schedule(
    db, registered, db_path, mosquitto
):
    from tests.harness.mqtt import wait_for
    from tests.hub.running import running_hub

    write(db, [opinion(registered.st1, minute=0)])
    set_festival(db, "strp", retain_days=30)

    def taps() -> int:
        return int(db.conn.execute("SELECT count(*) FROM taps").fetchone()[0])

    with running_hub(db_path, mosquitto, retention_interval=0.5):
        assert wait_for(lambda: taps() == 0, 10), "not applied at start"
        write(db, [opinion(registered.st1, minute=1), opinion(registered.d1, minute=1)])
        # dfest keeps its taps forever; strp's old one goes on the next round.
        assert wait_for(lambda: taps() == 1, 10), "not applied on schedule"
    assert incremental(db, "strp") == brute_force(db, "strp") == ({}, 0)
