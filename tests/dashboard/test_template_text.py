"""No text a person reads in a template is outside the message catalogue: every template is
read with Jinja's lexer, its Jinja parts set aside, and what is left parsed as HTML; literal
words in the page or in the attributes people read (title, aria-label, placeholder, alt,
and data-label, which the stacked tables show) fail the test."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment

TEMPLATES = Path(__file__).resolve().parents[2] / "dashboard" / "templates"
#: Attributes whose values people read.
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "data-label"}
#: Elements whose text is code, not words.
CODE = {"code", "pre", "script", "style"}
#: Words that are the same in every language.
NAMES = {"tapshare"}
#: Where a Jinja expression printed something (no letters, so never flagged).
PRINTED = "\x00"
#: Blocks that hold attribute values (a class name), not words.
NOT_WORDS = {"body_class"}


def html_of(source: str) -> str:
    """The template's HTML with every Jinja expression replaced by a marker and every
    statement and comment left out."""
    parts: list[str] = []
    statement: list[str] = []
    skipping = False
    for _, token, value in Environment(extensions=["jinja2.ext.i18n"]).lex(source):
        if token == "data" and not skipping:
            parts.append(value)
        elif token == "variable_begin":
            parts.append(PRINTED)
        elif token == "block_begin":
            statement = []
        elif token == "name":
            statement.append(value)
        elif token == "block_end":
            if statement[:1] == ["block"] and statement[1:2] and statement[1] in NOT_WORDS:
                skipping = True
            elif statement[:1] == ["endblock"]:
                skipping = False
    return "".join(parts)


class LiteralWords(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in CODE:
            self.code += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value and self.words(value):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in CODE:
            self.code = max(0, self.code - 1)

    def handle_data(self, data: str) -> None:
        if not self.code and self.words(data):
            self.found.append(data.replace(PRINTED, "").strip())

    @staticmethod
    def words(text: str) -> bool:
        rest = [w for w in re.findall(r"[^\W\d_]+", text) if w not in NAMES]
        return bool(rest)


def literal_words(source: str) -> list[str]:
    parser = LiteralWords()
    parser.feed(html_of(source))
    parser.close()
    return parser.found


@pytest.mark.parametrize(
    "template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html"))
)
def test_no_template_text_is_outside_the_catalogue(template: str) -> None:
    assert literal_words((TEMPLATES / template).read_text()) == []


def test_the_check_finds_literal_words_and_read_attributes() -> None:
    assert literal_words("<p>Hello {{ name }}</p>") == ["Hello"]
    assert literal_words('<input placeholder="your name">') == ["<input placeholder='your name'>"]
    assert literal_words('<td data-label="Station">{{ s }}</td>') != []
    assert literal_words("<svg aria-label=\"{{ _('Bars') }}\"></svg>") == []
    assert literal_words("<p>{{ _('Hello') }} · tapshare</p><code>tapshare screen add</code>") == []
    assert literal_words("{% if x %}<b>Shown</b>{% endif %}") == ["Shown"]
