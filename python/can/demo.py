"""An end-to-end run on the virtual interface: ``python -m can.demo`` (or ``make demo``).

First two buses join one virtual channel: the sender sends a few frames (standard and extended
ids, a remote frame, a CAN FD frame) and the receiver prints what passes its acceptance filter,
in the python-can 3.3.2 ``str(Message)`` layout.

Then a whole recording round: generated traffic (:mod:`can.generate`) is sent on a virtual bus
and recorded by a :class:`can.Logger` to BLF, the BLF file is converted to ASC
(``can-logconvert``'s converter), the ASC file is replayed (:class:`can.MessageSync`) onto a
second virtual channel where another logger records it to a candump log; a summary says how
long each step took and whether every frame arrived unchanged. No hardware or driver is needed.

The run checks itself: it exits with status 1 if the filter passed the wrong frames or a frame
was lost or changed on the way.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from typing import Any, Callable, Optional, Union

import can
from can.interfaces.virtual import VirtualBus

__all__ = ["FILTERS", "demo_frames", "main", "pipeline", "run"]

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


class _Count(can.Listener):
    """Counts the messages it is given; :attr:`done` is set once ``expect`` have arrived."""

    def __init__(self) -> None:
        self.seen = 0
        self.target: Optional[int] = None
        self.done = threading.Event()
        self._lock = threading.Lock()

    def expect(self, n: int) -> None:
        with self._lock:
            self.target = n
            if self.seen >= n:
                self.done.set()

    def on_message_received(self, msg: can.Message) -> None:
        with self._lock:
            self.seen += 1
            if self.target is not None and self.seen >= self.target:
                self.done.set()


def _record(channel: str, path: str, send: Callable[[can.BusABC], int]) -> tuple[float, int]:
    """Records what ``send`` sends (it returns how many) on a virtual ``channel`` to ``path``;
    returns (seconds, frames recorded)."""
    started = time.perf_counter()
    with VirtualBus(channel=channel) as tx, VirtualBus(channel=channel) as rx:
        count = _Count()
        notifier = can.Notifier(rx, [can.Logger(path), count])
        try:
            count.expect(send(tx))
            count.done.wait(60)
        finally:
            notifier.stop()  # stops the logger too: the file is complete
    return time.perf_counter() - started, count.seen


def _key(m: can.Message) -> tuple[Any, ...]:
    return (m.arbitration_id, m.is_extended_id, m.is_remote_frame, m.is_fd, m.bitrate_switch,
            m.dlc, bytes(m.data))  # fmt: skip


def _read(path: str) -> list[can.Message]:
    with can.LogReader(path) as reader:
        return list(reader)


def pipeline(folder: str, n: int = 20_000, say: Callable[[str], None] = print) -> bool:
    """Generate ``n`` frames, record them to BLF, convert to ASC, replay the ASC file and record
    it again; returns whether every frame arrived unchanged at every step."""
    from can.generate import frames
    from can.logconvert import convert

    sent = list(frames(n, mix=True, seed=2024))
    blf, asc, log = (os.path.join(folder, f"demo.{s}") for s in ("blf", "asc", "log"))

    def generate(bus: can.BusABC) -> int:
        for msg in sent:
            bus.send(msg)
        return len(sent)

    say(f"Recording round with {n} generated frames (standard/extended, classic/FD, remote):")
    seconds, got = _record("demo-record", blf, generate)
    say(f"  generate -> virtual bus -> Logger({os.path.basename(blf)}):"
        f" {got} frames in {seconds:.2f} s ({got / seconds:,.0f} frames/s)")  # fmt: skip
    started = time.perf_counter()
    stats = convert(blf, asc)
    seconds = time.perf_counter() - started
    say(f"  convert {os.path.basename(blf)} -> {os.path.basename(asc)}:"
        f" {stats['frames_written']} frames in {seconds:.3f} s")  # fmt: skip

    def replay(bus: can.BusABC) -> int:
        k = 0
        for msg in can.MessageSync(_read(asc), timestamps=False, gap=0):
            bus.send(msg)
            k += 1
        return k

    seconds, got = _record("demo-replay", log, replay)
    say(f"  replay {os.path.basename(asc)} -> virtual bus -> Logger({os.path.basename(log)}):"
        f" {got} frames in {seconds:.2f} s ({got / seconds:,.0f} frames/s)")  # fmt: skip
    want = [_key(m) for m in sent]
    steps = {"BLF": _read(blf), "ASC": _read(asc), "replayed log": _read(log)}
    ok = True
    for name, msgs in steps.items():
        keys = [_key(m) for m in msgs]
        if keys != want:
            bad = next((i for i, (a, b) in enumerate(zip(keys, want)) if a != b), min(len(keys), n))
            say(f"UNEXPECTED: the {name} file has {len(keys)} frames; frame {bad} differs")
            ok = False
    if ok:
        say(f"All {n} frames arrived unchanged in the BLF, ASC and replayed candump files.")
    return ok


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m can.demo", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--channel", default="demo", help="virtual channel name (default: demo)")
    parser.add_argument(
        "--frames", type=int, default=20_000, help="frames in the recording round (default 20000)"
    )
    parser.add_argument(
        "--keep", metavar="FOLDER", help="write the log files into FOLDER and keep them"
    )
    args = parser.parse_args(argv)
    ok = run(args.channel)
    print()
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        ok = pipeline(args.keep, args.frames) and ok
    else:
        with tempfile.TemporaryDirectory() as folder:
            ok = pipeline(folder, args.frames) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
