"""mqtts:// with a CA file: the station verifies the broker's certificate."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from protocol import parse_opinion
from tapshare.mosquitto import free_port
from tests.harness.mqtt import Collector, wait_for

OPINIONS = "tapshare/v1/strp/st-01/opinion"


def make_certificates(directory: Path) -> None:
    """A CA and a server certificate for 127.0.0.1 signed by it."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=tapshare test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    )
    (directory / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
        "-out",
        "server.pem",
    )


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
    except OSError:
        return False
    return True


@pytest.fixture
def tls_broker(mosquitto_factory):
    # The broker's own directory, so that Mosquitto (which drops to its own user when
    # started as root) can read the key.
    directory = Path(tempfile.mkdtemp(prefix="tapshare-tls-"))
    make_certificates(directory)
    plain = free_port()
    broker = mosquitto_factory(
        directory=directory,
        extra_config=[
            f"certfile {directory / 'server.pem'}",
            f"keyfile {directory / 'server.key'}",
            f"listener {plain} 127.0.0.1",
        ],
    )
    # Mosquitto.start waits for the first listener only.
    assert wait_for(lambda: _accepts(plain))
    yield broker, directory / "ca.pem", SimpleNamespace(host="127.0.0.1", port=plain)
    shutil.rmtree(directory, ignore_errors=True)


def test_a_station_publishes_over_tls_verified_with_its_ca_file(
    tls_broker, write_settings, run_station, tmp_path: Path
):
    broker, ca_file, plain = tls_broker
    collector = Collector(plain, OPINIONS).connect()  # type: ignore[arg-type]
    shutil.copy(ca_file, tmp_path / "ca.pem")
    settings = write_settings(
        f"mqtts://127.0.0.1:{broker.port}",
        [{"device": "sim:rate=20,limit=3,visitors=100000", "artwork": "aw-1", "choice": "love"}],
        ca_file="ca.pem",
    )
    run_station(settings)
    assert wait_for(lambda: len(collector.payloads()) == 3)
    assert [parse_opinion(p).seq for p in collector.payloads()] == [0, 1, 2]


def test_an_unverified_broker_gets_nothing(tls_broker, write_settings, run_station, caplog):
    broker, _, plain = tls_broker
    collector = Collector(plain, OPINIONS).connect()  # type: ignore[arg-type]
    settings = write_settings(
        f"mqtts://127.0.0.1:{broker.port}",
        [{"device": "sim:rate=50,limit=3,visitors=100000", "artwork": "aw-1", "choice": "love"}],
    )
    station = run_station(settings)
    # Without the CA file the certificate is not trusted: taps wait in the outbox.
    assert wait_for(lambda: len(station.outbox) == 3)
    assert wait_for(lambda: "cannot reach the broker" in caplog.text)
    assert collector.payloads() == []
