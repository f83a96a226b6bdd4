"""Sending on the serial and slcan interfaces over a pseudo-terminal: the native writer's bytes
against the Python encoders (which the interface tests check against the manual and
python-can), whole frames when a send is interrupted or the port closed, several threads."""

from __future__ import annotations

import os
import random
import select
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any, Callable

import pytest

import can
from can import Message
from can.interfaces.serial.serial_can import SerialBus, encode_frame
from can.interfaces.slcan import encode_line, slcanBus

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX")

ENCODERS: dict[str, Callable[[Message], bytes]] = {"slcan": encode_line, "serial": encode_frame}


def open_bus(interface: str, path: str, **kwargs: Any) -> Any:
    if interface == "slcan":
        return slcanBus(path, sleep_after_open=0, **kwargs)
    return SerialBus(path, **kwargs)


@pytest.fixture(params=["slcan", "serial"])
def interface(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def random_messages(seed: int, count: int) -> Iterator[Message]:
    """Messages of every kind, also ones a framing cannot carry and fields of unusual types
    (which take the Python encoder)."""
    rnd = random.Random(seed)
    fd_lengths = [0, 1, 7, 8, 9, 12, 16, 20, 24, 32, 33, 48, 64]
    for i in range(count):
        extended = rnd.random() < 0.5
        if rnd.random() < 0.9:
            arbitration_id = rnd.randrange(0x20000000 if extended else 0x800)
        else:
            arbitration_id = rnd.choice([0x7FF, 0x800, 0x1FFFFFFF, 0x20000000, 0xFFFFFFFF])
        is_fd = rnd.random() < 0.25
        remote = rnd.random() < 0.15
        length = rnd.choice(fd_lengths) if is_fd else rnd.choice([0, 1, 2, 5, 8, 8, 9])
        data = bytes(rnd.randrange(256) for _ in range(length))
        timestamp = rnd.choice(
            [0.0, 29.542, rnd.uniform(0, 4_294_967.2), -0.0004, -1.0, 5e6, float("nan")]
        )
        msg = Message(
            arbitration_id=arbitration_id,
            is_extended_id=extended,
            is_remote_frame=remote,
            is_error_frame=rnd.random() < 0.05,
            is_fd=is_fd,
            bitrate_switch=is_fd and rnd.random() < 0.5,
            dlc=rnd.randrange(10) if remote else None,
            data=data,
            timestamp=timestamp,
        )
        if i % 17 == 0:
            msg.data = data  # bytes instead of the bytearray Message makes
        if i % 19 == 0:
            msg.timestamp = int(timestamp) if timestamp == timestamp else 0
        yield msg


def test_native_writer_sends_exactly_what_the_python_encoder_says(
    interface: str, pty_device: Any
) -> None:
    encode = ENCODERS[interface]
    with open_bus(interface, pty_device.path) as bus:
        pty_device.read_available(0.05)  # the slcan bus's C and O
        for msg in random_messages(14, 3000):
            try:
                want = encode(msg)
            except ValueError as exc:
                with pytest.raises(ValueError) as info:
                    bus.send(msg, timeout=1)
                assert str(info.value) == str(exc)
                continue
            bus.send(msg, timeout=1)
            # send() returns once the bytes are handed to the OS: they are there to read now.
            got = b""
            while len(got) < len(want):
                chunk = os.read(pty_device.fd, 65536)
                assert chunk, f"the device got {got!r} of {want!r}"
                got += chunk
            assert got == want, msg


class Interrupted(Exception):
    pass


def test_a_signal_during_a_send_wait_leaves_only_whole_frames(
    interface: str, pty_device: Any
) -> None:
    # Frames of a length that does not divide the terminal's buffer, so that the frame that
    # fills it is usually written in part before the sender waits for room.
    def frame(i: int) -> Message:
        if interface == "slcan":
            return Message(arbitration_id=i, data=bytes([i & 0xFF]) * 64, is_fd=True)
        return Message(arbitration_id=i, data=bytes([i & 0xFF]) * 7, timestamp=1.0)

    encode = ENCODERS[interface]
    bus = open_bus(
        interface, pty_device.path, **({} if interface == "slcan" else {"timeout": None})
    )

    def interrupt(signum: int, _frame: Any) -> None:
        raise Interrupted

    old = signal.signal(signal.SIGALRM, interrupt)
    sent: list[Message] = []
    try:
        pty_device.read_available(0.05)
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        stuck = None
        with pytest.raises(Interrupted):
            for i in range(1_000_000):
                stuck = frame(i)
                bus.send(stuck, timeout=None)  # the device does not read: waits for room
                sent.append(stuck)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    try:
        assert stuck is not None and sent, "the terminal took no frame at all"
        wire = pty_device.read_available()
        marker = Message(arbitration_id=0x7AB, data=b"\xee", is_extended_id=False)
        bus.send(marker, timeout=2)
        wire += pty_device.read_available()
    finally:
        bus.shutdown()
    whole = b"".join(encode(m) for m in sent)
    # The interrupted frame went out completely (its rest first) or not at all: never cut.
    assert wire in (whole + encode(marker), whole + encode(stuck) + encode(marker))


def test_shutdown_ends_a_send_waiting_for_room(pty_device: Any) -> None:
    bus = SerialBus(pty_device.path, timeout=None)
    errors: list[BaseException] = []
    msg = Message(arbitration_id=1, data=bytes(8), is_extended_id=False)

    def sender() -> None:
        try:
            while True:
                bus.send(msg)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    time.sleep(0.2)  # the terminal is full by now and the sender waits
    assert thread.is_alive()
    start = time.monotonic()
    bus.shutdown()
    thread.join(5)
    assert not thread.is_alive()
    assert time.monotonic() - start < 2
    assert len(errors) == 1 and isinstance(errors[0], can.CanOperationError), errors


def test_frames_of_several_threads_are_never_mixed(interface: str, pty_device: Any) -> None:
    encode = ENCODERS[interface]
    per_thread = 400
    with open_bus(interface, pty_device.path) as bus:
        pty_device.read_available(0.05)
        msgs = {
            t: [
                Message(arbitration_id=t, data=bytes([t, n & 0xFF, n >> 8]), is_extended_id=False)
                for n in range(per_thread)
            ]
            for t in range(4)
        }
        failures: list[BaseException] = []

        def sender(t: int) -> None:
            try:
                for m in msgs[t]:
                    bus.send(m, timeout=5)
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=sender, args=(t,)) for t in msgs]
        for th in threads:
            th.start()
        # A slow device: small reads, so that senders keep waiting for room.
        wire = b""
        total = sum(len(encode(m)) for ms in msgs.values() for m in ms)
        deadline = time.monotonic() + 30
        while len(wire) < total and time.monotonic() < deadline:
            if select.select([pty_device.fd], [], [], 0.5)[0]:
                wire += os.read(pty_device.fd, 97)
        for th in threads:
            th.join(10)
        assert not failures
    frame_len = len(encode(msgs[0][0]))
    assert len(wire) == total
    frames = [wire[i : i + frame_len] for i in range(0, total, frame_len)]
    for t, ms in msgs.items():
        want = [encode(m) for m in ms]
        assert [f for f in frames if f in set(want)] == want, f"thread {t}"
    assert sorted(frames) == sorted(encode(m) for ms in msgs.values() for m in ms)
