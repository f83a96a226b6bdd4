"""The serial interface (manual section 4.3) over pyserial's ``loop://`` and pseudo-terminals,
with python-can 4.x's SerialBus as an independent peer."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import can
from can import Message
from can.interfaces.serial import SerialBus
from can.interfaces.serial.serial_can import encode_frame

# The manual's three example frames (4.3.2): id 1, timestamp bytes 66 73 00 00.
MANUAL_EXAMPLES = [
    (
        bytes([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]),
        "AA 66 73 00 00 08 01 00 00 00 11 22 33 44 55 66 77 88 BB",
    ),
    (bytes([0x11]), "AA 66 73 00 00 01 01 00 00 00 11 BB"),
    (b"", "AA 66 73 00 00 00 01 00 00 00 BB"),
]
# 0x00007366 = 29542 ms (python-can 4.x counts milliseconds).
MANUAL_TIMESTAMP = 29.542


@pytest.fixture
def loop_bus() -> Any:
    bus = SerialBus("loop://")
    yield bus
    bus.shutdown()


@pytest.mark.parametrize(("data", "wire"), MANUAL_EXAMPLES)
def test_manual_examples_byte_for_byte(loop_bus: SerialBus, data: bytes, wire: str) -> None:
    msg = Message(arbitration_id=1, data=data, timestamp=MANUAL_TIMESTAMP, is_extended_id=False)
    assert encode_frame(msg) == bytes.fromhex(wire)
    loop_bus.send(msg)
    got = loop_bus.recv(1)
    assert got is not None
    assert (got.arbitration_id, got.is_extended_id, bytes(got.data), got.dlc) == (
        1,
        False,
        data,
        len(data),
    )
    assert got.timestamp == pytest.approx(MANUAL_TIMESTAMP)


def test_manual_examples_received_from_a_device(pty_device: Any) -> None:
    with SerialBus(pty_device.path) as bus:
        pty_device.write(b"".join(bytes.fromhex(w) for _, w in MANUAL_EXAMPLES))
        for data, _ in MANUAL_EXAMPLES:
            got = bus.recv(2)
            assert got is not None and bytes(got.data) == data and got.arbitration_id == 1


FRAME_KINDS = [
    Message(arbitration_id=0x7FF, data=b"\x01\x02", is_extended_id=False, timestamp=1.0),
    Message(arbitration_id=0x1FFFFFFF, data=bytes(8), is_extended_id=True, timestamp=2.5),
    Message(arbitration_id=0x123, is_remote_frame=True, dlc=4, is_extended_id=False),
    Message(arbitration_id=0x1234567, is_remote_frame=True, dlc=8, is_extended_id=True),
    Message(arbitration_id=0x0, is_error_frame=True, data=bytes(8), is_extended_id=False),
]


def test_every_frame_kind_round_trips_over_loop(loop_bus: SerialBus) -> None:
    for msg in FRAME_KINDS:
        loop_bus.send(msg)
        got = loop_bus.recv(1)
        assert got is not None
        assert got.equals(msg, timestamp_delta=0.0005), (got, msg)
    # A remote frame carries no payload bytes: 11 bytes on the wire whatever its DLC.
    assert len(encode_frame(FRAME_KINDS[2])) == 11


@settings(max_examples=60, deadline=None)
@given(
    st.booleans(),
    st.integers(0, 0x7FF),
    st.binary(max_size=8),
    st.integers(0, 0xFFFFFFFF),
)
def test_round_trip_over_a_pty(extended: bool, low_id: int, data: bytes, ms: int) -> None:
    msg = Message(
        arbitration_id=low_id << 18 if extended else low_id,
        is_extended_id=extended,
        data=data,
        timestamp=ms / 1000,
    )
    master, slave = os.openpty()
    try:
        with SerialBus(os.ttyname(slave)) as bus:
            bus.send(msg)
            wire = os.read(master, 100)
            assert wire == encode_frame(msg)
            os.write(master, wire)
            got = bus.recv(2)
            # Milliseconds are cut to an integer as python-can 4.x does (int(), not round()):
            # 32.571 s is 32570.99... ms, sent as 32570.
            assert got is not None and got.equals(msg, timestamp_delta=0.00101)
            assert got.timestamp == int(msg.timestamp * 1000) / 1000
    finally:
        os.close(master)
        os.close(slave)


def test_frames_split_into_single_bytes_and_merged(pty_device: Any) -> None:
    msgs = [
        Message(arbitration_id=i, data=bytes(range(i % 9)), is_extended_id=False, timestamp=i)
        for i in range(20)
    ]
    wire = b"".join(encode_frame(m) for m in msgs)
    with SerialBus(pty_device.path) as bus:
        # the first ten a byte at a time, each byte its own read
        first = b"".join(encode_frame(m) for m in msgs[:10])
        got = []
        for b in first:
            pty_device.write(bytes([b]))
            msg = bus.recv(0)
            if msg is not None:
                got.append(msg)
        while len(got) < 10:
            msg = bus.recv(1)
            assert msg is not None
            got.append(msg)
        # the other ten in one write
        pty_device.write(wire[len(first) :])
        got += [bus.recv(1) for _ in range(10)]
    assert [m.arbitration_id for m in got if m is not None] == list(range(20))
    assert all(m is not None and bytes(m.data) == bytes(range(m.arbitration_id % 9)) for m in got)


def test_garbage_before_a_start_byte_is_skipped(pty_device: Any) -> None:
    good = encode_frame(Message(arbitration_id=5, data=b"\x42", is_extended_id=False))
    with SerialBus(pty_device.path) as bus:
        pty_device.write(b"boot v1.2\r\n\x00\xff" + good + b"\x10\x20" + good)
        for _ in range(2):
            got = bus.recv(1)
            assert got is not None and got.arbitration_id == 5 and bytes(got.data) == b"\x42"
        assert bus.recv(0.05) is None


def test_wrong_end_byte_is_reported_and_reading_goes_on(pty_device: Any) -> None:
    good = encode_frame(Message(arbitration_id=7, data=b"\x01", is_extended_id=False))
    bad = good[:-1] + b"\xcc"
    with SerialBus(pty_device.path) as bus:
        pty_device.write(bad + good)
        with pytest.raises(can.CanOperationError, match="end byte 0xCC instead of 0xBB"):
            bus.recv(1)
        got = bus.recv(1)
        assert got is not None and got.arbitration_id == 7
        assert bus.recv(0.05) is None


def test_dlc_over_8_is_reported(pty_device: Any) -> None:
    with SerialBus(pty_device.path) as bus:
        pty_device.write(bytes.fromhex("AA 00 00 00 00 09 01 00 00 00") + bytes(9) + b"\xbb")
        with pytest.raises(can.CanOperationError, match="DLC 9 is over 8"):
            bus.recv(1)


def test_recv_timeout_is_honoured_with_a_partial_frame(pty_device: Any) -> None:
    frame = encode_frame(Message(arbitration_id=3, data=b"\x09", is_extended_id=False))
    with SerialBus(pty_device.path) as bus:
        pty_device.write(frame[:5])
        start = time.monotonic()
        assert bus.recv(0.2) is None
        waited = time.monotonic() - start
        assert 0.19 <= waited < 1.5
        assert bus.recv(0) is None
        pty_device.write(frame[5:])
        got = bus.recv(1)
        assert got is not None and got.arbitration_id == 3


def test_invalid_messages_are_refused(loop_bus: SerialBus) -> None:
    with pytest.raises(ValueError, match="over 0x7FF"):
        loop_bus.send(Message(arbitration_id=0x800, is_extended_id=False))
    with pytest.raises(ValueError, match="0 to 8 data bytes"):
        loop_bus.send(Message(arbitration_id=1, data=bytes(12), is_fd=True))
    with pytest.raises(ValueError, match="timestamp"):
        loop_bus.send(Message(arbitration_id=1, timestamp=-1.0))
    with pytest.raises(ValueError, match="timestamp"):
        loop_bus.send(Message(arbitration_id=1, timestamp=5_000_000.0))
    with pytest.raises(ValueError, match="timestamp"):
        loop_bus.send(Message(arbitration_id=1, timestamp=float("inf")))
    with pytest.raises(ValueError, match="0x1FFFFFFF"):
        loop_bus.send(Message(arbitration_id=0x20000000, is_extended_id=True))


def test_send_to_a_device_that_does_not_read_times_out(pty_device: Any) -> None:
    with SerialBus(pty_device.path, timeout=0.1) as bus:
        msg = Message(arbitration_id=1, data=bytes(8), is_extended_id=False)
        start = time.monotonic()
        with pytest.raises(can.CanTimeoutError):
            for _ in range(1_000_000):
                bus.send(msg)
        assert time.monotonic() - start < 10
        # The device reads again: the stream holds whole frames only, none cut.
        wire = pty_device.read_available()
        bus.send(msg)
        wire += pty_device.read_available()
        frame = encode_frame(msg)
        assert len(wire) % len(frame) == 0
        assert wire == frame * (len(wire) // len(frame))


def test_nonexistent_port_is_an_initialization_error() -> None:
    with pytest.raises(can.CanInitializationError, match="/dev/nonexistent-tty"):
        SerialBus("/dev/nonexistent-tty")
    with pytest.raises(ValueError, match="channel"):
        SerialBus("")


def test_device_gone_is_an_operation_error_not_a_hang() -> None:
    master, slave = os.openpty()
    bus = SerialBus(os.ttyname(slave))
    try:
        os.close(master)
        with pytest.raises(can.CanOperationError, match="went away"):
            bus.recv(2)
    finally:
        bus.shutdown()
        os.close(slave)


def test_shutdown_wakes_a_blocked_receiver(pty_device: Any) -> None:
    bus = SerialBus(pty_device.path)
    errors: list[BaseException] = []

    def receive() -> None:
        try:
            bus.recv(None)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=receive)
    thread.start()
    time.sleep(0.1)
    bus.shutdown()
    thread.join(3)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], can.CanOperationError)


def test_fileno_becomes_readable_when_a_frame_arrives(pty_device: Any) -> None:
    with SerialBus(pty_device.path) as bus:
        fd = bus.fileno()
        assert select.select([fd], [], [], 0)[0] == []
        pty_device.write(encode_frame(Message(arbitration_id=2, is_extended_id=False)))
        assert select.select([fd], [], [], 2)[0] == [fd]
        assert bus.recv(0) is not None
    with SerialBus("loop://") as bus, pytest.raises(NotImplementedError):
        bus.fileno()


def test_created_through_can_bus_with_config_strings() -> None:
    with can.Bus(interface="serial", channel="loop://", baudrate="9600") as bus:
        assert isinstance(bus, SerialBus)
        assert bus.channel_info == "Serial interface: loop://"
    assert isinstance(can.detect_available_configs("serial"), list)


def test_frames_cross_with_python_can_both_ways(
    linked_ptys: tuple[str, str], ref_peer: Any
) -> None:
    ours_path, theirs_path = linked_ptys
    # python-can 4.x reads DLC payload bytes even for a remote frame, so remote frames with
    # a DLC go only from it to us.
    ours = [m for m in FRAME_KINDS if not m.is_remote_frame]
    theirs = FRAME_KINDS
    with SerialBus(ours_path) as bus:
        they_got, we_got = ref_peer.exchange("serial", theirs_path, bus, ours, theirs)
    assert they_got == [ref_peer.row(m) for m in ours]
    assert we_got == [ref_peer.row(m) for m in theirs]


@pytest.mark.parametrize("interface", ["serial", "slcan"])
def test_without_pyserial_the_error_names_the_extra(interface: str) -> None:
    code = (
        "import sys; sys.modules['serial'] = None\n"
        "import can\n"
        "try:\n"
        f"    can.Bus(interface={interface!r}, channel='loop://')\n"
        "except can.CanInterfaceNotImplementedError as exc:\n"
        "    print('ERR', exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.startswith("ERR "), out.stdout + out.stderr
    assert "pip install can[serial]" in out.stdout
    assert interface in out.stdout


def test_socket_url_channel() -> None:
    import socket

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    try:
        with SerialBus(f"socket://127.0.0.1:{port}") as bus:
            conn, _ = server.accept()
            with conn:
                conn.settimeout(5)
                msg = Message(arbitration_id=0x321, data=b"\x05\x06", is_extended_id=False)
                bus.send(msg)
                assert conn.recv(100) == encode_frame(msg)
                conn.sendall(b"\x00" + encode_frame(msg)[:7])
                assert bus.recv(0.05) is None
                conn.sendall(encode_frame(msg)[7:])
                got = bus.recv(2)
                assert got is not None and got.equals(msg, timestamp_delta=None)
            # The peer closed the connection: an error, not a hang.
            with pytest.raises(can.CanOperationError, match="went away"):
                bus.recv(2)
    finally:
        server.close()
