"""The slcan interface (manual section 4.4) against a scripted adapter on a pseudo-terminal,
pyserial's ``loop://`` and python-can 4.x's slcanBus as an independent peer. The real kernel
driver as the peer is in test_slcan_kernel.py."""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import can
from can import Message
from can.interfaces.slcan import decode_line, encode_line, slcanBus


def open_bus(path: str, **kwargs: Any) -> slcanBus:
    kwargs.setdefault("sleep_after_open", 0)
    return slcanBus(path, **kwargs)


class Adapter:
    """A LAWICEL adapter on the device end of a pty: answers commands as the protocol says
    (``\\r`` for OK, BEL for an error, ``z\\r`` for a sent frame), records what it was sent."""

    def __init__(self, fd: int, answers: Optional[dict[bytes, bytes]] = None) -> None:
        self.fd = fd
        self.answers = answers or {}
        self.lines: list[bytes] = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import select

        pending = b""
        while not self._stop:
            if not select.select([self.fd], [], [], 0.05)[0]:
                continue
            try:
                pending += os.read(self.fd, 65536)
            except OSError:
                return
            *lines, pending = pending.split(b"\r")
            for line in lines:
                self.lines.append(line)
                reply = self.answers.get(line)
                if reply is None:
                    reply = self.answers.get(line[:1], b"z\r" if line[:1] in b"tTrRdDbB" else b"\r")
                os.write(self.fd, reply)

    def stop(self) -> None:
        self._stop = True
        self._thread.join(2)


@pytest.fixture
def adapter(pty_device: Any) -> Any:
    a = Adapter(pty_device.fd, {b"V": b"V1013\r", b"N": b"NA1B2\r"})
    yield a
    a.stop()


def wait_lines(adapter: Adapter, count: int) -> list[bytes]:
    deadline = time.monotonic() + 3
    while len(adapter.lines) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return adapter.lines


# -- the lines on the wire -------------------------------------------------------------------

SEND_CASES = [
    (Message(arbitration_id=0x123, data=bytes.fromhex("DEADBEEF"), is_extended_id=False),
     b"t1234DEADBEEF"),
    (Message(arbitration_id=0x7FF, data=b"", is_extended_id=False), b"t7FF0"),
    (Message(arbitration_id=0x12345678, data=b"\x01\x02", is_extended_id=True),
     b"T123456782" b"0102"),
    (Message(arbitration_id=0x123, is_remote_frame=True, dlc=3, is_extended_id=False), b"r1233"),
    (Message(arbitration_id=0x1FFFFFFF, is_remote_frame=True, dlc=8, is_extended_id=True),
     b"R1FFFFFFF8"),
    (Message(arbitration_id=0x123, is_fd=True, data=bytes(range(12)), is_extended_id=False),
     b"d1239" + bytes(range(12)).hex().upper().encode()),
    (Message(arbitration_id=0x123, is_fd=True, bitrate_switch=True, data=bytes(64),
             is_extended_id=True),
     b"B00000123F" + b"00" * 64),
    (Message(arbitration_id=0x42, is_fd=True, data=b"\xaa", is_extended_id=True),
     b"D000000421AA"),
    (Message(arbitration_id=0x42, is_fd=True, bitrate_switch=True, data=bytes(8),
             is_extended_id=False),
     b"b0428" + b"00" * 8),
]  # fmt: skip


@pytest.mark.parametrize(("msg", "line"), SEND_CASES)
def test_lines_sent_for_every_frame_kind(adapter: Adapter, pty_device: Any, msg: Message,
                                         line: bytes) -> None:  # fmt: skip
    with open_bus(pty_device.path) as bus:
        opened = len(wait_lines(adapter, 2))
        bus.send(msg)
        assert wait_lines(adapter, opened + 1)[opened] == line
    assert encode_line(msg) == line + b"\r"


@pytest.mark.parametrize(("msg", "line"), SEND_CASES)
def test_received_lines_decode_to_the_same_message(msg: Message, line: bytes) -> None:
    got = decode_line(line, 0.0)
    assert got.equals(msg, timestamp_delta=None), (got, msg)


def test_every_frame_kind_round_trips_over_loop() -> None:
    # loop:// echoes what the bus writes, including its own C and O, which the reader skips.
    with open_bus("loop://") as bus:
        for msg, _ in SEND_CASES:
            bus.send(msg)
            got = bus.recv(1)
            assert got is not None and got.equals(msg, timestamp_delta=None), (got, msg)
        assert bus.recv(0.05) is None


def test_open_sequence_and_shutdown(adapter: Adapter, pty_device: Any) -> None:
    bus = open_bus(pty_device.path + "@57600", bitrate=250000)
    assert wait_lines(adapter, 3)[:3] == [b"C", b"S5", b"O"]
    assert bus.channel_info.endswith("@57600")
    bus.shutdown()
    assert wait_lines(adapter, 4)[3] == b"C"


@pytest.mark.parametrize(
    ("kwargs", "lines"),
    [
        ({"bitrate": 10000}, [b"C", b"S0", b"O"]),
        ({"bitrate": 1000000, "listen_only": True}, [b"C", b"S8", b"L"]),
        ({"btr": "031c"}, [b"C", b"s031C", b"O"]),
        ({}, [b"C", b"O"]),
    ],
)
def test_bitrate_btr_and_listen_only(
    adapter: Adapter, pty_device: Any, kwargs: dict[str, Any], lines: list[bytes]
) -> None:
    with open_bus(pty_device.path, **kwargs):
        assert wait_lines(adapter, len(lines))[: len(lines)] == lines


class ClassicTiming:
    """What python-can 4.x's BitTiming offers for SJA1000 registers (8 MHz clock, brp 1,
    tseg1 5, tseg2 2, sjw 1: BTR0 = (sjw-1)<<6 | (brp-1), BTR1 = (tseg2-1)<<4 | (tseg1-1))."""

    btr0 = 0x00
    btr1 = 0x14


class FdTiming:
    nom_bitrate = 500000
    data_bitrate = 2000000


def test_timing_objects(adapter: Adapter, pty_device: Any) -> None:
    with open_bus(pty_device.path, timing=ClassicTiming()):
        assert wait_lines(adapter, 3)[:3] == [b"C", b"s0014", b"O"]
    # the close ("C") of that bus arrives before the next bus opens
    assert wait_lines(adapter, 4)[3:] == [b"C"]
    adapter.lines.clear()
    with open_bus(pty_device.path, timing=FdTiming()):
        assert wait_lines(adapter, 4)[:4] == [b"C", b"S6", b"Y2", b"O"]


def test_bitrate_and_btr_together_is_a_value_error(pty_device: Any) -> None:
    with pytest.raises(ValueError, match="bitrate and btr"):
        open_bus(pty_device.path, bitrate=500000, btr="031C")
    with pytest.raises(ValueError, match="12345"):
        open_bus(pty_device.path, bitrate=12345)
    with pytest.raises(ValueError, match="4 hex digits"):
        open_bus(pty_device.path, btr="XYZ1")


def test_tty_baudrate_names(pty_device: Any) -> None:
    with open_bus(pty_device.path, ttyBaudrate=9600) as bus:
        assert bus._port.serial.baudrate == 9600
    with open_bus(pty_device.path, tty_baudrate=19200) as bus:
        assert bus._port.serial.baudrate == 19200
    with open_bus(pty_device.path + "@38400", ttyBaudrate=9600) as bus:
        assert bus._port.serial.baudrate == 38400


def test_version_and_serial_number(adapter: Adapter, pty_device: Any) -> None:
    with open_bus(pty_device.path) as bus:
        assert bus.get_version(2) == (10, 13)
        assert bus.get_serial_number(2) == "A1B2"


def test_frames_arriving_while_asking_for_the_version_are_kept(pty_device: Any) -> None:
    adapter = Adapter(pty_device.fd, {b"V": b"t1231AA\rV0102\rt1231BB\r"})
    try:
        with open_bus(pty_device.path) as bus:
            assert bus.get_version(2) == (1, 2)
            first, second = bus.recv(1), bus.recv(1)
            assert first is not None and bytes(first.data) == b"\xaa"
            assert second is not None and bytes(second.data) == b"\xbb"
    finally:
        adapter.stop()


def test_bel_answers_are_raised(pty_device: Any) -> None:
    # The first BEL answers the C sent at open (the channel was closed): not an error.
    adapter = Adapter(pty_device.fd, {b"C": b"\x07", b"V": b"\x07", b"t": b"\x07"})
    try:
        with open_bus(pty_device.path) as bus:
            with pytest.raises(can.CanOperationError, match="BEL"):
                bus.get_version(2)
            bus.send(Message(arbitration_id=1, is_extended_id=False))
            with pytest.raises(can.CanOperationError, match="BEL"):
                bus.recv(2)
    finally:
        adapter.stop()


def test_a_device_that_never_answers_gives_none_in_time(pty_device: Any) -> None:
    with open_bus(pty_device.path) as bus:
        start = time.monotonic()
        assert bus.get_version(0.2) == (None, None)
        assert bus.get_serial_number(0.2) is None
        assert 0.35 < time.monotonic() - start < 2


def test_partial_lines_are_reassembled_and_merged_lines_split(pty_device: Any) -> None:
    lines = [b"t1234DEADBEEF\r", b"T123456781AA\r", b"r1232\r", b"R123456783\r"]
    with open_bus(pty_device.path) as bus:
        got = []
        for byte in b"".join(lines):
            pty_device.write(bytes([byte]))
            msg = bus.recv(0)
            if msg is not None:
                got.append(msg)
        while len(got) < 4:
            msg = bus.recv(1)
            assert msg is not None
            got.append(msg)
        pty_device.write(b"".join(lines) * 5)
        got += [bus.recv(1) for _ in range(20)]
    assert [m.arbitration_id for m in got if m is not None] == [
        0x123,
        0x12345678,
        0x123,
        0x12345678,
    ] * 6


def test_device_timestamps_are_accepted_and_host_time_used(pty_device: Any) -> None:
    with open_bus(pty_device.path) as bus:
        before = time.time()
        pty_device.write(b"t12320102EA5F\r")
        got = bus.recv(1)
        assert got is not None and bytes(got.data) == b"\x01\x02" and got.dlc == 2
        assert before <= got.timestamp <= time.time()


@pytest.mark.parametrize(
    "line",
    [b"t1239\r", b"t12\r", b"t1232DEAD00\r", b"tXYZ0\r", b"t8000\r", b"T200000000\r",
     b"t1232DEXX\r", b"r1239\r"],
)  # fmt: skip
def test_malformed_lines_are_a_clear_error_and_reading_goes_on(
    pty_device: Any, line: bytes
) -> None:
    with open_bus(pty_device.path) as bus:
        pty_device.write(line + b"t0011AA\r")
        with pytest.raises(can.CanOperationError, match="malformed frame line"):
            bus.recv(1)
        good = bus.recv(1)
        assert good is not None and good.arbitration_id == 1


def test_other_lines_are_skipped(pty_device: Any) -> None:
    with open_bus(pty_device.path) as bus:
        pty_device.write(b"C\rS6\rO\rz\rZ\r\rF00\rt0011AA\r")
        got = bus.recv(1)
        assert got is not None and got.arbitration_id == 1
        assert bus.recv(0.05) is None


def test_recv_timeout_is_honoured(pty_device: Any) -> None:
    with open_bus(pty_device.path) as bus:
        pty_device.write(b"t12")
        start = time.monotonic()
        assert bus.recv(0.2) is None
        assert 0.19 <= time.monotonic() - start < 1.5


def test_messages_slcan_cannot_say_are_value_errors() -> None:
    with open_bus("loop://") as bus:
        for msg, what in [
            (Message(arbitration_id=0x800, is_extended_id=False), "over 0x7FF"),
            (Message(arbitration_id=0x20000000, is_extended_id=True), "over 0x1FFFFFFF"),
            (Message(arbitration_id=1, data=bytes(9)), "0 to 8 bytes"),
            (Message(arbitration_id=1, data=bytes(9), is_fd=True), "not 9"),
            (Message(arbitration_id=1, is_error_frame=True), "error frames"),
            (Message(arbitration_id=1, is_fd=True, is_remote_frame=True), "remote"),
        ]:
            with pytest.raises(ValueError, match=what):
                bus.send(msg)


def test_nonexistent_port_and_empty_channel() -> None:
    with pytest.raises(can.CanInitializationError, match="/dev/nonexistent-tty"):
        open_bus("/dev/nonexistent-tty")
    with pytest.raises(ValueError, match="channel"):
        open_bus("")


def test_sending_to_a_device_that_does_not_read_times_out(pty_device: Any) -> None:
    with open_bus(pty_device.path) as bus:
        msg = Message(arbitration_id=0x123, data=bytes(8), is_extended_id=False)
        start = time.monotonic()
        with pytest.raises(can.CanTimeoutError):
            for _ in range(1_000_000):
                bus.send(msg, timeout=0.1)
        assert time.monotonic() - start < 10


def test_sleep_after_open_is_waited(adapter: Adapter, pty_device: Any) -> None:
    start = time.monotonic()
    with open_bus(pty_device.path, sleep_after_open=0.3):
        assert time.monotonic() - start >= 0.3


def test_config_strings_through_can_bus(adapter: Adapter, pty_device: Any) -> None:
    with can.Bus(
        interface="slcan",
        channel=pty_device.path,
        bitrate="500000",
        sleep_after_open="0",
        rtscts="false",
        poll_interval="0.01",
        ttyBaudrate="115200",
    ) as bus:
        assert isinstance(bus, slcanBus)
        assert wait_lines(adapter, 3)[:3] == [b"C", b"S6", b"O"]


def test_frames_cross_with_python_can_both_ways(
    linked_ptys: tuple[str, str], ref_peer: Any
) -> None:
    ours_path, theirs_path = linked_ptys
    msgs = [m for m, _ in SEND_CASES]
    with open_bus(ours_path) as bus:
        they_got, we_got = ref_peer.exchange("slcan", theirs_path, bus, msgs, msgs)
    expected = [ref_peer.row(m) for m in msgs]
    assert they_got == expected
    assert we_got == expected


@settings(max_examples=200, deadline=None)
@given(
    extended=st.booleans(),
    raw_id=st.integers(0, 0x1FFFFFFF),
    fd=st.booleans(),
    brs=st.booleans(),
    length=st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]),
    seed=st.integers(0, 255),
)
def test_encode_decode_round_trip(
    extended: bool, raw_id: int, fd: bool, brs: bool, length: int, seed: int
) -> None:
    if not fd:
        length = min(length, 8)
    arbitration_id = raw_id if extended else raw_id & 0x7FF
    data = bytes((seed + 13 * i) & 0xFF for i in range(length))
    msg = Message(
        arbitration_id=arbitration_id,
        is_extended_id=extended,
        is_fd=fd,
        bitrate_switch=fd and brs,
        data=data,
    )
    line = encode_line(msg)
    # The line spelled out independently: kind letter, id digits, DLC digit, data in hex.
    kind = ("b" if brs else "d") if fd else "t"
    dlc = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64].index(length)
    ident = f"{arbitration_id:08X}" if extended else f"{arbitration_id:03X}"
    expected = (kind.upper() if extended else kind) + ident + f"{dlc:X}" + data.hex().upper()
    assert line == expected.encode() + b"\r"
    assert decode_line(line[:-1], 0.0).equals(msg, timestamp_delta=None)


def test_socket_url_channel() -> None:
    import socket

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    try:
        with open_bus(f"socket://127.0.0.1:{port}", bitrate=125000) as bus:
            conn, _ = server.accept()
            with conn:
                conn.settimeout(5)
                bus.send(Message(arbitration_id=0x10, data=b"\x01", is_extended_id=False))
                got = b""
                while got.count(b"\r") < 4:
                    got += conn.recv(100)
                assert got == b"C\rS4\rO\rt010101\r"
                conn.sendall(b"T0000ABCD0\r")
                msg = bus.recv(2)
                assert msg is not None and msg.arbitration_id == 0xABCD and msg.is_extended_id
    finally:
        server.close()
