"""Broker addresses as the command line and station.toml write them (docs/cli.md, docs/station.md).

``mqtt://[user:pass@]host[:port]`` or ``mqtts://…`` for TLS.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class BrokerURL:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @property
    def scheme(self) -> str:
        return "mqtts" if self.tls else "mqtt"

    def with_credentials(self, username: str, password: str) -> BrokerURL:
        """The same broker, reached with other credentials."""
        return BrokerURL(self.host, self.port, self.tls, username, password)

    def __str__(self) -> str:
        auth = ""
        if self.username is not None:
            auth = quote(self.username, safe="")
            if self.password is not None:
                auth += ":" + quote(self.password, safe="")
            auth += "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{auth}{host}:{self.port}"

    def redacted(self) -> str:
        """The URL with its password hidden, for logs and messages."""
        if self.password is None:
            return str(self)
        return str(BrokerURL(self.host, self.port, self.tls, self.username, "***"))


def parse_broker_url(text: str) -> BrokerURL:
    """Parse a broker URL; raise ValueError with a clear message when it is not one."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(
            f"not a broker URL ({exc}): expected mqtt://[user:pass@]host[:port]"
        ) from None
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(
            f"broker URL must start with mqtt:// or mqtts://, not {text.split(':', 1)[0]!r}"
        )
    if not parts.hostname:
        raise ValueError("broker URL has no host: expected mqtt://[user:pass@]host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("broker URL takes no path, query or fragment")
    return BrokerURL(
        host=parts.hostname,
        port=port or DEFAULT_PORTS[parts.scheme],
        tls=parts.scheme == "mqtts",
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )
