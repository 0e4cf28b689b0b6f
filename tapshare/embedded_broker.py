"""A pure-Python MQTT 3.1.1 broker (amqtt) for the demo when Mosquitto is not installed.

Run as ``python -m tapshare.embedded_broker PORT``: it prints ``ready`` once it listens.
Only clients with a username are accepted, because amqtt keeps the offline sessions (and
their queued QoS 1 messages) of such clients only; the demo gives every client one.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys


async def serve(port: int) -> None:
    """Listen on 127.0.0.1:PORT until SIGTERM or SIGINT."""
    from amqtt.broker import Broker

    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": False}},
    }
    broker = Broker(config)
    await broker.start()
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await broker.shutdown()


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m tapshare.embedded_broker PORT", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="broker: %(levelname)s %(message)s")
    logging.getLogger("transitions").setLevel(logging.ERROR)
    asyncio.run(serve(int(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
