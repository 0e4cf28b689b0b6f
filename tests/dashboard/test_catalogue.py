"""The message catalogue: every message extracted, every Dutch one translated, and the
compiled catalogue the one the sources say."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "dashboard" / "translations"
DUTCH_PO = TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.po"
DUTCH_MO = TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.mo"


def dutch():
    with DUTCH_PO.open("rb") as file:
        return read_po(file, locale="nl")


def msgid(message) -> str:
    """A message's id; a plural message is known by its singular."""
    return message.id if isinstance(message.id, str) else message.id[0]


def key(text):
    """A message's id or translation as a comparable value (plurals as tuples)."""
    return text if isinstance(text, str) else tuple(text)


def strings(message) -> list[str]:
    """A message's translations: one, or one per plural form."""
    return [message.string] if isinstance(message.string, str) else list(message.string)


def extracted() -> set[str]:
    with (ROOT / "babel.cfg").open() as file:
        method_map, options_map = parse_mapping_cfg(file)
    keywords = {"_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}
    return {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords
        )
    }


def test_every_message_of_the_sources_is_in_the_dutch_catalogue():
    missing = extracted() - {msgid(m) for m in dutch() if m.id}
    assert missing == set(), "run scripts/translations and translate the new messages"


def test_the_dutch_catalogue_has_no_untranslated_or_fuzzy_entry():
    catalogue = dutch()
    untranslated = [m.id for m in catalogue if m.id and (not all(strings(m)) or m.fuzzy)]
    assert untranslated == []
    assert not catalogue.obsolete


def test_the_compiled_catalogue_matches_the_sources():
    with DUTCH_MO.open("rb") as file:
        compiled = {key(m.id): key(m.string) for m in read_mo(file) if m.id}
    assert compiled == {key(m.id): key(m.string) for m in dutch() if m.id}
    fresh = io.BytesIO()
    write_mo(fresh, dutch())
    assert fresh.getvalue() == DUTCH_MO.read_bytes()
