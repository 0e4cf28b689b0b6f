"""Setting festivals' sharing policies for tests, through the consent store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from consent.store import PolicyStore
from hub import registry_store
from storage import connect


def set_policy(db_path: Path, festival: str, rules: list[dict[str, Any]]) -> None:
    """Replace the festival's policy with ``rules``."""
    db = connect(db_path)
    try:
        known = {f.id for f in registry_store.list_festivals(db)}
        PolicyStore(db).set(festival, {"rules": rules}, "test@example.org", "test", known)
    finally:
        db.close()


def permit(to: str, action: str = "display", **options: Any) -> dict[str, Any]:
    """A permit rule."""
    return {"effect": "permit", "to": to, "action": action, **options}
