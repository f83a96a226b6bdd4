"""The slcan interface against Linux's own slcan driver as the independent peer.

In a real kernel (``tests/run_socketcan.sh`` boots one through ``kernel-run.sh`` and runs this
file with the SocketCAN suite), socat makes a linked pseudo-terminal pair, can-utils' ``slcand``
attaches the kernel's ``slcan`` line discipline to one end (network interface ``slcan0``), and
our :class:`can.interfaces.slcan.slcanBus` opens the other end. The kernel then plays the
adapter: what we send must appear on ``slcan0`` exactly (checked with ``candump -L``), and what
``cansend``/``cangen`` put on ``slcan0`` must arrive in our bus exactly.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Optional

import pytest

import can
from can import Message

IN_KERNEL_BED = Path("/sys/class/net/vcan0").exists()
TOOLS = ("slcand", "cansend", "candump", "cangen", "socat", "ip")
MISSING = [t for t in TOOLS if not shutil.which(t)]

pytestmark = [
    pytest.mark.skipif(
        not IN_KERNEL_BED,
        reason="not inside the kernel test bed: run tests/run_socketcan.sh (it boots a real "
        "kernel through kernel-run.sh)",
    ),
    pytest.mark.skipif(bool(MISSING), reason=f"missing tools: {', '.join(MISSING)}"),
]

IFACE = "slcan0"
CANDUMP_LINE = re.compile(r"^\(\d+\.\d+\) (\S+) (\S+)$")


def candump_text(msg: Message) -> str:
    """How ``candump -L`` writes ``msg`` (can-utils lib.c, classic frames)."""
    ident = f"{msg.arbitration_id:08X}" if msg.is_extended_id else f"{msg.arbitration_id:03X}"
    if msg.is_remote_frame:
        return f"{ident}#R" + (f"{msg.dlc:X}" if msg.dlc else "")
    return f"{ident}#{bytes(msg.data).hex().upper()}"


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class Candump:
    """``candump -L`` on the interface, its output drained by a thread as it comes (a full pipe
    would block candump and lose frames)."""

    def __init__(self, iface: str) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            ["candump", "-L", "-r", "33554432", iface],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            found = CANDUMP_LINE.match(line.strip())
            if found:
                self.lines.append(found.group(2))

    def wait_ready(self, marker: str = "7FF#C0FFEE") -> None:
        """Send a marker frame until candump shows it, so no later frame is missed."""
        deadline = time.monotonic() + 10
        while marker not in self.lines:
            if time.monotonic() > deadline:
                raise AssertionError("candump did not start")
            subprocess.run(["cansend", IFACE, marker], check=True)
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._thread.join(5)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The kernel's slcan driver on one end of a pty pair; yields the other end's path."""
    where = tmp_path_factory.mktemp("slcan")
    kernel_end, our_end = where / "kernel", where / "ours"
    socat = subprocess.Popen(
        [
            "socat",
            f"pty,raw,echo=0,link={kernel_end}",
            f"pty,raw,echo=0,link={our_end}",
        ],
        stderr=subprocess.DEVNULL,
    )
    slcand: Optional[subprocess.Popen[bytes]] = None
    try:
        wait_for(lambda: kernel_end.exists() and our_end.exists(), 10, "socat's ptys")
        # slcand puts /dev/ in front of a name that does not start with it: give the real one.
        tty = os.path.realpath(kernel_end)
        slcand = subprocess.Popen(["slcand", "-o", "-c", "-s6", "-F", tty, IFACE])
        wait_for(lambda: Path(f"/sys/class/net/{IFACE}").exists(), 15, f"{IFACE} to appear")
        subprocess.run(["ip", "link", "set", IFACE, "up"], check=True)
        yield str(our_end)
    finally:
        if slcand is not None:
            slcand.terminate()
            slcand.wait(10)
        socat.terminate()
        socat.wait(10)


@pytest.fixture
def bus(peer: str) -> Iterator[can.BusABC]:
    b = can.Bus(interface="slcan", channel=peer, bitrate=500000, sleep_after_open=0)
    try:
        yield b
    finally:
        b.shutdown()


def drain(b: can.BusABC) -> None:
    while b.recv(0.05) is not None:
        pass


SAMPLES = [
    Message(arbitration_id=0x123, data=bytes.fromhex("DEADBEEF"), is_extended_id=False),
    Message(arbitration_id=0x000, data=b"", is_extended_id=False),
    Message(arbitration_id=0x7FF, data=bytes(range(8)), is_extended_id=False),
    Message(arbitration_id=0x12345678, data=b"\x01", is_extended_id=True),
    Message(arbitration_id=0x1FFFFFFF, data=bytes(8), is_extended_id=True),
    Message(arbitration_id=0x456, is_remote_frame=True, dlc=0, is_extended_id=False),
    Message(arbitration_id=0x0ABCDEF0, is_remote_frame=True, dlc=0, is_extended_id=True),
]


def test_frames_we_send_appear_on_slcan0_as_sent(bus: can.BusABC) -> None:
    dump = Candump(IFACE)
    try:
        dump.wait_ready()
        start = len(dump.lines)
        for msg in SAMPLES:
            bus.send(msg)
        wait_for(lambda: len(dump.lines) >= start + len(SAMPLES), 10, "candump")
    finally:
        dump.stop()
    assert dump.lines[start:] == [candump_text(m) for m in SAMPLES]
    assert dump.lines[start] == "123#DEADBEEF"


def test_cansend_frames_arrive_in_our_bus(bus: can.BusABC) -> None:
    drain(bus)
    for text in ("123#DEADBEEF", "12345678#R", "7FF#", "1FFFFFFF#0011223344556677", "001#R"):
        subprocess.run(["cansend", IFACE, text], check=True)
    got = [bus.recv(5) for _ in range(5)]
    assert all(m is not None for m in got)
    m0, m1, m2, m3, m4 = got
    assert m0 is not None and m1 is not None and m2 is not None and m3 is not None
    assert m4 is not None
    assert (m0.arbitration_id, m0.is_extended_id, bytes(m0.data)) == (
        0x123,
        False,
        bytes.fromhex("DEADBEEF"),
    )
    assert (m1.arbitration_id, m1.is_extended_id, m1.is_remote_frame, m1.dlc) == (
        0x12345678,
        True,
        True,
        0,
    )
    assert (m2.arbitration_id, m2.dlc, bytes(m2.data)) == (0x7FF, 0, b"")
    assert (m3.arbitration_id, m3.is_extended_id, bytes(m3.data)) == (
        0x1FFFFFFF,
        True,
        bytes.fromhex("0011223344556677"),
    )
    assert (m4.arbitration_id, m4.is_extended_id, m4.is_remote_frame) == (0x001, False, True)
    assert bus.recv(0.1) is None


N_FLOOD = 20_000


def flood(n: int) -> list[Message]:
    out = []
    for i in range(n):
        extended = i % 4 == 0
        out.append(
            Message(
                arbitration_id=(i * 7919) & (0x1FFFFFFF if extended else 0x7FF),
                is_extended_id=extended,
                data=bytes((i >> s) & 0xFF for s in (0, 8, 16))[: i % 4],
            )
        )
    return out


def test_20000_frames_we_send_all_arrive_in_order(bus: can.BusABC) -> None:
    frames = flood(N_FLOOD)
    dump = Candump(IFACE)
    try:
        dump.wait_ready()
        start = len(dump.lines)
        for msg in frames:
            bus.send(msg)
        wait_for(lambda: len(dump.lines) >= start + N_FLOOD, 60, f"{N_FLOOD} frames in candump")
        time.sleep(0.2)  # and nothing more
    finally:
        dump.stop()
    assert dump.lines[start:] == [candump_text(m) for m in frames]


def test_20000_frames_cangen_sends_all_arrive_in_order(bus: can.BusABC) -> None:
    drain(bus)
    dump = Candump(IFACE)
    try:
        dump.wait_ready()
        drain(bus)  # the marker frames
        start = len(dump.lines)
        cangen = subprocess.Popen(
            ["cangen", IFACE, "-g", "0", "-p", "10", "-I", "i", "-L", "8", "-D", "i", "-e",
             "-n", str(N_FLOOD)]
        )  # fmt: skip
        got: list[str] = []
        deadline = time.monotonic() + 60
        while len(got) < N_FLOOD and time.monotonic() < deadline:
            msg = bus.recv(2)
            if msg is not None:
                got.append(candump_text(msg))
        assert cangen.wait(30) == 0
        assert bus.recv(0.2) is None
        wait_for(lambda: len(dump.lines) >= start + N_FLOOD, 30, "candump")
    finally:
        dump.stop()
    assert len(got) == N_FLOOD
    assert got == dump.lines[start : start + N_FLOOD]
