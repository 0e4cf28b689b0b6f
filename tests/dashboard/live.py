"""A real dashboard server on a free port, and a small server-sent events client."""

from __future__ import annotations

import http.client
import json
import threading
from dataclasses import dataclass
from typing import Any

from flask import Flask

from dashboard.server import bound_port, make_server


class LiveServer:
    """The app served by waitress in a thread, as ``tapshare dashboard`` serves it."""

    def __init__(self, app: Flask, *, threads: int = 24, port: int = 0, **options: Any) -> None:
        self.app = app
        # ``options``: the rest of make_server's settings, e.g. a trusted proxy.
        self.server = make_server(app, "127.0.0.1", port, threads=threads, **options)
        self.port = bound_port(self.server)
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.app.extensions["tapshare_streams"].stop()
        self.server.close()
        self.thread.join(timeout=5)


@dataclass
class Event:
    id: str | None
    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


class EventStream:
    """Reads server-sent events from one open stream."""

    def __init__(
        self,
        port: int,
        path: str,
        timeout: float = 10.0,
        *,
        headers: dict[str, str] | None = None,
        source: str | None = None,
    ) -> None:
        """Open ``path``; ``source`` is the client's own address (any 127.x.y.z works)."""
        self.conn = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=timeout, source_address=(source, 0) if source else None
        )
        self.conn.request("GET", path, headers={"Accept": "text/event-stream", **(headers or {})})
        self.response = self.conn.getresponse()

    def next_event(self) -> Event:
        """The next event with data (comments and ``retry`` lines are skipped)."""
        fields: dict[str, list[str]] = {}
        while True:
            raw = self.response.fp.readline()
            if not raw:
                raise EOFError("the stream ended")
            line = raw.decode().rstrip("\n")
            if line == "":
                if "data" in fields:
                    return Event(
                        (fields.get("id") or [None])[0],
                        (fields.get("event") or [None])[0],
                        "\n".join(fields["data"]),
                    )
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value[1:] if value.startswith(" ") else value)

    def close(self) -> None:
        # The response holds its own reference to the socket: close both.
        self.response.close()
        self.conn.close()
