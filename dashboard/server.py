"""Serving the dashboard: waitress, sized for many open event streams.

waitress answers each request on a worker thread, and an open event stream keeps its
thread. So the pool is as large as the streams we accept plus a reserve for ordinary
requests, and waitress's socket loop uses ``poll`` (``select`` stops at 1024 sockets).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from waitress.server import create_server

# Threads kept free for page, API and organiser requests when every stream slot is taken.
RESERVED_THREADS = 50


def streams_for(threads: int) -> int:
    """How many event streams a pool of ``threads`` accepts."""
    return max(1, threads - RESERVED_THREADS)


def make_server(
    app: Flask,
    host: str,
    port: int,
    *,
    threads: int,
    trusted_proxy: str | None = None,
    trusted_proxy_headers: frozenset[str] = frozenset(),
) -> Any:
    """A waitress server for ``app`` (port 0 picks a free one); call ``run()`` then
    ``close()``. ``threads`` should match the app's ``max_streams`` (see
    :func:`streams_for`).

    ``trusted_proxy`` is the address of a reverse proxy whose ``trusted_proxy_headers``
    (e.g. ``x-forwarded-for``) are believed: a request from it then carries the client's
    address in ``REMOTE_ADDR``. Those headers from any other peer are removed.
    """
    proxy: dict[str, Any] = {}
    if trusted_proxy is not None:
        proxy = {
            "trusted_proxy": trusted_proxy,
            "trusted_proxy_headers": set(trusted_proxy_headers),
        }
    return create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        connection_limit=threads + 200,
        backlog=2048,
        asyncore_use_poll=True,
        # Keep reading a connection while its request runs, so that a client leaving an
        # open stream is noticed at once (the stream's slot frees on the next poll).
        channel_request_lookahead=1,
        # Streams send a comment every 15 s, so a silent connection is a dead one.
        channel_timeout=60,
        ident="tapshare",
        clear_untrusted_proxy_headers=True,
        **proxy,
    )


def bound_port(server: Any) -> int:
    """The port a server from :func:`make_server` listens on."""
    port: int = server.effective_port
    return port
