"""MQTT topics of the wire protocol: ``tapshare/v1/FESTIVAL/STATION/KIND``."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from protocol.errors import Rejected
from protocol.slugs import is_slug

PREFIX: Final = "tapshare/v1"
#: What the hub subscribes to: everything under ``tapshare/``, so that stray topics are
#: seen and refused rather than ignored.
HUB_SUBSCRIPTION: Final = "tapshare/#"


class TopicKind(StrEnum):
    OPINION = "opinion"
    ERASE = "erase"
    STATUS = "status"


@dataclass(frozen=True)
class Topic:
    festival: str
    station: str
    kind: TopicKind

    def __str__(self) -> str:
        return topic_for(self.festival, self.station, self.kind)


def topic_for(festival: str, station: str, kind: TopicKind | str) -> str:
    """Build the topic for a station's messages of one kind."""
    kind = TopicKind(kind)
    for name, value in (("festival", festival), ("station", station)):
        if not is_slug(value):
            raise ValueError(f"{name} {value!r} is not a slug")
    return f"{PREFIX}/{festival}/{station}/{kind.value}"


def station_filter(festival: str, station: str) -> str:
    """The topic filter covering everything one station may publish."""
    return f"{PREFIX}/{festival}/{station}/#"


@functools.lru_cache(maxsize=4096)
def parse_topic(topic: str) -> Topic:
    """Split a topic into festival, station and kind; refuse anything else.

    Every station publishes on a few topics, so the answers are kept (a refusal is not)."""
    parts = topic.split("/")
    if (
        len(parts) != 5
        or f"{parts[0]}/{parts[1]}" != PREFIX
        or not is_slug(parts[2])
        or not is_slug(parts[3])
        or parts[4] not in TopicKind.__members__.values()
    ):
        raise Rejected("unknown_topic", f"unknown topic {topic[:200]!r}")
    return Topic(parts[2], parts[3], TopicKind(parts[4]))
