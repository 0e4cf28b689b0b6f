"""A station's settings: one pydantic-settings model, read from station.toml (docs/station.md).

Values come from the TOML file, and environment variables ``TAPSHARE_STATION_<KEY>`` override
them (``TAPSHARE_STATION_BROKER``, ``TAPSHARE_STATION_STATION_SECRET``, …; ``READERS`` as a
JSON list), so that secrets may live in a systemd ``EnvironmentFile`` instead. Unknown keys
and bad values are refused with a message that names the key and where it came from.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings import SettingsError as SourceError

from protocol import Slug
from protocol.broker import BrokerURL, parse_broker_url
from protocol.signing import parse_key

ENV_PREFIX = "TAPSHARE_STATION_"


class SettingsError(ValueError):
    """The station's settings are missing, unreadable or wrong; the message says which key."""


class ReaderSettings(BaseModel):
    """One ``[[readers]]`` entry: an NFC reader at an artwork and what a tap on it means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="nfcpy device path (tty:AMA0:pn532, usb:054c:06c1, udp:HOST:PORT) "
        "or a simulated reader sim:PARAMETERS"
    )
    artwork: Slug | None = Field(None, description="the artwork this reader stands at")
    choice: Slug | None = Field(None, description="the opinion a tap on this reader records")
    action: Literal["opinion", "erase"] = Field(
        "opinion", description="opinion (default) or erase: a tap erases the visitor's opinions"
    )
    targets: list[Literal["106A", "106B", "212F", "424F"]] | None = Field(
        None,
        min_length=1,
        description="tag technologies to poll for; default 106A, 106B and 212F",
    )
    feedback: str = Field(
        "auto",
        description="auto, none, device (the reader's own LED/buzzer) or "
        "gpio:ok=PIN,fail=PIN[,buzzer=PIN] (gpiozero)",
    )

    @model_validator(mode="after")
    def _opinion_or_erase(self) -> ReaderSettings:
        if self.action == "erase":
            if self.choice is not None:
                raise ValueError("an erase reader takes no choice")
        elif self.artwork is None or self.choice is None:
            raise ValueError('a reader needs artwork and choice (or action = "erase")')
        return self

    @field_validator("feedback")
    @classmethod
    def _known_feedback(cls, value: str) -> str:
        from reader_agent.feedback import parse_feedback_spec

        parse_feedback_spec(value)
        return value

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if value.startswith("sim:"):
            from reader_agent.simulation import parse_sim_spec

            parse_sim_spec(value)
        return value


def _key(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return parse_key(value)


class StationSettings(BaseSettings):
    """Everything one station process needs, from station.toml and the environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    festival: Slug = Field(description="the festival's id")
    station: Slug = Field(description="this station's id within the festival")
    # NoDecode: from the environment a URL is plain text, not JSON.
    broker: Annotated[BrokerURL, NoDecode] = Field(
        description="mqtt://FESTIVAL.STATION:PASSWORD@HOST[:PORT], or mqtts:// for TLS"
    )
    station_secret: bytes = Field(description="64 lowercase hex: signs every message")
    visitor_key: bytes = Field(description="64 lowercase hex: the festival's pseudonym key")
    outbox: Path = Field(description="the SQLite outbox file (relative to station.toml)")
    choices: list[Slug] | None = Field(
        None,
        min_length=1,
        max_length=16,
        description="the festival's choices, as `station add` writes them: every reader's "
        "choice must be one of them",
    )
    readers: list[ReaderSettings] = Field(min_length=1, max_length=32)
    ca_file: Path | None = Field(
        None, description="CA certificate file to verify an mqtts:// broker with"
    )
    status_interval: float = Field(
        30.0, ge=1.0, le=3600.0, description="seconds between status messages"
    )
    outbox_limit: int = Field(
        100_000, ge=10, description="most messages the outbox holds before taps are refused"
    )
    tap_guard_seconds: float = Field(
        3.0,
        ge=0.0,
        le=3600.0,
        description="a visitor's repeat tap on the same reader within this window is ignored",
    )
    reconnect_max_seconds: int = Field(
        30, ge=1, le=600, description="longest wait between attempts to reach the broker"
    )
    reader_retry_max_seconds: float = Field(
        30.0, ge=0.1, le=600.0, description="longest wait between attempts to reopen a reader"
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="how much the station logs"
    )

    @field_validator("broker", mode="before")
    @classmethod
    def _parse_broker(cls, value: Any) -> BrokerURL:
        if isinstance(value, BrokerURL):
            return value
        if not isinstance(value, str):
            raise ValueError("a broker URL is a string, mqtt://… or mqtts://…")
        return parse_broker_url(value)

    @field_validator("station_secret", "visitor_key", mode="before")
    @classmethod
    def _parse_key(cls, value: Any) -> bytes:
        return _key(value)

    @field_validator("readers")
    @classmethod
    def _one_loop_per_device(cls, readers: list[ReaderSettings]) -> list[ReaderSettings]:
        devices = [r.device for r in readers if not r.device.startswith("sim:")]
        twice = sorted({d for d in devices if devices.count(d) > 1})
        if twice:
            raise ValueError(f"device {twice[0]!r} is used by more than one reader")
        return readers

    @model_validator(mode="after")
    def _choices_of_the_festival(self) -> StationSettings:
        # A reader with a choice the festival lacks would send taps the hub refuses.
        if self.choices is None:
            return self
        for number, reader in enumerate(self.readers):
            if reader.choice is not None and reader.choice not in self.choices:
                raise ValueError(
                    f"readers[{number}] has choice {reader.choice!r}, which festival "
                    f"{self.festival!r} does not have; its choices are "
                    f"{', '.join(self.choices)}"
                )
        return self

    @model_validator(mode="after")
    def _tls_needs_mqtts(self) -> StationSettings:
        if self.ca_file is not None and not self.broker.tls:
            raise ValueError("ca_file is only used with an mqtts:// broker")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init arguments; the environment overrides them.
        return (env_settings, init_settings)

    def client_id(self) -> str:
        """The MQTT client id of this station: stable, so the broker keeps its session."""
        return f"tapshare-{self.festival}-{self.station}"


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


def _describe(error: Any, environment: set[str]) -> tuple[str | None, str]:
    """(the environment variable it came from, if any; what is wrong with which key)."""
    loc = tuple(error.get("loc", ()))
    key = _where(loc)
    top = str(loc[0]) if loc else ""
    variable = f"environment {ENV_PREFIX}{top.upper()}" if top in environment else None
    if error.get("type") == "extra_forbidden":
        return variable, f"unknown key {key!r}"
    if error.get("type") == "missing":
        return variable, f"missing key {key!r}"
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return variable, f"bad value for {key!r}: {message}"


def _report(errors: list[Any], source: str, environment: set[str]) -> str:
    problems = [_describe(error, environment) for error in errors]
    in_file = [text for variable, text in problems if variable is None]
    parts = [f"{source}: " + "; ".join(in_file)] if in_file else []
    parts += [f"{variable}: {text}" for variable, text in problems if variable is not None]
    return "; ".join(parts)


def load_settings(path: Path) -> StationSettings:
    """Read station.toml at ``path`` with environment overrides; raise SettingsError.

    A relative ``outbox`` or ``ca_file`` is taken relative to the file's directory, so that
    a station behaves the same whatever directory it was started in.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    fields = set(StationSettings.model_fields)
    environment = {
        name[len(ENV_PREFIX) :].lower()
        for name in os.environ
        if name.upper().startswith(ENV_PREFIX) and name[len(ENV_PREFIX) :].lower() in fields
    }
    try:
        settings = StationSettings(**data)
    except ValidationError as exc:
        raise SettingsError(_report(exc.errors(), str(path), environment)) from None
    except SourceError as exc:
        # An environment value that should be JSON (READERS) and is not.
        cause = exc.__cause__
        raise SettingsError(f"environment: {exc}: {cause}") from None
    base = path.resolve().parent
    updates: dict[str, Any] = {}
    if not settings.outbox.is_absolute():
        updates["outbox"] = base / settings.outbox
    if settings.ca_file is not None and not settings.ca_file.is_absolute():
        updates["ca_file"] = base / settings.ca_file
    return settings.model_copy(update=updates) if updates else settings
