"""Putting opinions into the hub's store for tests, the way the hub stores them."""

from __future__ import annotations

from pathlib import Path

from hub import registry
from tapshare.database import connect


def add_opinions(db_path: Path, festival: str, artwork: str, choices: list[str],
                 first_visitor: int = 0) -> None:
    """One opinion per choice, each from a different visitor."""
    db = connect(db_path)
    try:
        for number, choice in enumerate(choices, start=first_visitor):
            registry.add_tap(db, festival, artwork, f"{number:064x}", choice)
    finally:
        db.close()
