"""A database for the NGSI-LD tests: three festivals with opinions, export rules for the
public and the platform, and a platform key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hub import registry
from storage import connect
from tests.dashboard.opinions import add_opinions
from tests.dashboard.policies import permit, set_policy

ENTITIES = "/ngsi-ld/v1/entities"


@dataclass(frozen=True)
class Platform:
    key: str
    name: str = "province"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def add_platform_key(db_path: Path, name: str = "province") -> Platform:
    """A new platform key, made as ``tapshare platform-key add`` makes it."""
    db = connect(db_path)
    try:
        return Platform(registry.add_platform_key(db, name), name)
    finally:
        db.close()


def exporting_festivals(db_path: Path) -> None:
    """strp: aw-1 (3 visitors), aw-2 (1); ddw: chair (2); glow: nothing, no policy.

    strp exports its festival total to the public and its artworks with at least 2
    visitors to the platform; ddw exports its artworks to the platform only.
    """
    add_opinions(db_path, "strp", "aw-1", ["love", "like", "meh"])
    add_opinions(db_path, "strp", "aw-2", ["love"], 10)
    add_opinions(db_path, "ddw", "chair", ["yes", "no"], 20, station="gate")
    set_policy(
        db_path,
        "strp",
        [
            permit("public", "export", level="festival", min_visitors=1),
            permit("platform", "export", level="artwork", min_visitors=2),
        ],
    )
    set_policy(db_path, "ddw", [permit("platform", "export", level="artwork", min_visitors=1)])
