"""docs/station.md documents every setting of station.toml and every simulation parameter."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from reader_agent.settings import ReaderSettings, StationSettings
from reader_agent.simulation import SimSpec

PAGE = Path(__file__).resolve().parents[2] / "docs" / "station.md"


@pytest.mark.parametrize(
    "name",
    [
        *StationSettings.model_fields,
        *ReaderSettings.model_fields,
        *(field.name for field in dataclasses.fields(SimSpec)),
    ],
)
def test_every_setting_is_documented(name: str):
    assert f"| `{name}` |" in PAGE.read_text(), f"{name} is not in a table of docs/station.md"


def test_the_unit_runs_the_documented_command():
    unit = (PAGE.parents[1] / "deploy" / "tapshare-reader.service").read_text()
    assert "tapshare reader --config /etc/tapshare/station.toml" in unit
    assert "RestartPreventExitStatus=2" in unit
