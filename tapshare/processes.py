"""Child processes of one command, started in order and stopped in reverse order."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]

    def tail(self, lines: int = 15) -> str:
        """The last lines the child wrote, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class ProcessGroup:
    """Starts children with their output in log files; stops them all on close."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("ab")
        process = subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            # Ctrl-C in the terminal reaches only the demo, which then stops its children
            # in order: the stations first, the broker last.
            start_new_session=True,
        )
        child = Child(name, process, log_path, log)
        self.children.append(child)
        return child

    def exited(self) -> list[Child]:
        """Children that have stopped on their own."""
        return [child for child in self.children if child.process.poll() is not None]

    def forget(self, child: Child) -> None:
        """Stop watching a child that has exited (its log is closed)."""
        self.children.remove(child)
        self.stop(child)

    def stop(self, child: Child, timeout: float = 10.0) -> None:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
            try:
                child.process.wait(timeout)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        child.log.close()

    def close(self, timeout: float = 10.0) -> None:
        """Stop every child, the last started first."""
        while self.children:
            self.stop(self.children.pop(), timeout)


def wait_for_line(child: Child, text: str, timeout: float) -> bool:
    """Wait until the child's log contains ``text``; False if it exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError):
            if text in child.log_path.read_text(errors="replace"):
                return True
        if child.process.poll() is not None:
            return False
        time.sleep(0.05)
    return False
