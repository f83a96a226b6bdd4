"""The generic bus suite: what every interface must do, written once.

A backend's test module runs it by subclassing :class:`BusContract` in a ``Test...`` class and
defining :meth:`BusContract.open_pair` (two buses on one channel that see each other's frames:
two virtual buses, two handles of a simulated vendor library, ...). The class attributes say
what the interface can carry; a test of something it cannot carry is not collected as passed
but skipped with the reason, so a reader sees exactly what each backend was held to.

The expected values are the manual's (section 3.1 Message, 3.2 Bus): frames arrive as sent,
in order, with host timestamps; ``recv(timeout)`` honours its timeout; filters of the manual's
``can_id``/``can_mask``/``extended`` form select frames; a shut-down bus refuses work.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

import can
from can import Message


def _same(sent: Message, got: Message) -> None:
    assert got.arbitration_id == sent.arbitration_id
    assert got.is_extended_id == sent.is_extended_id
    assert got.is_remote_frame == sent.is_remote_frame
    assert got.is_fd == sent.is_fd
    assert got.dlc == sent.dlc
    if sent.is_fd:
        assert got.bitrate_switch == sent.bitrate_switch
    if not sent.is_remote_frame:
        assert bytes(got.data) == bytes(sent.data)


def _recv(bus: can.BusABC, timeout: float = 2.0) -> Message:
    msg = bus.recv(timeout)
    assert msg is not None, f"nothing received within {timeout} s"
    return msg


class BusContract:
    """Subclass as ``class TestXContract(BusContract)`` and define :meth:`open_pair`."""

    #: The interface carries CAN FD frames (and bitrate switch).
    supports_fd: ClassVar[bool] = False
    #: The interface carries remote frames.
    supports_remote: ClassVar[bool] = True
    #: Frames sent in one burst that must all arrive, in order, without the receiver reading
    #: in between (the receive queue the interface promises).
    burst: ClassVar[int] = 200
    #: Frames sent while the receiver reads concurrently.
    stream: ClassVar[int] = 5000
    #: Timestamps record when a frame was on the bus (device or send time), not when the
    #: receiver happened to read it; False for drivers that give no time at all.
    timestamps_at_arrival: ClassVar[bool] = True

    def open_pair(self, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
        """Two open buses on one channel; ``kwargs`` go to both constructors."""
        raise NotImplementedError

    @pytest.fixture
    def pair(self) -> Iterator[tuple[can.BusABC, can.BusABC]]:
        a, b = self.open_pair()
        try:
            yield a, b
        finally:
            a.shutdown()
            b.shutdown()

    # -- frames ------------------------------------------------------------------------------

    @pytest.mark.parametrize(
        "sent",
        [
            Message(arbitration_id=0x123, is_extended_id=False, data=b"\x01\x02\x03"),
            Message(arbitration_id=0x7FF, is_extended_id=False, data=bytes(range(8))),
            Message(arbitration_id=0x000, is_extended_id=False, data=b""),
            Message(arbitration_id=0x1ABCDEF0, is_extended_id=True, data=b"\xff" * 8),
            Message(arbitration_id=0x00000001, is_extended_id=True, data=b"\x00"),
        ],
        ids=["std", "std-max", "empty", "ext", "ext-low"],
    )
    def test_contract_frames_arrive_as_sent(
        self, pair: tuple[can.BusABC, can.BusABC], sent: Message
    ) -> None:
        a, b = pair
        a.send(sent)
        _same(sent, _recv(b))

    def test_contract_remote_frames(self, pair: tuple[can.BusABC, can.BusABC]) -> None:
        if not self.supports_remote:
            pytest.skip("the interface carries no remote frames")
        a, b = pair
        for sent in (
            Message(arbitration_id=0x321, is_extended_id=False, is_remote_frame=True, dlc=3),
            Message(arbitration_id=0x1234567, is_extended_id=True, is_remote_frame=True, dlc=8),
        ):
            a.send(sent)
            _same(sent, _recv(b))

    def test_contract_fd_frames(self, pair: tuple[can.BusABC, can.BusABC]) -> None:
        if not self.supports_fd:
            pytest.skip("the interface carries no CAN FD frames")
        a, b = pair
        for sent in (
            Message(arbitration_id=0x10, is_fd=True, bitrate_switch=True, data=bytes(range(64))),
            Message(arbitration_id=0x11, is_fd=True, data=bytes(range(12)), is_extended_id=True),
            Message(arbitration_id=0x12, is_fd=True, data=b"\x55" * 8, is_extended_id=False),
        ):
            a.send(sent)
            _same(sent, _recv(b))

    def test_contract_burst_in_order(self, pair: tuple[can.BusABC, can.BusABC]) -> None:
        a, b = pair
        for i in range(self.burst):
            a.send(
                Message(arbitration_id=i & 0x7FF, is_extended_id=False, data=i.to_bytes(4, "big"))
            )
        for i in range(self.burst):
            got = _recv(b)
            assert (got.arbitration_id, bytes(got.data)) == (i & 0x7FF, i.to_bytes(4, "big"))
        assert b.recv(0.05) is None

    def test_contract_stream_with_a_concurrent_reader(
        self, pair: tuple[can.BusABC, can.BusABC]
    ) -> None:
        a, b = pair
        got: list[int] = []

        def read() -> None:
            while len(got) < self.stream:
                msg = b.recv(2.0)
                if msg is None:
                    return
                got.append(int.from_bytes(msg.data, "big"))

        reader = threading.Thread(target=read)
        reader.start()
        for i in range(self.stream):
            a.send(Message(arbitration_id=0x1F, is_extended_id=True, data=i.to_bytes(4, "big")))
            # A real bus paces the sender; here the sender waits while the reader is far
            # behind, so no receive queue overruns however fast one side is.
            while i - len(got) > 256 and reader.is_alive():
                time.sleep(0.0005)
        reader.join(30)
        assert got == list(range(self.stream))

    # -- time --------------------------------------------------------------------------------

    def test_contract_recv_honours_its_timeout(self, pair: tuple[can.BusABC, can.BusABC]) -> None:
        _, b = pair
        start = time.perf_counter()
        assert b.recv(0) is None
        assert time.perf_counter() - start < 0.5
        start = time.perf_counter()
        assert b.recv(0.1) is None
        assert 0.09 <= time.perf_counter() - start < 1.5

    def test_contract_timestamps_are_host_time_and_ordered(
        self, pair: tuple[can.BusABC, can.BusABC]
    ) -> None:
        a, b = pair
        before = time.time()
        for i in range(20):
            a.send(Message(arbitration_id=i, is_extended_id=False, data=b""))
            time.sleep(0.001)
        after = time.time()
        stamps = [_recv(b).timestamp for _ in range(20)]
        assert stamps == sorted(stamps)
        assert before - 0.5 <= stamps[0] and stamps[-1] <= after + 0.5
        if self.timestamps_at_arrival:
            # 20 sends at least 1 ms apart cannot share one timestamp.
            assert stamps[-1] - stamps[0] >= 0.015

    def test_contract_a_blocked_recv_lets_other_threads_run(
        self, pair: tuple[can.BusABC, can.BusABC]
    ) -> None:
        a, b = pair
        result: list[Any] = []
        waiter = threading.Thread(target=lambda: result.append(b.recv(3.0)))
        waiter.start()
        # Busy Python work in this thread while the other waits: with the GIL held by the
        # waiter this loop would stall for the whole wait.
        start = time.perf_counter()
        spins = 0
        while time.perf_counter() - start < 0.2:
            spins += 1
        assert spins > 1000
        a.send(Message(arbitration_id=0x55, is_extended_id=False, data=b"\x01"))
        waiter.join(3.0)
        assert result and result[0] is not None and result[0].arbitration_id == 0x55

    # -- filters -----------------------------------------------------------------------------

    def test_contract_filters_select_frames(self, pair: tuple[can.BusABC, can.BusABC]) -> None:
        a, b = pair
        b.set_filters([{"can_id": 0x120, "can_mask": 0x7F0, "extended": False}])
        frames = [
            Message(arbitration_id=0x123, is_extended_id=False, data=b"\x01"),
            Message(arbitration_id=0x133, is_extended_id=False, data=b"\x02"),
            Message(arbitration_id=0x123, is_extended_id=True, data=b"\x03"),
            Message(arbitration_id=0x12F, is_extended_id=False, data=b"\x04"),
        ]
        for msg in frames:
            a.send(msg)
        kept = []
        while (msg := b.recv(0.2)) is not None:
            kept.append(bytes(msg.data))
        assert kept == [b"\x01", b"\x04"]
        b.set_filters(None)
        for msg in frames:
            a.send(msg)
        assert [bytes(_recv(b).data) for _ in frames] == [b"\x01", b"\x02", b"\x03", b"\x04"]

    def test_contract_extended_filter(self, pair: tuple[can.BusABC, can.BusABC]) -> None:
        a, b = pair
        b.set_filters([{"can_id": 0x18FF0000, "can_mask": 0x1FFF0000, "extended": True}])
        a.send(Message(arbitration_id=0x18FF1234, is_extended_id=True, data=b"\x01"))
        a.send(Message(arbitration_id=0x18FE1234, is_extended_id=True, data=b"\x02"))
        a.send(Message(arbitration_id=0x7FF, is_extended_id=False, data=b"\x03"))
        a.send(Message(arbitration_id=0x18FF0001, is_extended_id=True, data=b"\x04"))
        kept = []
        while (msg := b.recv(0.2)) is not None:
            kept.append(bytes(msg.data))
        assert kept == [b"\x01", b"\x04"]

    # -- life cycle --------------------------------------------------------------------------

    def test_contract_shutdown_is_idempotent_and_final(self) -> None:
        a, b = self.open_pair()
        b.shutdown()
        a.shutdown()
        a.shutdown()
        with pytest.raises(can.CanError):
            a.send(Message(arbitration_id=1, is_extended_id=False))
        with pytest.raises(can.CanError):
            a.recv(0)

    def test_contract_context_manager_and_iteration(self) -> None:
        a, b = self.open_pair()
        with a, b:
            a.send(Message(arbitration_id=7, is_extended_id=False, data=b"\x07"))
            assert next(iter(b)).arbitration_id == 7
        with pytest.raises(can.CanError):
            b.recv(0)

    def test_contract_send_periodic(self, pair: tuple[can.BusABC, can.BusABC]) -> None:
        a, b = pair
        task = a.send_periodic(
            Message(arbitration_id=0x99, is_extended_id=False, data=b"\x09"), 0.01
        )
        deadline = time.monotonic() + 2.0
        count = 0
        while count < 5 and time.monotonic() < deadline:
            msg = b.recv(0.5)
            if msg is not None and msg.arbitration_id == 0x99:
                count += 1
        task.stop()
        assert count == 5

    def test_contract_state_and_channel_info(self, pair: tuple[can.BusABC, can.BusABC]) -> None:
        a, _ = pair
        assert isinstance(a.channel_info, str) and a.channel_info
        assert a.state in (can.BusState.ACTIVE, can.BusState.PASSIVE, can.BusState.ERROR)
