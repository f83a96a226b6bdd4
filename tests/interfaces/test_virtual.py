"""The virtual interface (manual section 4.12)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from bus_contract import BusContract  # tests/interfaces, on sys.path by conftest.py

import can
from can import Message
from can.interfaces.virtual import VirtualBus


@pytest.fixture
def channel() -> str:
    # A fresh channel per test, so that tests never see each other's buses.
    return f"test-{uuid.uuid4()}"


@pytest.fixture
def pair(channel: str) -> Iterator[tuple[can.BusABC, can.BusABC]]:
    bus1 = can.Bus(channel, interface="virtual")
    bus2 = can.Bus(channel, interface="virtual")
    yield bus1, bus2
    bus1.shutdown()
    bus2.shutdown()


def test_manual_example(channel: str) -> None:
    bus1 = can.interface.Bus(channel, bustype="virtual")
    bus2 = can.interface.Bus(channel, bustype="virtual")

    msg1 = can.Message(arbitration_id=0xABCDE, data=[1, 2, 3])
    bus1.send(msg1)
    msg2 = bus2.recv()

    # The manual asserts msg1 == msg2, but messages compare by identity (section 3.3): the
    # received message is a copy, equal in content. The bus stamps the time of sending and the
    # channel on the copy, so those two are left out of the comparison.
    assert msg2 is not None
    assert msg1.equals(msg2, timestamp_delta=None, check_channel=False)
    assert msg2.channel == channel
    bus1.shutdown()
    bus2.shutdown()


def test_receivers_get_a_copy(pair: tuple[can.BusABC, can.BusABC]) -> None:
    bus1, bus2 = pair
    msg = Message(arbitration_id=1, data=[1, 2, 3])
    bus1.send(msg)
    msg.data[0] = 0xFF
    msg.arbitration_id = 2
    received = bus2.recv(1)
    assert received is not None
    assert received is not msg
    assert received.arbitration_id == 1
    assert received.data == bytearray([1, 2, 3])


def test_timestamp_set_on_send(pair: tuple[can.BusABC, can.BusABC]) -> None:
    bus1, bus2 = pair
    before = time.time()
    bus1.send(Message(timestamp=5.0))
    after = time.time()
    received = bus2.recv(1)
    assert received is not None
    assert before <= received.timestamp <= after
    assert received.is_rx is True


def test_preserve_timestamps(channel: str) -> None:
    with VirtualBus(channel, preserve_timestamps=True) as a, VirtualBus(channel) as b:
        a.send(Message(timestamp=5.0))
        received = b.recv(1)
        assert received is not None and received.timestamp == 5.0


def test_own_messages_only_on_request(channel: str) -> None:
    with VirtualBus(channel) as quiet, VirtualBus(channel, receive_own_messages=True) as echo:
        quiet.send(Message(arbitration_id=1))
        assert quiet.recv(0) is None
        assert echo.recv(1).arbitration_id == 1  # type: ignore[union-attr]
        echo.send(Message(arbitration_id=2))
        own = echo.recv(1)
        assert own is not None and own.arbitration_id == 2 and own.is_rx is False
        other = quiet.recv(1)
        assert other is not None and other.arbitration_id == 2 and other.is_rx is True


def test_channels_are_separate(channel: str) -> None:
    with VirtualBus(channel) as a, VirtualBus(channel + "-other") as b, VirtualBus(channel) as c:
        a.send(Message(arbitration_id=3))
        assert b.recv(0.05) is None
        assert c.recv(1).arbitration_id == 3  # type: ignore[union-attr]


def test_int_channels(channel: str) -> None:
    with VirtualBus(0) as a, VirtualBus(0) as b:
        a.send(Message(arbitration_id=4))
        received = b.recv(1)
        assert received is not None and received.channel == 0


def test_can_fd_frames(pair: tuple[can.BusABC, can.BusABC]) -> None:
    bus1, bus2 = pair
    msg = Message(arbitration_id=0x123, is_fd=True, bitrate_switch=True, data=bytes(range(64)))
    bus1.send(msg)
    received = bus2.recv(1)
    assert received is not None
    assert received.is_fd and received.bitrate_switch
    assert received.dlc == 64
    assert received.data == bytearray(range(64))


def test_software_filters(pair: tuple[can.BusABC, can.BusABC]) -> None:
    bus1, bus2 = pair
    bus2.set_filters([{"can_id": 0x100, "can_mask": 0x700, "extended": False}])
    for i in (0x050, 0x150, 0x250, 0x1FF):
        bus1.send(Message(arbitration_id=i, is_extended_id=False))
    got = [m.arbitration_id for m in iter(lambda: bus2.recv(0.05), None)]
    assert got == [0x150, 0x1FF]


def test_detect_available_configs(channel: str) -> None:
    with VirtualBus(channel):
        configs = VirtualBus._detect_available_configs()
        assert {"interface": "virtual", "channel": channel} in configs
    assert {
        "interface": "virtual",
        "channel": channel,
    } not in VirtualBus._detect_available_configs()


def test_detect_available_configs_offers_a_fresh_channel(channel: str) -> None:
    # As python-can 4.x: besides the open channels, one that no bus has, so that there is
    # always a configuration to open.
    with VirtualBus(channel):
        configs = can.detect_available_configs("virtual")
        open_names = {c["channel"] for c in configs} - {channel}
        assert len(open_names) == 1
        (fresh,) = open_names
        assert str(fresh).startswith("channel-")
        with VirtualBus(fresh) as a, VirtualBus(channel) as b:
            a.send(Message(arbitration_id=1))
            assert b.recv(0.05) is None  # a channel of its own
    assert len(can.detect_available_configs("virtual")) >= 1


def test_an_unreferenced_bus_leaves_its_channel(channel: str) -> None:
    import gc
    import weakref

    with VirtualBus(channel) as sender:
        dropped = VirtualBus(channel)
        ref = weakref.ref(dropped)
        queue_ref = weakref.ref(dropped._queue)
        # A bus collected without shutdown() is shut down, with a warning (see test_bus.py).
        with pytest.warns(ResourceWarning, match="without shutdown"):
            del dropped
            gc.collect()
        assert ref() is None and queue_ref() is None
        sender.send(Message(arbitration_id=2))  # nobody left to queue it
        assert [r() for r in sender._channel.receivers] == [sender]
    assert {"interface": "virtual", "channel": channel} not in can.detect_available_configs(
        "virtual"
    )


def test_shutdown_wakes_a_blocked_receiver_and_detaches(channel: str) -> None:
    a = VirtualBus(channel)
    b = VirtualBus(channel)
    errors: list[BaseException] = []

    def receive() -> None:
        try:
            b.recv()
        except can.CanError as exc:
            errors.append(exc)

    t = threading.Thread(target=receive)
    t.start()
    time.sleep(0.05)
    b.shutdown()
    t.join(2)
    assert not t.is_alive()
    assert len(errors) == 1 and "shut down" in str(errors[0])
    a.send(Message())  # b no longer receives; sending to nobody is fine
    with pytest.raises(can.CanOperationError):
        b.send(Message())
    a.shutdown()
    a.shutdown()


def test_bounded_queue_reports_a_full_receiver(channel: str) -> None:
    with VirtualBus(channel) as sender, VirtualBus(channel, rx_queue_size=2) as receiver:
        sender.send(Message(arbitration_id=1))
        sender.send(Message(arbitration_id=2))
        with pytest.raises(can.CanTimeoutError, match="queue full"):
            sender.send(Message(arbitration_id=3), timeout=0.01)
        # python-can 4.x raises CanOperationError here; the error is both.
        with pytest.raises(can.CanOperationError, match="queue full") as info:
            sender.send(Message(arbitration_id=3), timeout=0.01)
        assert isinstance(info.value, can.interfaces.virtual.ReceiveQueueFullError)
        assert receiver.recv(0).arbitration_id == 1  # type: ignore[union-attr]
        with pytest.raises(ValueError):
            VirtualBus(channel, rx_queue_size=-1)


def test_million_frames_across_threads_complete_and_in_order(channel: str) -> None:
    n = 1_000_000
    sender = VirtualBus(channel)
    receiver = VirtualBus(channel)
    received: list[int] = []

    def receive() -> None:
        recv = receiver.recv
        append = received.append
        for _ in range(n):
            msg = recv(10)
            if msg is None:
                return
            append(msg.arbitration_id)

    t = threading.Thread(target=receive)
    t.start()
    msg = Message(is_extended_id=True, data=b"\x01\x02\x03\x04")
    send = sender.send
    for i in range(n):
        msg.arbitration_id = i
        send(msg)
    t.join(60)
    assert not t.is_alive()
    assert len(received) == n
    assert received == list(range(n))
    sender.shutdown()
    receiver.shutdown()


class TestVirtualContract(BusContract):
    """The generic bus suite (tests/interfaces/bus_contract.py) on the virtual interface."""

    supports_fd = True

    def open_pair(self, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
        channel = f"contract-{uuid.uuid4()}"
        return (
            can.Bus(channel, interface="virtual", **kwargs),
            can.Bus(channel, interface="virtual", **kwargs),
        )
