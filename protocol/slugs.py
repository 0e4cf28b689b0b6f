"""The one definition of a slug: the ids of festivals, stations, artworks and choices.

1-63 lowercase letters, digits and hyphens, starting with a letter or digit (docs/protocol.md).
Always matched as a whole: in Python's ``re``, ``$`` also matches before a final newline,
so ``is_slug`` uses ``fullmatch``; JSON Schema and pydantic take the anchored pattern,
where ``$`` is the end of the text.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import StringConstraints

#: The slug's pattern, without anchors.
SLUG_PATTERN: Final = "[a-z0-9][a-z0-9-]{0,62}"
#: Anchored, for JSON Schema (ECMA-262) and pydantic (Rust regex): ``$`` ends the text.
SLUG_SCHEMA_PATTERN: Final = f"^{SLUG_PATTERN}$"
_SLUG: Final = re.compile(SLUG_PATTERN)

#: A slug field of a pydantic model.
Slug = Annotated[str, StringConstraints(pattern=SLUG_SCHEMA_PATTERN)]


def is_slug(value: object) -> bool:
    """Whether ``value`` is a slug, as a whole (``"gate2\\n"`` is not)."""
    return isinstance(value, str) and _SLUG.fullmatch(value) is not None
