"""One definition of a slug, matched as a whole wherever an id is checked: a final newline
(which Python's ``$`` lets through) never makes a slug."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from consent.policy import is_festival_id, parse_time
from protocol import Rejected, Slug, is_slug, parse_key, parse_timestamp, parse_topic, topic_for
from reader_agent.settings import ReaderSettings

NOT_SLUGS = [
    "gate2\n",
    "gate2\r\n",
    "\ngate2",
    "gate 2",
    "Gate2",
    "-gate",
    "",
    "a" * 64,
    "gate2\x00",
]


class _Model(BaseModel):
    id: Slug


@pytest.mark.parametrize("value", ["gate2", "a", "0", "a-b-c", "a" * 63, "st-01"])
def test_slugs(value):
    assert is_slug(value)
    assert _Model(id=value).id == value
    assert is_festival_id(value)


@pytest.mark.parametrize("value", NOT_SLUGS)
def test_not_slugs_anywhere(value):
    assert not is_slug(value)
    assert not is_festival_id(value)
    with pytest.raises(ValidationError):
        _Model(id=value)
    with pytest.raises(ValidationError):
        ReaderSettings(device="sim:", artwork=value, choice="love")
    with pytest.raises(ValueError, match="not a slug"):
        topic_for(value, "st-01", "opinion")
    with pytest.raises(Rejected):
        parse_topic(f"tapshare/v1/{value}/st-01/opinion")
    with pytest.raises(Rejected):
        parse_topic(f"tapshare/v1/strp/{value}/opinion")


def test_not_slugs_are_not_a_pydantic_quirk():
    assert not is_slug(123)
    assert not is_slug(None)


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_key, "ab" * 32 + "\n"),
        (parse_timestamp, "2026-05-01T20:00:00Z\n"),
        (parse_time, "2026-05-01T20:00:00Z\n"),
    ],
)
def test_keys_and_times_with_a_final_newline_are_refused(parse, text):
    with pytest.raises(ValueError):
        parse(text)
    parse(text.rstrip("\n"))
