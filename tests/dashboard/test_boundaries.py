"""The dashboard takes only the station's outbox and publisher from reader_agent, and only
the hub writes taps."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_FROM_STATION = {"reader_agent.outbox", "reader_agent.publisher"}


def station_imports(source: str) -> set[str]:
    """The reader_agent modules a module's source imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "reader_agent"}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reader_agent"):
            module = node.module or ""
            if module == "reader_agent":
                found |= {f"reader_agent.{a.name}" for a in node.names}
            else:
                found.add(module)
    return found


def test_the_dashboard_imports_only_the_outbox_and_publisher_of_reader_agent():
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "dashboard").rglob("*.py")
        for name in station_imports(path.read_text())
        if name not in ALLOWED_FROM_STATION
    }
    assert offenders == set()


def test_the_scan_sees_forbidden_imports():
    source = (
        "import reader_agent.agent\n"
        "from reader_agent import settings\n"
        "from reader_agent.outbox import Outbox\n"
    )
    assert station_imports(source) == {
        "reader_agent.agent",
        "reader_agent.settings",
        "reader_agent.outbox",
    }


def test_no_dashboard_module_writes_taps():
    writes = re.compile(r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(taps|current_opinions)\b", re.I)
    for path in [*(ROOT / "dashboard").rglob("*.py"), ROOT / "hub" / "stickers.py"]:
        assert not writes.search(path.read_text()), path
