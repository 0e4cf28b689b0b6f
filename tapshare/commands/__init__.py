"""The commands of the ``tapshare`` program, one module per area.

Every module in this package that defines ``COMMANDS`` (a list of click commands) is
registered with the program, in module-name order.
"""

from __future__ import annotations

import importlib
import pkgutil

import click


def register(group: click.Group) -> None:
    """Add every module's ``COMMANDS`` to ``group``."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            group.add_command(command)
