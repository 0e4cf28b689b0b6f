"""The board function against a small in-memory source: shape, withholding, delays, logs."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta

import pytest

from consent.boards import Board, UnknownViewer, build_board, policy_warnings
from consent.policy import Policy
from consent.sources import FestivalInfo
from consent.store import PolicyStore
from storage import connect
from tests.consent.conftest import Clock
from tests.consent.memory import MemorySource

NOW = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
CHOICES = ("love", "like", "meh", "dislike")
KNOWN = {"strp", "dd", "gl"}


@pytest.fixture
def source() -> MemorySource:
    source = MemorySource()
    source.add_festival(
        FestivalInfo("strp", "STRP", CHOICES, 1), {"aw-1": "Cloud", "aw-2": "Rain", "aw-3": "Fog"}
    )
    source.add_festival(FestivalInfo("dd", "Dutch Design Week", CHOICES, 2), {"chair": "Chair"})
    source.add_festival(FestivalInfo("gl", "GLOW", ("yes", "no"), 1), {"light": "Light"})
    # strp: aw-1 has 3 visitors, aw-2 has 1, aw-3 none
    for visitor, choice in (("a", "love"), ("b", "love"), ("c", "like")):
        source.tap("strp", "aw-1", visitor, choice, NOW - timedelta(minutes=90))
    source.tap("strp", "aw-2", "a", "meh", NOW - timedelta(minutes=10))
    source.tap("dd", "chair", "z", "dislike", NOW - timedelta(minutes=5))
    return source


def board(
    source: MemorySource, store: PolicyStore, viewer: str, action: str = "display", **kw: object
) -> Board:
    return build_board(source, store, viewer, action, NOW, **kw)  # type: ignore[arg-type]


def share(store: PolicyStore, festival: str, *rules: dict[str, object]) -> None:
    store.set(festival, {"rules": list(rules)}, "ann", "test", KNOWN)


def permit(to: str, action: str = "display", **extra: object) -> dict[str, object]:
    return {"effect": "permit", "to": to, "action": action, **extra}


def test_nothing_is_shared_by_default_but_own_boards_run(
    source: MemorySource, store: PolicyStore
) -> None:
    own = board(source, store, "festival:strp")
    assert [s.festival for s in own.sections] == ["strp"]
    section = own.sections[0]
    assert (section.rule, section.level, section.policy_version, section.min_visitors) == (
        "own",
        "artwork",
        0,
        1,
    )
    assert [c.artwork for c in section.cells] == ["aw-1", "aw-2"]
    assert section.cells[0].model_dump() == {
        "artwork": "aw-1",
        "title": "Cloud",
        "visitors": 3,
        "counts": {"love": 2, "like": 1, "meh": 0, "dislike": 0},
    }
    assert section.withheld == []
    assert board(source, store, "public").sections == []
    assert board(source, store, "platform", "analyse").sections == []


def test_board_json_has_the_spec_shape(source: MemorySource, store: PolicyStore) -> None:
    data = board(source, store, "festival:dd").model_dump(mode="json")
    assert set(data) == {"viewer", "generated_at", "sections"}
    assert data["generated_at"] == "2026-05-01T20:00:00Z"
    assert set(data["sections"][0]) == {
        "festival",
        "name",
        "choices",
        "level",
        "rule",
        "policy_version",
        "min_visitors",
        "delay_minutes",
        "cells",
        "withheld",
    }


def test_own_boards_use_the_festivals_own_minimum(source: MemorySource, store: PolicyStore) -> None:
    section = board(source, store, "festival:dd").sections[0]
    assert section.min_visitors == 2 and section.cells == [] and section.withheld == ["chair"]
    # ... but its organisers' analysis sees everything
    assert board(source, store, "festival:dd", "analyse").sections[0].cells[0].visitors == 1


def test_sections_own_first_then_others_by_id(source: MemorySource, store: PolicyStore) -> None:
    for festival in KNOWN:
        share(store, festival, permit("network", level="artwork", min_visitors=1))
    assert [s.festival for s in board(source, store, "festival:strp").sections] == [
        "strp",
        "dd",
        "gl",
    ]
    assert [s.festival for s in board(source, store, "festival:gl").sections] == [
        "gl",
        "dd",
        "strp",
    ]


def test_artwork_level_withholds_small_cells_and_never_shows_them_as_zero(
    source: MemorySource, store: PolicyStore
) -> None:
    share(store, "strp", permit("network", level="artwork", min_visitors=2))
    section = board(source, store, "festival:dd").sections[1]
    assert (section.festival, section.rule, section.policy_version) == ("strp", "network", 1)
    assert [c.artwork for c in section.cells] == ["aw-1"]
    assert section.withheld == ["aw-2"]
    assert "aw-3" not in section.withheld  # no current opinion: simply left out


def test_festival_level_is_one_cell_or_withheld_star(
    source: MemorySource, store: PolicyStore
) -> None:
    share(store, "strp", permit("public", min_visitors=3))
    section = board(source, store, "public").sections[0]
    assert section.level == "festival" and section.withheld == []
    assert [c.model_dump() for c in section.cells] == [
        {
            "artwork": None,
            "title": None,
            "visitors": 3,
            "counts": {"love": 2, "like": 1, "meh": 1, "dislike": 0},
        }
    ]
    share(store, "strp", permit("public", min_visitors=4))
    section = board(source, store, "public").sections[0]
    assert section.cells == [] and section.withheld == ["*"]


def test_delay_shows_the_board_as_it_stood(source: MemorySource, store: PolicyStore) -> None:
    # "a" changes their mind on aw-1 after the delay point: the delayed board keeps "love".
    source.tap("strp", "aw-1", "a", "dislike", NOW - timedelta(minutes=20))
    share(store, "strp", permit("network", level="artwork", min_visitors=1, delay_minutes=30))
    section = board(source, store, "festival:dd").sections[1]
    assert section.delay_minutes == 30
    assert [c.artwork for c in section.cells] == ["aw-1"]  # aw-2's tap is only 10 minutes old
    assert section.cells[0].counts == {"love": 2, "like": 1, "meh": 0, "dislike": 0}
    live = board(source, store, "festival:strp").sections[0]
    assert live.cells[0].counts == {"love": 1, "like": 1, "meh": 0, "dislike": 1}


def test_revoking_a_grant_changes_the_very_next_read(
    source: MemorySource, store: PolicyStore
) -> None:
    share(store, "strp", permit("public", level="artwork", min_visitors=1))
    assert [s.festival for s in board(source, store, "public").sections] == ["strp"]
    share(store, "strp", {"effect": "prohibit", "to": "public", "action": "display"})
    assert board(source, store, "public").sections == []


def test_analyse_and_export_reads_of_others_are_logged(
    source: MemorySource, store: PolicyStore, clock: Clock
) -> None:
    share(store, "strp", permit("network", "analyse", level="artwork", min_visitors=1))
    share(store, "dd", permit("platform", "export"))
    board(source, store, "festival:dd", "analyse", accessor="eve@dd.nl")
    board(source, store, "platform", "export")
    board(source, store, "festival:dd", "display")  # display reads are not logged
    board(source, store, "festival:gl", "export")  # nothing granted: nothing read
    log = store.access_log("strp")
    assert [(r.accessor, r.viewer, r.action, r.policy_version, r.at) for r in log] == [
        ("eve@dd.nl", "festival:dd", "analyse", 1, NOW)
    ]
    assert [(r.accessor, r.action) for r in store.access_log("dd")] == [("platform", "export")]
    assert store.access_log("gl") == []


def test_draft_previews_an_unsaved_policy_without_logging(
    source: MemorySource, store: PolicyStore
) -> None:
    draft = Policy.checked(
        {"rules": [permit("network", "analyse", level="artwork", min_visitors=1)]}, KNOWN
    )
    preview = board(source, store, "festival:dd", "analyse", draft=("strp", draft))
    assert [s.festival for s in preview.sections] == ["dd", "strp"]
    assert preview.sections[1].policy_version == 1  # what it would become
    assert store.current("strp").version == 0
    assert store.access_log("strp") == []
    assert [s.festival for s in board(source, store, "festival:dd", "analyse").sections] == ["dd"]


def test_unknown_viewers_and_actions_are_refused(source: MemorySource, store: PolicyStore) -> None:
    with pytest.raises(UnknownViewer):
        board(source, store, "festival:nope")
    with pytest.raises(ValueError):
        board(source, store, "network")
    with pytest.raises(ValueError):
        board(source, store, "public", "delete")


def test_choices_no_longer_offered_still_count(store: PolicyStore) -> None:
    source = MemorySource()
    source.add_festival(FestivalInfo("gl", "GLOW", ("yes",), 1), {"light": "Light"})
    source.tap("gl", "light", "a", "no", NOW)
    cell = board(source, store, "festival:gl").sections[0].cells[0]
    assert cell.counts == {"yes": 0, "no": 1}


def test_warnings_for_totals_beside_withheld_artworks() -> None:
    policy = Policy.checked(
        {
            "rules": [
                permit("public", level="festival", min_visitors=5),
                permit("network", level="artwork", min_visitors=10),
                {"effect": "prohibit", "to": "festival:dd", "action": "display"},
            ]
        },
        KNOWN,
    )
    warnings = policy_warnings(policy)
    assert len(warnings) == 2
    assert warnings[0] == (
        "The public sees the festival's total on boards, and the network (every festival "
        "without a rule of its own) sees each artwork with at least 10 visitors on boards. "
        "Whoever sees both can take the artworks shown from the total and work out the "
        "opinions on the artworks with fewer than 10 visitors, which were meant to stay hidden."
    )
    assert warnings[1] == (
        "Refusing festival dd on boards hides nothing: the public board shows the same to "
        "everyone, festival dd included."
    )
    assert "permit" not in " ".join(warnings) and "festival:" not in " ".join(warnings)
    assert (
        policy_warnings(
            Policy.checked(
                {"rules": [permit("public", level="artwork", min_visitors=1), permit("network")]},
                KNOWN,
            )
        )
        == []
    )


def test_warning_for_a_rule_about_the_festival_itself() -> None:
    policy = Policy.checked(
        {"rules": [{"effect": "prohibit", "to": "festival:strp", "action": "export"}]}, KNOWN
    )
    assert policy_warnings(policy) == []
    (warning,) = policy_warnings(policy, "strp")
    assert "no effect" in warning


def test_board_models_give_a_json_schema() -> None:
    schema = Board.model_json_schema()
    assert schema["required"] == ["viewer", "generated_at", "sections"]
    section = schema["$defs"]["Section"]
    assert section["additionalProperties"] is False
    assert set(section["required"]) >= {"festival", "cells", "withheld", "rule", "policy_version"}


@pytest.mark.skipif(
    importlib.util.find_spec("hub.opinions") is None,
    reason="the hub's store is not in this tree yet",
)
def test_revoking_a_grant_changes_the_very_next_read_through_the_hub() -> None:
    from hub import registry
    from hub.opinions import HubOpinions
    from tapshare.database import migration_sets

    db = connect(":memory:")
    for migrations in migration_sets():
        migrations.apply(db)
    registry.add_festival(db, "strp", "STRP")
    registry.add_festival(db, "dd", "Dutch Design Week")
    policies, source = PolicyStore(db), HubOpinions(db)
    known = {"strp", "dd"}
    policies.set("strp", {"rules": [permit("network", min_visitors=1)]}, "ann", "share", known)
    before = build_board(source, policies, "festival:dd", "display", NOW)
    policies.set("strp", {"rules": []}, "ann", "revoke", known)
    after = build_board(source, policies, "festival:dd", "display", NOW)
    assert [s.festival for s in before.sections] == ["dd", "strp"]
    assert [s.festival for s in after.sections] == ["dd"]
