"""Tags for nfcpy's ``udp`` driver, so that tests run the station's real nfcpy code path.

``Type3Tag`` is emulated by nfcpy itself (``clf.connect(card=…)``); ``NtagEmulator`` is a
small Type 2 tag of ours with an NTAG wristband's 7-byte NXP UID that answers the frames the
udp driver sends: anticollision, select and page reads. It stays silent to AUTHENTICATE and
GET_VERSION (nfcpy then takes it for a MIFARE Ultralight), because nfcpy waits only 10 ms
for those answers and a late one would be mistaken for the answer to the next frame.
Each ``tap`` puts a tag on the reader for a while, then takes it away.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from binascii import hexlify, unhexlify
from functools import reduce
from operator import xor

import nfc
import nfc.clf

#: Long enough for the udp driver, which polls one technology per second, to catch a tap.
TAP_SECONDS = 1.6


def bcc(data: bytes) -> int:
    return reduce(xor, data, 0)


class NtagEmulator:
    """A Type 2 tag over udp: answers at ``port`` while a tap is in progress."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", port))
        self._socket.settimeout(0.05)
        self._uid: bytes | None = None
        self._until = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="ntag", daemon=True)
        self._thread.start()

    def tap(self, uid: bytes, seconds: float = TAP_SECONDS) -> None:
        """Hold a tag with ``uid`` (7 bytes) on the reader for ``seconds``; block meanwhile."""
        assert len(uid) == 7
        with self._lock:
            self._uid, self._until = uid, time.monotonic() + seconds
        time.sleep(seconds)
        with self._lock:
            self._uid = None
        # Give the reader time to see that the tag has gone.
        time.sleep(0.5)

    def _answer(self, command: bytes, uid: bytes) -> bytes | None:
        cl1 = b"\x88" + uid[:3]
        cl1 += bytes([bcc(cl1)])
        cl2 = uid[3:7] + bytes([bcc(uid[3:7])])
        if command == b"\x26" or command == b"\x52":  # SENS_REQ / ALL_REQ
            return b"\x44\x00"
        if command == b"\x93\x20":
            return cl1
        if command == b"\x93\x70" + cl1:
            return b"\x04"  # cascade: the UID goes on
        if command == b"\x95\x20":
            return cl2
        if command == b"\x95\x70" + cl2:
            return b"\x00"  # complete: a Type 2 tag
        if command[:1] == b"\x30" and len(command) == 2:  # READ four pages
            pages = cl1[1:] + cl2 + b"\x48\x00\x00\xe1\x10\x3e\x00"
            return pages if command[1] == 0 else bytes(16)
        # AUTHENTICATE, GET_VERSION and the rest: silence, as an Ultralight-like tag does.
        return None

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, address = self._socket.recvfrom(1024)
            except TimeoutError:
                continue
            except OSError:
                return
            if data.startswith(b"RFOFF"):
                continue
            try:
                brty, body = data.split()
                command = unhexlify(body)
            except ValueError:
                continue
            with self._lock:
                uid = self._uid if time.monotonic() < self._until else None
            if uid is None or brty != b"106A":
                continue
            answer = self._answer(command, uid)
            if answer is not None:
                self._socket.sendto(b"106A " + hexlify(answer), address)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._socket.close()


class Type3Tag:
    """A FeliCa (Type 3) tag emulated by nfcpy over udp; taps are queued and served in turn."""

    PMM = bytes.fromhex("03014b024f4993ff")
    SYSTEM = bytes.fromhex("12fc")

    def __init__(self, port: int) -> None:
        self.port = port
        self._taps: queue.Queue[tuple[bytes, float, threading.Event] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="type3", daemon=True)
        self._thread.start()

    def tap(self, idm: bytes, seconds: float = TAP_SECONDS) -> None:
        """Hold a tag with ``idm`` (8 bytes, not 01FE…) on the reader; block meanwhile."""
        assert len(idm) == 8 and idm[:2] != b"\x01\xfe"
        done = threading.Event()
        self._taps.put((idm, seconds, done))
        done.wait(seconds + 10)
        time.sleep(0.5)

    def _serve(self) -> None:
        while True:
            item = self._taps.get()
            if item is None:
                return
            idm, seconds, done = item
            try:
                self._serve_tap(idm, seconds)
            finally:
                done.set()

    def _serve_tap(self, idm: bytes, seconds: float) -> None:
        deadline = time.monotonic() + seconds

        def on_startup(target: nfc.clf.LocalTarget) -> nfc.clf.LocalTarget:
            target.brty = "212F"
            target.sensf_res = bytearray(b"\x01" + idm + self.PMM + self.SYSTEM)
            return target

        clf = nfc.ContactlessFrontend(f"udp:127.0.0.1:{self.port}")
        try:
            clf.connect(
                card={"on-startup": on_startup, "on-connect": lambda tag: True, "timeout": 0.2},
                terminate=lambda: time.monotonic() > deadline,
            )
        finally:
            # Closing the socket drops frames that arrived between taps.
            clf.close()

    def close(self) -> None:
        self._taps.put(None)
        # A reader that went away leaves the card side waiting for "field off".
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"RFOFF", ("127.0.0.1", self.port))
        self._thread.join(5)
