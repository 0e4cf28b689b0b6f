"""An audience board with everything its page needs, computed by one function for the
board page, the JSON API and both kinds of event stream.

:func:`board_view` reads the board the consent layer lets the board's viewer see (the
public, or a festival's screens) together with its page context: the title, the
festival's offline stations and the titles of artworks in withheld sections. The view is
kept per commit generation in :class:`dashboard.cache.BoardCache`, so that every page,
JSON request and stream of one board shares one computation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from flask import render_template
from sqlite_utils import Database

from consent.policy import PUBLIC
from dashboard import festivals, opinions
from dashboard.i18n import gettext


@dataclass(frozen=True, eq=False)
class BoardView:
    """A board as a JSON-ready dict and as its encoded JSON body, with its page context.

    Shared by every thread that serves the board, so nothing in it changes after it is
    made (the cached properties are worked out once, from what is already here)."""

    board_id: str
    body: dict[str, Any]
    json: bytes
    #: The festival's name; None for the public board, titled in each reader's language.
    title: str | None
    offline: list[str]
    titles: dict[str, dict[str, str]]

    def context(self) -> dict[str, Any]:
        """What the board templates (``board.html``, ``_board.html``) are rendered with."""
        return {
            "board": self.body,
            "board_id": self.board_id,
            "title": gettext("Public board") if self.title is None else self.title,
            "offline": self.offline,
            "titles": self.titles,
        }

    @cached_property
    def fingerprint(self) -> str:
        """What the board shows, without the moment it was generated: streams send an
        event only when this changes."""
        content = {key: value for key, value in self.body.items() if key != "generated_at"}
        return json.dumps({"board": content, "offline": self.offline})

    def fragment(self) -> str:
        """The board's HTML as the page's stream sends it (needs an app context)."""
        return render_template("_board.html", **self.context())


def board_view(db: Database, board_id: str) -> BoardView:
    """The display board of ``board_id`` (``public`` or a festival id) now, with its page
    context; raises :class:`dashboard.festivals.UnknownFestival` for an unknown festival."""
    title: str | None
    if board_id == PUBLIC:
        title, offline = None, []
    else:
        title = festivals.festival(db, board_id).name
        offline = festivals.offline_stations(db, board_id)
    body = opinions.board(db, opinions.board_viewer(board_id)).model_dump(mode="json")
    return BoardView(
        board_id=board_id,
        body=body,
        json=json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(),
        title=title,
        offline=offline,
        titles=section_titles(db, body),
    )


def section_titles(db: Database, body: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Artwork titles of every festival with a section, for naming withheld artworks."""
    return {
        section["festival"]: festivals.artwork_titles(db, section["festival"])
        for section in body["sections"]
        if section["withheld"]
    }
