"""Broker passwords: made at random, kept only as Mosquitto-compatible hashes.

Mosquitto 2 reads ``$7$ITERATIONS$SALT$HASH`` in its password file: PBKDF2-HMAC-SHA512
over the password with a 12-byte salt, 64 bytes of output, salt and hash in standard
base64. Making the hashes here means the operator does not need ``mosquitto_passwd``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Final

#: Mosquitto's own default is 101; the passwords are random, so more buys little, but
#: costs every broker connection.
ITERATIONS: Final = 1000
_SALT_BYTES: Final = 12
_HASH_BYTES: Final = 64


def new_password() -> str:
    """A random broker password: 32 lowercase hex characters (128 bits), URL-safe."""
    return secrets.token_hex(16)


def new_key() -> str:
    """A random 32-byte key (station secret or visitor key) as 64 lowercase hex."""
    return secrets.token_hex(32)


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The Mosquitto ``$7$`` hash of ``password``."""
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, _HASH_BYTES)
    encoded_salt = base64.b64encode(salt).decode()
    return f"$7${iterations}${encoded_salt}${base64.b64encode(digest).decode()}"


def check_password(password: str, hashed: str) -> bool:
    """Whether ``password`` matches a ``$7$`` hash (constant-time comparison)."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[1] != "7" or not parts[2].isdigit():
        return False
    try:
        salt = base64.b64decode(parts[3], validate=True)
        expected = base64.b64decode(parts[4], validate=True)
    except ValueError:
        return False
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, int(parts[2]), len(expected))
    return hmac.compare_digest(digest, expected)
