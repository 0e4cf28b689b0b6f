"""``tapshare demo``: the whole system on one machine, in one process tree.

A broker (Mosquitto when it is installed, else the embedded amqtt), the hub, the dashboard
and simulated stations at three festivals in a fresh data directory. The festivals follow
the story that tapshare comes from: one shares openly, one shares only its totals with the
public, and one shares nothing with anyone and still runs its own board.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.models import DEFAULT_CHOICES
from protocol import write_private
from protocol.broker import BrokerURL
from tapshare.mosquitto import Mosquitto, free_port
from tapshare.processes import Child, ProcessGroup, wait_for_line

CHOICE_NAMES = DEFAULT_CHOICES
#: The id of the phone sticker each demo festival gets.
DEMO_STICKER = "phone-1"


@dataclass(frozen=True)
class DemoArtwork:
    id: str
    title: str
    #: Mean taps per second at this artwork, and how they split over the choices.
    rate: float
    taste: tuple[float, float, float, float]


@dataclass(frozen=True)
class DemoFestival:
    id: str
    name: str
    story: str
    #: The rules of the festival's policy.
    rules: tuple[dict[str, object], ...]
    #: Stations, each with the artworks it stands at.
    stations: dict[str, tuple[DemoArtwork, ...]]
    visitors: int = 400


def _permit(to: str, action: str, level: str, min_visitors: int) -> dict[str, object]:
    """A permit rule of a demo festival's policy."""
    return {
        "effect": "permit",
        "to": to,
        "action": action,
        "level": level,
        "min_visitors": min_visitors,
    }


FESTIVALS: tuple[DemoFestival, ...] = (
    DemoFestival(
        id="strp",
        name="STRP",
        story="shares openly: per artwork on every board, and with the network for analysis",
        rules=(
            _permit("public", "display", "artwork", 3),
            _permit("network", "analyse", "artwork", 3),
            _permit("network", "export", "artwork", 5),
            _permit("platform", "analyse", "artwork", 1),
        ),
        stations={
            "hall-a": (
                DemoArtwork("cloud", "Cloud", 0.6, (0.45, 0.3, 0.15, 0.1)),
                DemoArtwork("murmur", "Murmur", 0.4, (0.2, 0.3, 0.3, 0.2)),
            ),
            "hall-b": (
                DemoArtwork("lightfall", "Lightfall", 0.5, (0.35, 0.35, 0.2, 0.1)),
                DemoArtwork("signal-garden", "Signal Garden", 0.3, (0.1, 0.2, 0.3, 0.4)),
            ),
        },
    ),
    DemoFestival(
        id="kempen",
        name="Kempen Klankfestival",
        story="shares only its festival totals with the public, once 10 visitors took part",
        rules=(_permit("public", "display", "festival", 10),),
        stations={
            "tent": (
                DemoArtwork("drone-choir", "Drone Choir", 0.5, (0.3, 0.4, 0.2, 0.1)),
                DemoArtwork("field-recording", "Field Recording", 0.3, (0.25, 0.25, 0.25, 0.25)),
            ),
            "church": (DemoArtwork("organ-loop", "Organ Loop", 0.5, (0.5, 0.3, 0.1, 0.1)),),
        },
    ),
    DemoFestival(
        id="baronie",
        name="Baronie Beeldfestival",
        story="shares nothing with anyone, and still runs its own board",
        rules=(),
        stations={
            "courtyard": (
                DemoArtwork("mirror-maze", "Mirror Maze", 0.5, (0.4, 0.3, 0.2, 0.1)),
                DemoArtwork("paper-city", "Paper City", 0.4, (0.2, 0.4, 0.3, 0.1)),
            ),
        },
    ),
)


class DemoError(RuntimeError):
    """The demo cannot start or a part of it stopped."""


#: The start of every station child's name.
STATION_PREFIX = "station-"


def broker_env(broker: BrokerURL) -> dict[str, str]:
    """The environment that gives a child ``tapshare`` its broker (with the password)."""
    return {"TAPSHARE_BROKER": str(broker)}


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`DemoError` in one line when the dashboard's port is taken."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise DemoError(
                f"port {port} on {host} is in use ({exc.strerror}): stop what uses it, "
                "or give another with --port"
            ) from None


@dataclass
class DemoPlan:
    """Where the demo's parts live and how to reach them."""

    data_dir: Path
    port: int
    #: Where the dashboard listens, and its address as phones reach it ("" : 127.0.0.1).
    host: str = "127.0.0.1"
    public_url: str = ""
    db: Path = field(init=False)
    logins: dict[str, tuple[str, str]] = field(default_factory=dict)
    screen_keys: dict[str, str] = field(default_factory=dict)
    #: Each festival's phone sticker: (festival, tag, artwork title).
    stickers: list[tuple[str, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.db = self.data_dir / "tapshare.db"
        self.public_url = (self.public_url or f"http://127.0.0.1:{self.port}").rstrip("/")


def prepare_data_dir(data_dir: Path | None) -> Path:
    """A fresh, empty data directory: the given one (created if missing) or a new one."""
    if data_dir is None:
        return Path(tempfile.mkdtemp(prefix="tapshare-demo-"))
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise DemoError(f"--data-dir {data_dir} is not an empty directory; give a fresh one")
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir


def sim_readers(festival: DemoFestival, artworks: tuple[DemoArtwork, ...], seed: int) -> str:
    """The ``[[readers]]`` of one simulated station: a reader per artwork and choice."""
    blocks = []
    for artwork in artworks:
        for number, (choice, share) in enumerate(zip(CHOICE_NAMES, artwork.taste, strict=True)):
            device = (
                f"sim:rate={artwork.rate * share:.3f},vary=0.6,period=90,"
                f"visitors={festival.visitors},pool={festival.id},seed={seed + number}"
            )
            blocks.append(
                f'[[readers]]\ndevice = "{device}"\nartwork = "{artwork.id}"\nchoice = "{choice}"\n'
            )
        seed += 10
    return "\n".join(blocks)


def register(plan: DemoPlan, broker: BrokerURL) -> list[Path]:
    """Register the festivals, their artworks, stations, policies, organisers and a
    screen key each.

    Returns the station.toml files written.
    """
    from consent.store import PolicyStore
    from dashboard.accounts import add_organiser
    from dashboard.screens import add_screen
    from hub import registry, stickers
    from storage import connect
    from tapshare.database import migrate

    migrate(plan.db)
    db = connect(plan.db)
    configs: list[Path] = []
    try:
        known = {festival.id for festival in FESTIVALS}
        for number, festival in enumerate(FESTIVALS):
            registry.add_festival(db, festival.id, festival.name)
            for artworks in festival.stations.values():
                for artwork in artworks:
                    registry.add_artwork(db, festival.id, artwork.id, artwork.title)
            PolicyStore(db).set(
                festival.id,
                {"rules": list(festival.rules)},
                "demo",
                f"demo: {festival.story}",
                known,
            )
            # A sticker for phones at the festival's first artwork (docs/phones.md).
            first = next(iter(festival.stations.values()))[0]
            stickers.add(db, festival.id, DEMO_STICKER, first.id)
            plan.stickers.append((festival.id, DEMO_STICKER, first.title))
            email = f"organiser@{festival.id}.example"
            password = secrets.token_urlsafe(9)
            add_organiser(db, festival.id, email, password)
            plan.logins[festival.id] = (email, password)
            plan.screen_keys[festival.id] = add_screen(db, festival.id, "demo screen")
            for station_number, (station, artworks) in enumerate(festival.stations.items()):
                credentials = registry.add_station(db, festival.id, station)
                outbox = plan.data_dir / "stations" / f"{festival.id}-{station}.outbox.db"
                text = registry.station_toml(credentials, broker, str(outbox))
                text += "status_interval = 10\n\n"
                text += sim_readers(festival, artworks, 1000 * number + 100 * station_number)
                path = plan.data_dir / "stations" / f"{festival.id}-{station}.toml"
                write_private(path, text)
                configs.append(path)
    finally:
        db.close()
    return configs


class Demo:
    """Starts every part, shows progress, and stops everything in order."""

    def __init__(
        self,
        plan: DemoPlan,
        *,
        say: Callable[[str], None],
        prefer_mosquitto: bool = True,
        progress_every: float = 5.0,
    ) -> None:
        self.plan = plan
        self.say = say
        self.prefer_mosquitto = prefer_mosquitto
        self.progress_every = progress_every
        self.group = ProcessGroup(plan.data_dir / "logs")
        self.mosquitto: Mosquitto | None = None
        self.broker_kind = ""
        #: The dashboard's address of the broker, to publish votes from phones.
        self.web_broker: BrokerURL | None = None

    # -- the parts ----------------------------------------------------------------------

    def _python(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "tapshare", "--db", str(self.plan.db), *args]

    def start_broker(self, port: int) -> BrokerURL:
        """Start Mosquitto (with per-station credentials) or the embedded broker on
        ``port``; return the hub's address of it."""
        executable = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
        if self.prefer_mosquitto and executable:
            return self._start_mosquitto(executable, port)
        return self._start_embedded(port)

    def _start_mosquitto(self, executable: str, port: int) -> BrokerURL:
        from hub.broker_config import HUB_USERNAME, WEB_USERNAME, write_broker_config
        from storage import connect

        config_dir = self.plan.data_dir / "broker"
        db = connect(self.plan.db)
        try:
            written = write_broker_config(
                db, config_dir, rotate_hub_password=True, rotate_web_password=True
            )
        finally:
            db.close()
        self.mosquitto = Mosquitto(
            port=port,
            password_file=written.password_file,
            acl_file=written.acl_file,
            executable=executable,
        )
        self.mosquitto.start()
        self.broker_kind = f"Mosquitto on port {self.mosquitto.port}"
        assert written.hub_password is not None and written.web_password is not None
        self.web_broker = BrokerURL(
            "127.0.0.1", self.mosquitto.port, False, WEB_USERNAME, written.web_password
        )
        return BrokerURL(
            "127.0.0.1", self.mosquitto.port, False, HUB_USERNAME, written.hub_password
        )

    def _start_embedded(self, port: int) -> BrokerURL:
        child = self.group.start(
            "broker", [sys.executable, "-m", "tapshare.embedded_broker", str(port)]
        )
        if not wait_for_line(child, "ready", 20):
            raise DemoError(f"the embedded broker did not start:\n{child.tail()}")
        self.broker_kind = f"the embedded broker (amqtt) on port {port}"
        # It checks no passwords, but keeps offline sessions only for named clients.
        self.web_broker = BrokerURL("127.0.0.1", port, False, "web", "demo")
        return BrokerURL("127.0.0.1", port, False, "hub", "demo")

    def start_hub(self, broker: BrokerURL) -> Child:
        # The broker address carries the hub's password: in the environment, never on the
        # command line, where every user of the machine can read it (`ps`).
        child = self.group.start("hub", self._python("hub"), env=broker_env(broker))
        if not wait_for_line(child, "subscribed to", 20):
            raise DemoError(f"the hub did not start:\n{child.tail()}")
        return child

    def start_dashboard(self) -> Child:
        child = self.group.start(
            "dashboard",
            self._python("dashboard", "--host", self.plan.host, "--port", str(self.plan.port)),
            env=broker_env(self.web_broker) if self.web_broker else None,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url("/api/v1/festivals"), timeout=1):
                    return child
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise DemoError(f"the dashboard did not start on port {self.plan.port}:\n{child.tail()}")

    def start_stations(self, configs: list[Path]) -> None:
        for config in configs:
            self.group.start(
                f"{STATION_PREFIX}{config.stem}", self._python("reader", "--config", str(config))
            )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.plan.port}{path}"

    # -- running ------------------------------------------------------------------------

    def run(self, duration: float | None) -> None:
        """Run until ``duration`` seconds have passed (None: until interrupted)."""
        try:
            self.say(f"data directory: {self.plan.data_dir}")
            self.say(f"database (for --db): {self.plan.db}")
            port = free_port()
            configs = register(self.plan, BrokerURL("127.0.0.1", port))
            hub_broker = self.start_broker(port)
            self.say(f"broker: {self.broker_kind}")
            self.start_hub(hub_broker)
            self.say("hub: running")
            self.start_dashboard()
            self.start_stations(configs)
            self._introduce()
            self._watch(duration)
        finally:
            self.stop()

    def _introduce(self) -> None:
        entries = [("public board", self.url("/boards/public"))]
        entries += [
            (f"{f.name} screens", self.url(f"/boards/{f.id}?key={self.plan.screen_keys[f.id]}"))
            for f in FESTIVALS
        ]
        entries += [(f"{f.name} for visitors", self.url(f"/festivals/{f.id}")) for f in FESTIVALS]
        entries += [("organiser login", self.url("/organiser/login"))]
        width = max(len(label) for label, _ in entries) + 2
        lines = ["", "tapshare demo is running. Open in a browser:"]
        lines += [f"  {label:<{width}}{address}" for label, address in entries]
        lines.append("Organiser logins (email / password):")
        for festival in FESTIVALS:
            email, password = self.plan.logins[festival.id]
            lines.append(f"  {email} / {password}  — {festival.name} {festival.story}")
        lines += self._phone_lines()
        lines.append(f"API: {self.url('/api/v1/openapi.json')}")
        lines.append("Press Ctrl-C to stop.")
        lines.append("")
        self.say("\n".join(lines))

    def _phone_lines(self) -> list[str]:
        """Per festival, the address a first tap on its sticker opens, and how to tap again."""
        from hub import stickers
        from storage import connect

        lines = ["Phones (open on a phone, or in a browser; each tap gives one vote):"]
        db = connect(self.plan.db)
        try:
            for festival_id, tag, title in self.plan.stickers:
                sticker = stickers.get(db, festival_id, tag)
                assert sticker is not None
                picc_data, cmac = stickers.simulated_tap(db, festival_id, tag)
                address = stickers.address(
                    self.plan.public_url, sticker, {"picc_data": picc_data, "cmac": cmac}
                )
                lines.append(f"  {festival_id} sticker at {title}: {address}")
        finally:
            db.close()
        lines.append(
            f"  another tap: tapshare --db {self.plan.db} --public-url {self.plan.public_url} "
            f"tag tap FESTIVAL {DEMO_STICKER}"
        )
        return lines

    def _watch(self, duration: float | None) -> None:
        started = time.monotonic()
        next_report = started + self.progress_every
        while duration is None or time.monotonic() - started < duration:
            for child in self.group.exited():
                if child.name.startswith(STATION_PREFIX):
                    self._station_stopped(child)
                    continue
                raise DemoError(f"{child.name} stopped unexpectedly:\n{child.tail()}")
            if time.monotonic() >= next_report:
                self.say(self.progress(time.monotonic() - started))
                next_report += self.progress_every
            time.sleep(0.2)
        self.say(self.progress(time.monotonic() - started))

    def _station_stopped(self, child: Child) -> None:
        """Say once that a station stopped; the demo goes on, and the boards and the
        organiser's page show the station offline, as they would at a festival."""
        self.group.forget(child)
        station = child.name.removeprefix(STATION_PREFIX)
        self.say(
            f"station {station} stopped (exit status {child.process.returncode}); the demo "
            f"goes on and shows it offline. Its log: {child.log_path}"
        )

    def progress(self, elapsed: float) -> str:
        """One line: opinions stored and refused, and stations online."""
        from hub import metrics, queries
        from storage import connect

        db = connect(self.plan.db)
        try:
            totals: dict[str, float] = {}
            for name, _labels, value in queries.counters(db):
                totals[name] = totals.get(name, 0) + value
            online = total = 0
            for festival in FESTIVALS:
                for health in queries.stations(db, festival.id):
                    total += 1
                    online += health.state == "online"
        finally:
            db.close()
        return (
            f"{elapsed:5.0f} s  opinions stored: {totals.get(metrics.STORED, 0):.0f}  "
            f"refused: {totals.get(metrics.REJECTED, 0):.0f}  stations online: {online}/{total}"
        )

    def stop(self) -> None:
        """Stop the stations, the dashboard, the hub, then the broker."""
        self.group.close()
        if self.mosquitto is not None:
            self.mosquitto.close()
            self.mosquitto = None


def board(url: str) -> dict[str, Any]:
    """Fetch a board from the demo's API (used by tests and by people)."""
    with urllib.request.urlopen(url, timeout=5) as response:
        return dict(json.load(response))
