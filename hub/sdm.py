"""Secure Dynamic Messaging of NTAG 424 DNA stickers (NXP AN12196): read a tap's message.

On every tap a sticker writes a new address into the phone: ``picc_data`` (32 hex digits)
is ``C7 || UID (7 bytes) || read counter (3 bytes, little endian) || 5 more bytes``
encrypted with AES-128-CBC and a zero IV under the sticker's SDM meta read key; ``cmac``
(16 hex digits) is the odd-indexed bytes of AES-CMAC over the empty input under the session
MAC key, itself AES-CMAC under the SDM file read key of
``3C C3 00 01 00 80 || UID || counter``. See docs/phones.md.

Pure functions: :func:`read_tap` says who tapped and with which counter, or raises
:class:`MalformedTap` (the text is not two hex strings of the right length) or
:class:`ForgedTap` (it does not come from a sticker with these keys). :func:`make_tap`
builds a message as a sticker would, for tests and ``tapshare tag tap``.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

#: The PICCDataTag of a message that mirrors a 7-byte UID and the read counter.
PICC_DATA_TAG: Final = 0xC7
#: The start of the session-key vector for the SDM file read MAC (AN12196, SV2).
_SV2_PREFIX: Final = bytes.fromhex("3CC300010080")
UID_BYTES: Final = 7
COUNTER_BYTES: Final = 3
MAX_COUNTER: Final = 2 ** (8 * COUNTER_BYTES) - 1
_PICC_HEX: Final = re.compile(r"[0-9A-Fa-f]{32}")
_CMAC_HEX: Final = re.compile(r"[0-9A-Fa-f]{16}")


class MalformedTap(ValueError):
    """The parameters are missing or are not hex of the right length."""


class ForgedTap(ValueError):
    """The message does not verify under the sticker's keys."""


@dataclass(frozen=True, slots=True)
class Tap:
    """What a verified message says: the sticker's UID and its read counter."""

    uid: bytes
    counter: int

    @property
    def uid_hex(self) -> str:
        return self.uid.hex()


def _cmac(key: bytes, data: bytes) -> bytes:
    mac = CMAC(algorithms.AES128(key))
    mac.update(data)
    return mac.finalize()


def _session_mac_key(file_read_key: bytes, uid: bytes, counter: bytes) -> bytes:
    return _cmac(file_read_key, _SV2_PREFIX + uid + counter)


def _truncated_mac(file_read_key: bytes, uid: bytes, counter: bytes) -> bytes:
    full = _cmac(_session_mac_key(file_read_key, uid, counter), b"")
    return full[1::2]


def _aes_cbc(key: bytes, data: bytes, *, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES128(key), modes.CBC(bytes(16)))
    worker = cipher.encryptor() if encrypt else cipher.decryptor()
    return worker.update(data) + worker.finalize()


def parse_params(picc_data: object, cmac: object) -> tuple[bytes, bytes]:
    """The two parameters as bytes; raises MalformedTap unless both are hex (either case)
    of 32 and 16 digits."""
    if not isinstance(picc_data, str) or not _PICC_HEX.fullmatch(picc_data):
        raise MalformedTap("picc_data must be 32 hex digits")
    if not isinstance(cmac, str) or not _CMAC_HEX.fullmatch(cmac):
        raise MalformedTap("cmac must be 16 hex digits")
    return bytes.fromhex(picc_data), bytes.fromhex(cmac)


def read_tap(picc_data: object, cmac: object, meta_read_key: bytes, file_read_key: bytes) -> Tap:
    """Decrypt and verify one tap's message under a sticker's two keys."""
    encrypted, given_mac = parse_params(picc_data, cmac)
    plain = _aes_cbc(meta_read_key, encrypted, encrypt=False)
    uid = plain[1 : 1 + UID_BYTES]
    counter = plain[1 + UID_BYTES : 1 + UID_BYTES + COUNTER_BYTES]
    expected = _truncated_mac(file_read_key, uid, counter)
    # The MAC is compared whatever the tag byte says, so both refusals take the same time.
    mac_ok = hmac.compare_digest(expected, given_mac)
    if plain[0] != PICC_DATA_TAG or not mac_ok:
        raise ForgedTap("the tap's message does not verify")
    return Tap(uid=uid, counter=int.from_bytes(counter, "little"))


def make_tap(
    uid: bytes, counter: int, meta_read_key: bytes, file_read_key: bytes
) -> tuple[str, str]:
    """``(picc_data, cmac)`` as the sticker with these keys would give them for a tap."""
    if len(uid) != UID_BYTES:
        raise ValueError(f"a UID has {UID_BYTES} bytes")
    if not 0 <= counter <= MAX_COUNTER:
        raise ValueError(f"the counter is 0 to {MAX_COUNTER}")
    ctr = counter.to_bytes(COUNTER_BYTES, "little")
    plain = bytes([PICC_DATA_TAG]) + uid + ctr + secrets.token_bytes(5)
    encrypted = _aes_cbc(meta_read_key, plain, encrypt=True)
    return encrypted.hex().upper(), _truncated_mac(file_read_key, uid, ctr).hex().upper()
