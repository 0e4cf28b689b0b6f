"""station.toml: what is accepted, and how bad files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from reader_agent.settings import SettingsError, load_settings
from tests.reader_agent.conftest import SECRET, VISITOR_KEY, station_toml

READER = {"device": "sim:rate=1", "artwork": "aw-1", "choice": "love"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(text)
    return path


def test_a_complete_file_loads(tmp_path: Path):
    path = write(
        tmp_path, station_toml("mqtt://strp.st-01:pw@hub:1884", Path("outbox.db"), [READER])
    )
    settings = load_settings(path)
    assert settings.festival == "strp" and settings.station == "st-01"
    assert settings.broker.username == "strp.st-01" and settings.broker.port == 1884
    assert settings.station_secret == bytes.fromhex(SECRET)
    assert settings.visitor_key == bytes.fromhex(VISITOR_KEY)
    # A relative outbox lives next to the file, whatever the working directory.
    assert settings.outbox == tmp_path.resolve() / "outbox.db"
    assert settings.readers[0].choice == "love"
    assert settings.status_interval == 30
    assert settings.client_id() == "tapshare-strp-st-01"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"status_interval": 0}, "bad value for 'status_interval'"),
        ({"outbox_limit": "many"}, "bad value for 'outbox_limit'"),
    ],
)
def test_bad_top_level_keys_are_named(tmp_path: Path, change, expected):
    text = station_toml("mqtt://hub", Path("o.db"), [READER], **change)
    with pytest.raises(SettingsError) as error:
        load_settings(write(tmp_path, text))
    assert expected in str(error.value)
    assert str(tmp_path / "station.toml") in str(error.value)


@pytest.mark.parametrize(
    ("reader", "expected"),
    [
        ({**READER, "colour": "red"}, "unknown key 'readers[0].colour'"),
        ({"device": "sim:", "artwork": "aw-1"}, "needs artwork and choice"),
        ({**READER, "choice": "Love!"}, "readers[0].choice"),
        ({**READER, "device": "sim:speed=3"}, "unknown simulated reader parameter 'speed'"),
        ({**READER, "device": "sim:rate=fast"}, "rate='fast' is not a number"),
        ({**READER, "feedback": "gpio:ok=17"}, "needs both ok=PIN and fail=PIN"),
        ({**READER, "targets": ["106X"]}, "readers[0].targets[0]"),
        ({"device": "sim:", "action": "erase", "choice": "love"}, "takes no choice"),
    ],
)
def test_bad_readers_are_named(tmp_path: Path, reader, expected):
    text = station_toml("mqtt://hub", Path("o.db"), [reader])
    with pytest.raises(SettingsError, match="readers") as error:
        load_settings(write(tmp_path, text))
    assert expected in str(error.value)


def test_one_device_serves_one_reader(tmp_path: Path):
    readers = [{**READER, "device": "usb:054c:06c1"}, {**READER, "device": "usb:054c:06c1"}]
    with pytest.raises(SettingsError, match="'usb:054c:06c1' is used by more than one"):
        load_settings(write(tmp_path, station_toml("mqtt://hub", Path("o.db"), readers)))
    # Simulated readers may share a description.
    assert (
        len(
            load_settings(
                write(tmp_path, station_toml("mqtt://h", Path("o"), [READER] * 2))
            ).readers
        )
        == 2
    )


def test_missing_and_malformed_values(tmp_path: Path):
    text = station_toml("http://hub", Path("o.db"), [READER]).replace(SECRET, "XYZ")
    text = text.replace('station = "st-01"\n', "")
    with pytest.raises(SettingsError) as error:
        load_settings(write(tmp_path, text))
    message = str(error.value)
    assert "missing key 'station'" in message
    assert "bad value for 'broker'" in message and "mqtt://" in message
    assert "bad value for 'station_secret'" in message and "64 lowercase hex" in message
    assert "XYZ" not in message


def test_no_readers_and_not_toml(tmp_path: Path):
    with pytest.raises(SettingsError, match="'readers'"):
        load_settings(write(tmp_path, station_toml("mqtt://hub", Path("o.db"), [])))
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(write(tmp_path, "festival = "))
    with pytest.raises(SettingsError, match="no such file"):
        load_settings(tmp_path / "absent.toml")


def test_ca_file_needs_mqtts(tmp_path: Path):
    text = station_toml("mqtt://hub", Path("o.db"), [READER], ca_file="ca.pem")
    with pytest.raises(SettingsError, match="mqtts"):
        load_settings(write(tmp_path, text))
    text = station_toml("mqtts://hub", Path("o.db"), [READER], ca_file="ca.pem")
    assert load_settings(write(tmp_path, text)).ca_file == tmp_path.resolve() / "ca.pem"


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = write(tmp_path, station_toml("mqtt://hub", Path("o.db"), [READER]))
    monkeypatch.setenv("TAPSHARE_STATION_BROKER", "mqtts://strp.st-01:secret@other:8883")
    monkeypatch.setenv("TAPSHARE_STATION_STATUS_INTERVAL", "5")
    settings = load_settings(path)
    assert settings.broker.host == "other" and settings.broker.tls
    assert settings.status_interval == 5
    monkeypatch.setenv("TAPSHARE_STATION_TAP_GUARD_SECONDS", "soon")
    with pytest.raises(SettingsError, match="environment TAPSHARE_STATION_TAP_GUARD_SECONDS"):
        load_settings(path)
