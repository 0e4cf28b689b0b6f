"""Which package may import which, and no import cycles between modules.

The walk reads the AST of every module, so imports inside functions (the usual way to hide
a cycle) count as much as those at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("protocol", "storage", "reader_agent", "hub", "consent", "dashboard", "tapshare")

# What each package may import of the others (itself always). ``storage`` (connections,
# transactions, the database's time format) serves everyone who opens the hub's database.
# The dashboard is the festivals' ``web`` station, so it may publish through a station's
# outbox and publisher.
ALLOWED: Mapping[str, frozenset[str]] = {
    "protocol": frozenset(),
    "storage": frozenset({"protocol"}),
    "reader_agent": frozenset({"protocol"}),
    "consent": frozenset({"protocol", "storage"}),
    "hub": frozenset({"protocol", "storage", "consent"}),
    "dashboard": frozenset(
        {"protocol", "storage", "consent", "hub", "reader_agent.outbox", "reader_agent.publisher"}
    ),
    "tapshare": frozenset(PACKAGES),
}
# Libraries a package must not import: the consent layer decides and the storage layer
# stores; neither serves nor receives anything.
_SERVING = frozenset({"flask", "werkzeug", "paho", "amqtt", "waitress"})
FORBIDDEN_LIBRARIES: Mapping[str, frozenset[str]] = {"consent": _SERVING, "storage": _SERVING}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Every module of the packages, by dotted name."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = path
    return found


def imports(name: str, path: Path, known: Iterable[str]) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the module, at any depth.

    ``from a import b`` names module ``a.b`` when that is a module, else ``a``.
    """
    known = set(known)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append((node.lineno, full if full in known else base))
    return found


def _top(module: str) -> str:
    return module.split(".")[0]


def _permitted(importer: str, imported: str) -> bool:
    own = _top(importer)
    if _top(imported) == own:
        return True
    return any(
        imported == allowed or imported.startswith(allowed + ".") for allowed in ALLOWED[own]
    )


def direction_offences(root: Path = ROOT) -> list[str]:
    found = modules(root, PACKAGES)
    offences: list[str] = []
    for name, path in found.items():
        own = _top(name)
        for line, imported in imports(name, path, found):
            where = f"{path.relative_to(root)}:{line}"
            if _top(imported) in PACKAGES and not _permitted(name, imported):
                offences.append(f"{where} {own} imports {imported}")
            if _top(imported) in FORBIDDEN_LIBRARIES.get(own, ()):
                offences.append(f"{where} {own} imports {imported}")
    return sorted(offences)


def cycles(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> list[list[str]]:
    """The import cycles between modules: each strongly connected group of two or more
    (or a module importing itself), by Tarjan's algorithm."""
    found = modules(root, packages)
    graph = {
        name: sorted({m for _, m in imports(name, path, found) if m in found})
        for name, path in found.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return sorted(groups)


def test_packages_import_only_in_their_direction() -> None:
    assert direction_offences() == []


def test_no_module_is_part_of_an_import_cycle() -> None:
    assert cycles() == []


def test_the_walk_finds_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    package = tmp_path / "hub"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from hub import b\n")
    (package / "b.py").write_text("def later():\n    from hub.a import thing\n")
    (package / "c.py").write_text("from . import b\n")
    assert cycles(tmp_path, ["hub"]) == [["hub.a", "hub.b"]]


def test_the_walk_finds_a_wrong_direction_and_a_forbidden_library(tmp_path: Path) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "consent" / "serve.py").write_text("def run():\n    import flask\n")
    (tmp_path / "hub" / "cli.py").write_text("from tapshare.cli import cli\n")
    (tmp_path / "dashboard" / "vote.py").write_text(
        "from reader_agent.publisher import Publisher\nfrom reader_agent import agent\n"
    )
    assert direction_offences(tmp_path) == [
        "consent/serve.py:2 consent imports flask",
        "dashboard/vote.py:2 dashboard imports reader_agent",
        "hub/cli.py:1 hub imports tapshare.cli",
    ]
