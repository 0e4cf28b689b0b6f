import pytest

from protocol import Rejected, TopicKind, parse_topic, topic_for
from protocol.broker import parse_broker_url
from protocol.timestamps import format_timestamp, parse_timestamp


def test_topic_round_trip():
    topic = topic_for("strp", "st-01", TopicKind.OPINION)
    assert topic == "tapshare/v1/strp/st-01/opinion"
    parsed = parse_topic(topic)
    assert (parsed.festival, parsed.station, parsed.kind) == ("strp", "st-01", TopicKind.OPINION)
    assert str(parsed) == topic


@pytest.mark.parametrize(
    "topic",
    [
        "tapshare/v1/strp/st-01/vote",
        "tapshare/v2/strp/st-01/opinion",
        "tapshare/v1/strp/opinion",
        "tapshare/v1/strp/st-01/opinion/extra",
        "tapshare/v1/STRP/st-01/opinion",
        "tapshare/v1/strp//opinion",
        "other/v1/strp/st-01/opinion",
        "tapshare",
    ],
)
def test_unknown_topics(topic):
    with pytest.raises(Rejected) as caught:
        parse_topic(topic)
    assert caught.value.reason == "unknown_topic"


def test_topic_for_refuses_bad_slugs():
    with pytest.raises(ValueError, match="festival"):
        topic_for("Bad", "st-01", "opinion")
    with pytest.raises(ValueError):
        topic_for("strp", "st-01", "vote")


def test_broker_urls():
    url = parse_broker_url("mqtt://strp.st-01:p%40ss@hub.example.org:1884")
    assert (url.host, url.port, url.tls, url.username, url.password) == (
        "hub.example.org",
        1884,
        False,
        "strp.st-01",
        "p@ss",
    )
    assert str(url) == "mqtt://strp.st-01:p%40ss@hub.example.org:1884"
    assert url.redacted() == "mqtt://strp.st-01:%2A%2A%2A@hub.example.org:1884"
    assert parse_broker_url("mqtts://hub").port == 8883
    assert parse_broker_url("mqtts://hub").tls
    assert parse_broker_url("mqtt://127.0.0.1").port == 1883


@pytest.mark.parametrize(
    "text", ["http://hub", "mqtt://", "mqtt://hub:99999", "mqtt://hub/path", "hub:1883"]
)
def test_bad_broker_urls(text):
    with pytest.raises(ValueError):
        parse_broker_url(text)


def test_timestamps():
    moment = parse_timestamp("2026-05-01T20:00:00.123456789Z")
    assert moment.microsecond == 123456
    assert format_timestamp(moment) == "2026-05-01T20:00:00.123Z"
    with pytest.raises(ValueError):
        parse_timestamp("2026-05-01T20:00:00.Z")
