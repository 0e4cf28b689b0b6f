"""Who a request comes from, for limits that count per client.

Behind a reverse proxy the dashboard must be told which proxies to trust (see
docs/operator.md, "Behind a reverse proxy"); waitress then puts the real client's address
in ``REMOTE_ADDR``. Limits key IPv6 clients by their /64, since one host commonly holds a
whole /64 and could otherwise take a fresh address for every attempt.
"""

from __future__ import annotations

import ipaddress


def client_key(remote_addr: str | None) -> str:
    """The key that per-client limits count under: an IPv4 address, or an IPv6 /64."""
    if not remote_addr:
        return "unknown"
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return remote_addr
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)
