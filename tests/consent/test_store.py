"""Policy versions, history, diffs and the access log, in a real SQLite database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlite_utils import Database

from consent.migrations import MIGRATIONS
from consent.policy import EMPTY_POLICY, Policy, PolicyError
from consent.store import PolicyStore
from storage import connect
from tapshare.database import migrate
from tests.consent.conftest import Clock

KNOWN = {"strp", "dd", "gl"}
SHARE = {"rules": [{"effect": "permit", "to": "network", "action": "display", "level": "artwork"}]}


def test_a_festival_without_a_policy_shares_nothing(store: PolicyStore) -> None:
    current = store.current("strp")
    assert (current.version, current.policy, current.author) == (0, EMPTY_POLICY, None)
    assert store.history("strp") == []
    assert store.version("strp", 0).policy == EMPTY_POLICY


def test_set_creates_numbered_versions_with_author_time_and_reason(
    store: PolicyStore, clock: Clock
) -> None:
    first = store.set("strp", SHARE, "ann@strp.nl", "share with the network", KNOWN)
    clock.advance(minutes=5)
    second = store.set("strp", {"rules": []}, "bob@strp.nl", "revoke", KNOWN)
    assert (first.version, second.version) == (1, 2)
    assert first.author == "ann@strp.nl" and first.reason == "share with the network"
    assert first.created_at == datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
    assert second.created_at == datetime(2026, 5, 1, 20, 5, tzinfo=UTC)
    assert store.current("strp") == second
    assert [v.version for v in store.history("strp")] == [1, 2]
    assert store.version("strp", 1) == first
    assert store.current("dd").version == 0  # versions are numbered per festival
    assert store.set("dd", SHARE, "cy", "", KNOWN).version == 1


def test_set_accepts_a_policy_object(store: PolicyStore) -> None:
    policy = Policy.checked(SHARE, KNOWN)
    assert store.set("strp", policy, "ann", "why", KNOWN).policy == policy


@pytest.mark.parametrize(
    "bad",
    [
        {"rules": [{"effect": "permit", "to": "festival:nope", "action": "display"}]},
        {"rules": [SHARE["rules"][0], SHARE["rules"][0]]},
        {
            "rules": [
                {"effect": "prohibit", "to": "public", "action": "display", "level": "artwork"}
            ]
        },
        {"rules": "all"},
    ],
)
def test_refused_policies_leave_the_current_version_unchanged(
    store: PolicyStore, db: Database, bad: object
) -> None:
    before = store.set("strp", SHARE, "ann", "first", KNOWN)
    with pytest.raises(PolicyError):
        store.set("strp", bad, "mallory", "break it", KNOWN)  # type: ignore[arg-type]
    assert store.current("strp") == before
    assert db.execute("SELECT COUNT(*) FROM consent_policy_versions").fetchone()[0] == 1


def test_an_unchanged_policy_creates_no_version(store: PolicyStore) -> None:
    assert store.set("strp", {"rules": []}, "ann", "nothing", KNOWN).version == 0
    two = [
        {"effect": "permit", "to": "network", "action": "display"},
        {"effect": "prohibit", "to": "public", "action": "export"},
    ]
    first = store.set("strp", {"rules": two}, "ann", "first", KNOWN)
    # The same rules in another order, with the defaults written out, decide the same.
    again = [{**two[1]}, {**two[0], "level": "festival", "min_visitors": 5}]
    assert store.set("strp", {"rules": again}, "bob", "again", KNOWN) == first
    assert [v.version for v in store.history("strp")] == [1]
    assert [rule.to for rule in first.policy.rules] == ["public", "network"]


def test_unknown_festival_and_missing_author_are_refused(store: PolicyStore) -> None:
    with pytest.raises(LookupError):
        store.set("nope", SHARE, "ann", "", KNOWN)
    with pytest.raises(ValueError, match="author"):
        store.set("strp", SHARE, "  ", "", KNOWN)
    assert store.current("strp").version == 0


def test_missing_version_is_a_lookup_error(store: PolicyStore) -> None:
    with pytest.raises(LookupError, match="no policy version 3"):
        store.version("strp", 3)


def test_diff_is_readable(store: PolicyStore) -> None:
    store.set("strp", SHARE, "ann", "first", KNOWN)
    store.set(
        "strp",
        {
            "rules": [
                {
                    "effect": "permit",
                    "to": "network",
                    "action": "display",
                    "level": "artwork",
                    "min_visitors": 10,
                },
                {"effect": "prohibit", "to": "festival:dd", "action": "display"},
            ]
        },
        "ann",
        "second",
        KNOWN,
    )
    store.set("strp", {"rules": []}, "ann", "third", KNOWN)
    text = store.diff("strp", 1, 2)
    assert text.splitlines() == [
        "policy of strp: version 1 -> version 2",
        "+ added    prohibit festival:dd display",
        "~ changed  network display: min_visitors 5 -> 10",
    ]
    assert (
        "- removed  permit network display: artwork level, at least 10 visitors per cell, no delay"
        in store.diff("strp", 2, 3)
    )
    assert store.diff("strp", 0, 1).splitlines()[1].startswith("+ added    permit network display")
    assert "no change" in store.diff("strp", 3, 0)


def test_access_log_newest_first(store: PolicyStore) -> None:
    at = datetime(2026, 5, 1, 21, 0, tzinfo=UTC)
    store.record_access("strp", "eve@dd.nl", "festival:dd", "analyse", 2, at)
    store.record_access("strp", "platform", "platform", "export", 3, at.replace(minute=5))
    store.record_access("dd", "x", "festival:strp", "export", 1, at)
    log = store.access_log("strp", limit=10)
    assert [(r.accessor, r.action, r.policy_version) for r in log] == [
        ("platform", "export", 3),
        ("eve@dd.nl", "analyse", 2),
    ]
    assert log[1].at == at and log[1].viewer == "festival:dd"
    assert len(store.access_log("strp", limit=1)) == 1


def test_versions_survive_reopening_the_database(tmp_path: object) -> None:
    path = f"{tmp_path}/hub.db"
    migrate(path)
    db = connect(path)
    PolicyStore(db).set("strp", SHARE, "ann", "first", KNOWN)
    db.close()
    again = connect(path)
    assert PolicyStore(again).current("strp").policy == Policy.checked(SHARE, KNOWN)
    again.close()
    assert migrate(path) == []  # nothing pending the second time


def test_migrations_are_recorded() -> None:
    db = connect(":memory:")
    MIGRATIONS.apply(db)
    assert {"consent_policy_versions", "consent_access_log"} <= set(db.table_names())
    assert MIGRATIONS.pending(db) == []


def test_concurrent_writers_get_distinct_versions(tmp_path: object) -> None:
    path = f"{tmp_path}/hub.db"
    migrate(path)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        db = connect(path)
        try:
            store = PolicyStore(db)
            for n in range(15):
                # Each write changes the policy (an unchanged one would make no version).
                rule = {**SHARE["rules"][0], "min_visitors": 1 + n + 100 * int(name[-1])}
                store.set("strp", {"rules": [rule]}, name, f"change {n}", KNOWN)
                store.record_access("strp", name, "platform", "export", n, datetime.now(UTC))
        except BaseException as exc:  # reported below, with the thread's name
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=writer, args=(f"writer-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db = connect(path)
    history = PolicyStore(db).history("strp")
    assert [v.version for v in history] == list(range(1, 61))
    assert len(PolicyStore(db).access_log("strp", limit=1000)) == 60
    db.close()
