"""``can-bridge``: forward every frame between two buses, both ways (python-can 4.x).

Run as ``can-bridge`` or ``python -m can.bridge``; the buses are given with ``--bus1-...`` and
``--bus2-...`` options (``--bus1-interface socketcan --bus1-channel can0 --bus2-interface
virtual ...``). Frames a bus sends itself are not forwarded back.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Optional

from can import cli
from can.bus import BusABC
from can.listener import Listener
from can.message import Message

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="can-bridge", description="Forward every CAN frame between two buses, both ways."
    )
    cli.add_verbosity_argument(parser)
    cli.add_bus_arguments(parser, filter_arg=True, prefix="bus1", group_title="first bus")
    cli.add_bus_arguments(parser, filter_arg=True, prefix="bus2", group_title="second bus")
    return parser


class _Forward(Listener):
    """Sends every frame received on one bus to the other."""

    def __init__(self, dst: BusABC, stop: threading.Event) -> None:
        self.dst = dst
        self.stop_event = stop
        self.count = 0

    def on_message_received(self, msg: Message) -> None:
        if msg.is_rx:  # not what this side sent itself
            self.dst.send(msg)
            self.count += 1

    def on_error(self, exc: Exception) -> None:
        print(f"can-bridge: error: {exc}", file=sys.stderr)
        self.stop_event.set()


def _run(args: argparse.Namespace) -> int:
    from can.notifier import Notifier

    stop = threading.Event()
    bus1 = cli.create_bus_from_namespace(args, prefix="bus1")
    try:
        bus2 = cli.create_bus_from_namespace(args, prefix="bus2")
    except BaseException:
        bus1.shutdown()
        raise
    to2, to1 = _Forward(bus2, stop), _Forward(bus1, stop)
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    notifiers: list[Notifier] = []
    try:
        notifiers.append(Notifier(bus1, [to2]))
        notifiers.append(Notifier(bus2, [to1]))
        print(
            f"Bridging {bus1.channel_info} <-> {bus2.channel_info}; Ctrl-C stops", file=sys.stderr
        )
        while not stop.wait(0.25):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for notifier in notifiers:
            notifier.stop()
        bus1.shutdown()
        bus2.shutdown()
        print(f"{to2.count} frames bus1 -> bus2, {to1.count} bus2 -> bus1", file=sys.stderr)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> None:
    """The ``can-bridge`` command."""
    cli.run(build_parser(), _run, argv)


if __name__ == "__main__":
    main()
