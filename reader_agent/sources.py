"""Tag sources: where UIDs come from. nfcpy readers, and simulated ones, behind one interface.

A source is opened, then ``read`` is called again and again; each call blocks until one tap
has been handled (``on_tag`` called with the UID while the tag is held, returning after the
tag has left) or until ``stop`` is set. A failing reader raises ReaderError; the reader loop
closes it and opens it again later.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)

OnTag = Callable[[bytes], None]


class ReaderError(RuntimeError):
    """A reader cannot be opened, or stopped working."""


class TagSource(ABC):
    """Where taps come from: an NFC reader or a simulation."""

    def __init__(self, device: str) -> None:
        self.device = device

    @abstractmethod
    def open(self) -> None:
        """Get the reader ready; raise ReaderError when it is absent or broken."""

    @abstractmethod
    def read(self, on_tag: OnTag, stop: threading.Event) -> None:
        """Wait for one tap and hand its UID to ``on_tag``; return early when ``stop`` is set."""

    @abstractmethod
    def close(self) -> None:
        """Release the reader. Safe to call more than once."""

    def feedback_device(self) -> Any | None:
        """The nfcpy device for LED and buzzer feedback, if there is one."""
        return None


class NfcSource(TagSource):
    """An NFC reader through nfcpy: one read per tap, holding the tag until it leaves."""

    def __init__(self, device: str, targets: Sequence[str] | None = None) -> None:
        super().__init__(device)
        self.targets = list(targets or ("106A", "106B", "212F"))
        self._clf: Any = None
        # The udp driver waits a second per polled technology; one round per connect keeps
        # stopping quick. Hardware polls ten rounds 0.1 s apart, then checks for a stop.
        udp = device.startswith("udp")
        self._iterations = 1 if udp else 10
        self._interval = 0.1

    def open(self) -> None:
        try:
            import nfc
        except ImportError:
            raise ReaderError("nfcpy is not installed (pip install 'tapshare[station]')") from None
        clf = nfc.ContactlessFrontend()
        try:
            found = clf.open(self.device)
        except Exception as exc:  # nfcpy raises IOError, FileNotFoundError (no libusb), …
            clf.close()
            reason = str(exc) or type(exc).__name__
            if "libusb" in reason:
                reason = "libusb-1.0 is missing (apt install libusb-1.0-0)"
            raise ReaderError(f"cannot open {self.device}: {reason}") from None
        if not found:
            clf.close()
            raise ReaderError(f"no reader found at {self.device}")
        self._clf = clf
        log.info("reader %s open: %s", self.device, clf)

    def read(self, on_tag: OnTag, stop: threading.Event) -> None:
        if self._clf is None:
            raise ReaderError(f"reader {self.device} is not open")

        def on_connect(tag: Any) -> bool:
            on_tag(bytes(tag.identifier))
            # True: nfcpy holds the tag until it leaves, so a resting tag is read once.
            return True

        options = {
            "targets": self.targets,
            "on-connect": on_connect,
            "iterations": self._iterations,
            "interval": self._interval,
            "beep-on-connect": False,
        }
        try:
            result = self._clf.connect(rdwr=options, terminate=stop.is_set)
        except Exception as exc:  # USB unplugged mid-poll, serial errors
            raise ReaderError(f"reader {self.device} failed: {exc}") from None
        if result is False:
            raise ReaderError(f"reader {self.device} stopped answering")

    def close(self) -> None:
        clf, self._clf = self._clf, None
        if clf is not None:
            try:
                clf.close()
            except Exception as exc:
                log.debug("closing %s: %s", self.device, exc)

    def feedback_device(self) -> Any | None:
        return self._clf.device if self._clf is not None else None
