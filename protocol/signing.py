"""Canonical bytes, HMAC-SHA256 signatures and the visitor pseudonym (docs/protocol.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

_KEY = re.compile(r"^[0-9a-f]{64}$")


class _Dumpable(Protocol):
    def model_dump(self, *, exclude: set[str]) -> dict[str, Any]: ...


def parse_key(text: str) -> bytes:
    """Turn a key written as 64 lowercase hex into its 32 bytes; refuse anything else."""
    if not isinstance(text, str) or not _KEY.fullmatch(text):
        raise ValueError("a key is 64 lowercase hex characters (32 bytes)")
    return bytes.fromhex(text)


def canonical_bytes(message: Mapping[str, Any] | _Dumpable) -> bytes:
    """The bytes that are signed: the message without ``sig``, keys sorted, compact, UTF-8."""
    if isinstance(message, Mapping):
        body = {key: value for key, value in message.items() if key != "sig"}
    else:
        body = message.model_dump(exclude={"sig"})
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(message: Mapping[str, Any] | _Dumpable, key: bytes) -> str:
    """The ``sig`` of a message under a station secret, as 64 lowercase hex."""
    return hmac.new(key, canonical_bytes(message), hashlib.sha256).hexdigest()


def signed(message: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """A copy of ``message`` with its ``sig`` set."""
    body = {k: v for k, v in message.items() if k != "sig"}
    return {**body, "sig": sign(body, key)}


def verify(message: Mapping[str, Any] | _Dumpable, key: bytes) -> bool:
    """Whether the message's ``sig`` is right for ``key``, compared in constant time."""
    claimed = message.get("sig") if isinstance(message, Mapping) else getattr(message, "sig", None)
    if not isinstance(claimed, str):
        return False
    return verify_canonical(canonical_bytes(message), claimed, key)


def verify_canonical(canonical: bytes, sig: str, key: bytes) -> bool:
    """Whether ``sig`` is right for a message's canonical bytes, in constant time."""
    expected = hmac.digest(key, canonical, "sha256").hex()
    return hmac.compare_digest(sig.encode(), expected.encode())


def visitor_pseudonym(uid: bytes, visitor_key: bytes) -> str:
    """A visitor's pseudonym: HMAC-SHA256 of the tag UID bytes under the festival's key."""
    return hmac.new(visitor_key, uid, hashlib.sha256).hexdigest()
