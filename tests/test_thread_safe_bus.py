"""can.ThreadSafeBus (manual section 3.2)."""

from __future__ import annotations

import threading
import time
from typing import Any, Optional

import pytest

import can
from can import BusState, Message, ThreadSafeBus

_counter = iter(range(1_000_000))


def channel() -> str:
    return f"tsb-{next(_counter)}"


def test_manual_example_on_the_virtual_interface() -> None:
    ch = channel()
    peer = can.Bus(ch, interface="virtual")
    my_bus = can.ThreadSafeBus(interface="virtual", channel=ch)
    my_bus.send(Message(arbitration_id=1))
    peer.send(Message(arbitration_id=2))
    got_by_peer = peer.recv(timeout=1)
    got = my_bus.recv(timeout=1)
    assert got_by_peer is not None and got_by_peer.arbitration_id == 1
    assert got is not None and got.arbitration_id == 2
    my_bus.shutdown()
    peer.shutdown()


def test_it_is_a_transparent_proxy() -> None:
    bus = ThreadSafeBus(interface="virtual", channel=channel(), receive_own_messages=True)
    wrapped = bus.__wrapped__
    assert isinstance(bus, can.BusABC)
    assert isinstance(bus, type(wrapped))
    assert bus.channel_info == wrapped.channel_info
    assert str(bus) == str(wrapped)
    assert bus.receive_own_messages is True  # a backend-specific attribute
    bus.some_setting = 5
    assert wrapped.some_setting == 5  # type: ignore[attr-defined]
    del bus.some_setting
    assert not hasattr(wrapped, "some_setting")
    assert "receive_own_messages" in dir(bus)
    bus.filters = [{"can_id": 0x10, "can_mask": 0x7FF, "extended": False}]
    assert (
        wrapped.filters == bus.filters == [{"can_id": 0x10, "can_mask": 0x7FF, "extended": False}]
    )
    assert bus.state is BusState.ACTIVE
    with pytest.raises(NotImplementedError):
        bus.fileno()
    bus.shutdown()
    assert wrapped._is_shutdown


def test_wrapping_an_existing_bus_and_context_manager() -> None:
    inner = can.Bus(channel(), interface="virtual", receive_own_messages=True)
    with ThreadSafeBus(inner) as bus:
        assert bus.__wrapped__ is inner
        bus.send(Message(arbitration_id=3))
        received = next(iter(bus))
        assert received.arbitration_id == 3
    assert inner._is_shutdown


class ProbeBus(can.BusABC):
    """Counts how many threads are inside send() and _recv_internal() at once."""

    def __init__(self, **kwargs: Any) -> None:
        self.lock = threading.Lock()
        self.in_send = self.in_recv = 0
        self.max_send = self.max_recv = 0
        self.overlap = False  # a send and a receive ran at the same time
        self.sent = 0
        self.flushes = 0
        super().__init__(channel="probe", **kwargs)

    def _enter(self, kind: str) -> None:
        with self.lock:
            if kind == "send":
                self.in_send += 1
                self.max_send = max(self.max_send, self.in_send)
            else:
                self.in_recv += 1
                self.max_recv = max(self.max_recv, self.in_recv)
            if self.in_send and self.in_recv:
                self.overlap = True

    def _leave(self, kind: str) -> None:
        with self.lock:
            if kind == "send":
                self.in_send -= 1
            else:
                self.in_recv -= 1

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        self._enter("send")
        time.sleep(0.0002)
        self.sent += 1
        self._leave("send")

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        self._enter("recv")
        time.sleep(0.0002)
        self._leave("recv")
        return Message(arbitration_id=1), False

    def flush_tx_buffer(self) -> None:
        self._enter("send")
        time.sleep(0.0002)
        self.flushes += 1
        self._leave("send")


def run_threads(targets: list[Any]) -> None:
    errors: list[BaseException] = []

    def guard(target: Any) -> None:
        try:
            target()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=guard, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []


def test_send_and_receive_are_each_serialized_but_not_against_each_other() -> None:
    probe = ProbeBus()
    bus = ThreadSafeBus(probe)

    def sender() -> None:
        for _ in range(50):
            bus.send(Message())
            if _ % 10 == 0:
                bus.flush_tx_buffer()

    def receiver() -> None:
        for _ in range(50):
            assert bus.recv(timeout=1) is not None

    run_threads([sender] * 4 + [receiver] * 4)
    bus.shutdown()
    assert probe.sent == 200 and probe.flushes == 20
    assert probe.max_send == 1
    assert probe.max_recv == 1
    assert probe.overlap, "a waiting receiver must not hold up a sender"


def test_periodic_sends_are_serialized_with_direct_sends() -> None:
    probe = ProbeBus()
    bus = ThreadSafeBus(probe)
    tasks = [bus.send_periodic(Message(arbitration_id=i), 0.001) for i in range(3)]

    def sender() -> None:
        for _ in range(100):
            bus.send(Message())

    run_threads([sender] * 3)
    for task in tasks:
        task.stop()
    assert probe.max_send == 1
    assert probe.sent > 300
    bus.shutdown()


def test_eight_threads_hammering_one_virtual_bus() -> None:
    ch = channel()
    bus = ThreadSafeBus(interface="virtual", channel=ch)
    peer = can.Bus(ch, interface="virtual")
    per_sender, senders = 1500, 3
    to_bus = 3000
    received: list[list[tuple[int, int]]] = [[], []]
    stop_misc = threading.Event()

    def sender(k: int) -> Any:
        def run() -> None:
            for i in range(per_sender):
                bus.send(Message(arbitration_id=0x100 + k, data=i.to_bytes(2, "big")))

        return run

    def receiver(slot: int) -> Any:
        def run() -> None:
            while True:
                m = bus.recv(timeout=0.5)
                if m is None:
                    if stop_misc.is_set():
                        return
                    continue
                received[slot].append((m.arbitration_id, int.from_bytes(m.data, "big")))

        return run

    def feeder() -> None:
        for i in range(to_bus):
            peer.send(Message(arbitration_id=0x200, data=i.to_bytes(2, "big")))

    def misc() -> None:
        while not stop_misc.is_set():
            bus.set_filters(None)
            assert bus.filters is None
            assert bus.state is BusState.ACTIVE
            bus.flush_tx_buffer()
            assert bus.channel_info

    def periodic() -> None:
        while not stop_misc.is_set():
            task = bus.send_periodic(Message(arbitration_id=0x300), 0.002)
            time.sleep(0.01)
            task.stop()

    def watchdog() -> None:
        # Lets the receivers and helpers finish once everything has arrived.
        deadline = time.monotonic() + 30
        while sum(len(r) for r in received) < to_bus and time.monotonic() < deadline:
            time.sleep(0.01)
        stop_misc.set()

    run_threads(
        [sender(k) for k in range(senders)]
        + [receiver(0), receiver(1), feeder, misc, periodic, watchdog]
    )
    # 8 threads used the proxy: 3 senders, 2 receivers, misc, periodic (and the feeder on the
    # peer; the watchdog only watches).
    got = received[0] + received[1]
    assert sorted(i for _, i in got) == list(range(to_bus))
    for part in received:  # each receiver saw an increasing subsequence
        seq = [i for _, i in part]
        assert seq == sorted(seq)
    # Everything the senders sent reached the peer, each sender's frames in order.
    by_sender: dict[int, list[int]] = {}
    while (m := peer.recv(timeout=0.2)) is not None:
        if m.arbitration_id != 0x300:
            by_sender.setdefault(m.arbitration_id, []).append(int.from_bytes(m.data, "big"))
    assert by_sender == {0x100 + k: list(range(per_sender)) for k in range(senders)}
    bus.shutdown()
    peer.shutdown()
    assert [t for t in threading.enumerate() if "cyclic" in t.name] == []


def test_shutdown_wakes_a_blocked_receiver_and_stops_tasks() -> None:
    bus = ThreadSafeBus(interface="virtual", channel=channel())
    task = bus.send_periodic(Message(arbitration_id=1), 0.01)
    outcome: list[Any] = []

    def blocked() -> None:
        try:
            outcome.append(bus.recv(timeout=None))
        except can.CanError as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=blocked)
    waiter.start()
    time.sleep(0.05)
    t0 = time.monotonic()
    bus.shutdown()
    waiter.join(5)
    assert not waiter.is_alive()
    assert time.monotonic() - t0 < 1
    assert len(outcome) == 1 and isinstance(outcome[0], can.CanOperationError)
    assert task.stopped  # type: ignore[attr-defined]
    assert [t for t in threading.enumerate() if "cyclic" in t.name] == []
    with pytest.raises(can.CanOperationError):
        bus.send_periodic(Message(arbitration_id=1), 0.01)
    bus.shutdown()  # a second shutdown does nothing
