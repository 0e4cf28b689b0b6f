"""Run a private Mosquitto: for tests, benchmarks and the demo.

Each instance has its own port, configuration and data directory, so it never touches a
broker the machine already runs, and can be stopped and started again with its data.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path


class BrokerUnavailable(RuntimeError):
    """Mosquitto is missing or would not start."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mosquitto:
    """A Mosquitto process on a loopback port with persistence in its own directory."""

    def __init__(
        self,
        *,
        port: int | None = None,
        password_file: Path | None = None,
        acl_file: Path | None = None,
        extra_config: Iterable[str] = (),
        directory: Path | None = None,
        executable: str = "mosquitto",
        config_file: Path | None = None,
    ) -> None:
        found = shutil.which(executable)
        if found is None:
            raise BrokerUnavailable(
                f"{executable!r} is not on PATH: install Mosquitto (apt-get install mosquitto)"
            )
        self.executable = found
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._owns_directory = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="tapshare-mosquitto-"))
        self.data_dir = self.directory / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.directory / "mosquitto.log"
        self.config_path = self.directory / "mosquitto.conf"
        self._process: subprocess.Popen[bytes] | None = None
        logging = [
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
        ]
        if config_file is not None:
            # A whole configuration written elsewhere (e.g. a site broker's, which names its
            # own listener, accounts and bridge): only where to keep data and logs is added.
            if port is None:
                raise ValueError("give the port the configuration's listener uses")
            if password_file is not None or acl_file is not None or extra_config:
                raise ValueError("config_file replaces password_file, acl_file, extra_config")
            lines = [
                f"persistence_location {self.data_dir}/",
                *logging,
                Path(config_file).read_text(),
            ]
            self.config_path.write_text("\n".join(lines) + "\n")
            self._hand_over_to_broker_user()
            return
        lines = [
            f"listener {self.port} {self.host}",
            f"persistence_location {self.data_dir}/",
            "persistence true",
            "autosave_interval 1",
            # The stock limit of 1000 drops QoS 1 messages silently, even for connected
            # subscribers that are a little behind.
            "max_queued_messages 1000000",
            "max_queued_bytes 0",
            *logging,
        ]
        if password_file is not None:
            target = self.directory / "passwd"
            shutil.copyfile(password_file, target)
            lines += ["allow_anonymous false", f"password_file {target}"]
        else:
            lines.append("allow_anonymous true")
        if acl_file is not None:
            target = self.directory / "acl"
            shutil.copyfile(acl_file, target)
            lines.append(f"acl_file {target}")
        lines.extend(extra_config)
        self.config_path.write_text("\n".join(lines) + "\n")
        self._hand_over_to_broker_user()

    def _hand_over_to_broker_user(self) -> None:
        # Run as root, Mosquitto drops to its own user before it reads its password file
        # and writes its data, so that user must own the directory.
        if os.geteuid() != 0:
            return
        try:
            user = pwd.getpwnam("mosquitto")
        except KeyError:
            return
        os.chmod(self.directory, 0o700)
        for path in [self.directory, *self.directory.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)
        for name in ("passwd", "acl"):
            if (self.directory / name).exists():
                os.chmod(self.directory / name, 0o600)

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self._process.pid if self.running and self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log(self) -> str:
        """What the broker has logged so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self, timeout: float = 10.0) -> None:
        """Start the broker and wait until it accepts connections."""
        if self.running:
            return
        self._process = subprocess.Popen(
            [self.executable, "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                stderr = (
                    self._process.stderr.read().decode(errors="replace")
                    if self._process.stderr
                    else ""
                )
                raise BrokerUnavailable(
                    f"mosquitto exited with {self._process.returncode}: {stderr.strip()} "
                    f"{self.log()[-2000:]}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), 0.2),
            ):
                return
            time.sleep(0.02)
        self.stop()
        raise BrokerUnavailable(f"mosquitto did not accept connections within {timeout} s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the broker cleanly; it saves its persistent sessions and queues."""
        if self._process is None:
            return
        process, self._process = self._process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr:
            process.stderr.close()

    def kill(self) -> None:
        """Stop the broker at once, as a crash would."""
        if self._process is None:
            return
        process, self._process = self._process, None
        process.kill()
        process.wait()
        if process.stderr:
            process.stderr.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the broker and remove its directory if it made one."""
        self.stop()
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
