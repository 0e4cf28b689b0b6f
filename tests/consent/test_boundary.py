"""Only consent.boards reaches the counts: no other module calls the counting methods."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COUNTING = {"artwork_cells", "festival_cell"}
# The one module allowed to call them. A module that implements them (the hub's source)
# may only call its own, through self.
ALLOWED = {"consent/boards.py"}
PACKAGES = ["protocol", "reader_agent", "hub", "consent", "dashboard", "tapshare", "bench"]


def _calls(path: Path, allow_self: bool = False) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        # obj.artwork_cells(...), getattr(obj, "artwork_cells"), a bare reference
        # (bound = obj.festival_cell) all count as reaching the method.
        if isinstance(node, ast.Attribute) and node.attr in COUNTING:
            on_self = isinstance(node.value, ast.Name) and node.value.id == "self"
            if not (allow_self and on_self):
                found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Constant) and node.value in COUNTING:
            found.append((node.lineno, str(node.value)))
    return found


def _defines_source(path: Path) -> bool:
    """Whether the module implements the counting methods (the hub's source does)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return any(
        isinstance(node, ast.FunctionDef) and node.name in COUNTING for node in ast.walk(tree)
    )


def offenders() -> list[str]:
    found: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in ALLOWED or relative == "consent/sources.py":
                continue
            calls = _calls(path, allow_self=_defines_source(path))
            found += [f"{relative}:{line} uses {name}" for line, name in calls]
    return found


def test_only_the_board_function_calls_the_counting_methods() -> None:
    assert offenders() == []


def test_the_scan_finds_a_forbidden_call(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "def leak(source):\n"
        "    cells = source.artwork_cells('strp', None)\n"
        "    grab = getattr(source, 'festival_cell')\n"
        "    return cells, grab\n"
    )
    assert _calls(sneaky) == [(2, "artwork_cells"), (3, "festival_cell")]
    inside = tmp_path / "source.py"
    inside.write_text(
        "class Source:\n"
        "    def festival_cell(self, festival_id, as_of):\n"
        "        return self.artwork_cells(festival_id, as_of)\n"
        "    def other(self, source):\n"
        "        return source.festival_cell('x', None)\n"
    )
    assert _calls(inside, allow_self=True) == [(5, "festival_cell")]


def test_the_board_module_is_where_the_calls_are() -> None:
    assert {name for _, name in _calls(ROOT / "consent/boards.py")} == COUNTING
