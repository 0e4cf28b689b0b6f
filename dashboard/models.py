"""The pydantic models of the JSON API's own answers (boards are ``consent.boards.Board``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FestivalSummary(BaseModel):
    """A registered festival."""

    id: str = Field(description="The festival's slug.")
    name: str
    choices: list[str] = Field(description="The choices a visitor can give, in order.")


class FestivalList(BaseModel):
    """Every registered festival."""

    festivals: list[FestivalSummary]


class Ping(BaseModel):
    """The constant answer of ``/api/v1/ping``."""

    ok: bool = Field(description="Always true: the dashboard answers.")
