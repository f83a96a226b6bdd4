"""A short end-to-end run on the virtual interface: ``python -m can.demo`` (or ``make demo``).

Two buses join one virtual channel. The sender sends a few frames (standard and extended ids,
a remote frame, a CAN FD frame); the receiver has an acceptance filter and prints what passes
it, in the python-can 3.3.2 ``str(Message)`` layout. No hardware or driver is needed.

The run checks itself: it exits with status 1 if the frames received are not exactly the ones
the filter should pass, in the order they were sent.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Optional, Union

import can
from can.interfaces.virtual import VirtualBus

__all__ = ["FILTERS", "demo_frames", "main", "run"]

#: Receive standard (11-bit) ids 0x100..0x1ff only: id & 0x700 must equal 0x100.
FILTERS: list[dict[str, Union[int, bool]]] = [
    {"can_id": 0x100, "can_mask": 0x700, "extended": False}
]


def demo_frames() -> list[can.Message]:
    """The frames the demo sends, in order."""
    return [
        can.Message(arbitration_id=0x100, data=[0x11, 0x22, 0x33], is_extended_id=False),
        can.Message(arbitration_id=0x123, data=b"CANdemo", is_extended_id=False),
        can.Message(arbitration_id=0x200, data=[0xFF] * 8, is_extended_id=False),
        can.Message(arbitration_id=0x100, data=[1, 2], is_extended_id=True),
        can.Message(arbitration_id=0x1FF, dlc=4, is_remote_frame=True, is_extended_id=False),
        can.Message(
            arbitration_id=0x180,
            data=bytes(range(12)),
            is_fd=True,
            bitrate_switch=True,
            is_extended_id=False,
        ),
    ]


def _passes(msg: can.Message) -> bool:
    """The filter above, written out independently of the library's filter code."""
    return not msg.is_extended_id and (msg.arbitration_id & 0x700) == (0x100 & 0x700)


def run(channel: str = "demo", out: Optional[list[str]] = None) -> bool:
    """Send the demo frames on ``channel``, receive them through the filter and print them.

    :param channel: the virtual channel name.
    :param out: if given, the printed lines are appended to it as well.
    :returns: whether exactly the expected frames arrived, in order.
    """

    def say(line: str) -> None:
        print(line)
        if out is not None:
            out.append(line)

    frames = demo_frames()
    expected = [m for m in frames if _passes(m)]
    with (
        VirtualBus(channel=channel) as sender,
        VirtualBus(channel=channel, can_filters=FILTERS) as receiver,
    ):
        say(f"Sending {len(frames)} frames on the virtual channel {channel!r}:")
        for msg in frames:
            sender.send(msg)
            say(f"  sent      {msg}")
        say("Receiving with the filter can_id=0x100, can_mask=0x700 (standard ids 0x100-0x1ff):")
        received: list[can.Message] = []
        while True:
            msg_in = receiver.recv(timeout=0.2)
            if msg_in is None:
                break
            received.append(msg_in)
            say(f"  received  {msg_in}")
    dropped = len(frames) - len(received)
    say(f"{len(received)} frames received, {dropped} filtered out.")
    ok = len(received) == len(expected) and all(
        got.equals(want, timestamp_delta=None, check_channel=False, check_direction=False)
        for got, want in zip(received, expected)
    )
    if not ok:
        say(
            f"UNEXPECTED: wanted the {len(expected)} frames with ids "
            f"{[hex(m.arbitration_id) for m in expected]}"
        )
    return ok


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m can.demo", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--channel", default="demo", help="virtual channel name (default: demo)")
    args = parser.parse_args(argv)
    return 0 if run(args.channel) else 1


if __name__ == "__main__":
    sys.exit(main())
