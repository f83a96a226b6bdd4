"""can.Listener, BufferedReader, AsyncBufferedReader, RedirectReader (manual 3.4.1, 3.4.2)."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from typing import Any, Optional

import pytest

import can
from can import AsyncBufferedReader, BufferedReader, Listener, Message, RedirectReader
from can.listener import ReaderStoppedError


def msg(i: int) -> Message:
    return Message(arbitration_id=i, data=[i & 0xFF])


# -- Listener -------------------------------------------------------------------------------------


class Recorder(Listener):
    def __init__(self) -> None:
        self.got: list[Message] = []
        self.stopped = 0

    def on_message_received(self, msg: Message) -> None:
        self.got.append(msg)

    def stop(self) -> None:
        self.stopped += 1


def test_manual_listener_example() -> None:
    # Manual 3.4.1: call the listener, or call on_message_received, then stop() it.
    tx = can.Bus("listener-ex", interface="virtual")
    my_bus = can.Bus("listener-ex", interface="virtual")
    tx.send(Message(arbitration_id=0x55))
    listener = Recorder()
    msg = my_bus.recv()
    assert msg is not None

    # now either call
    listener(msg)
    # or
    listener.on_message_received(msg)

    # Important to ensure all outputs are flushed
    listener.stop()

    tx.shutdown()
    my_bus.shutdown()
    assert listener.got == [msg, msg]
    assert listener.stopped == 1


def test_listener_without_override_raises_not_implemented_on_a_message() -> None:
    class Lazy(Listener):
        pass

    lazy = Lazy()  # instantiable, as in the manual
    with pytest.raises(NotImplementedError):
        lazy(msg(1))
    with pytest.raises(NotImplementedError):
        lazy.on_message_received(msg(1))
    lazy.on_error(ValueError("x"))  # python-can 3.3.2: the default on_error does nothing
    lazy.stop()  # the default stop does nothing


def test_super_on_error_can_be_called_from_an_override() -> None:
    seen: list[Exception] = []

    class Careful(Listener):
        def on_message_received(self, msg: Message) -> None:
            pass

        def on_error(self, exc: Exception) -> None:
            seen.append(exc)
            super().on_error(exc)

    error = ValueError("x")
    Careful().on_error(error)
    assert seen == [error]


def test_calling_a_listener_uses_the_subclass_on_message_received() -> None:
    class Sub(BufferedReader):
        def on_message_received(self, msg: Message) -> None:
            super().on_message_received(Message(arbitration_id=msg.arbitration_id + 1))

    reader = Sub()
    reader(msg(1))
    got = reader.get_message(0)
    assert got is not None and got.arbitration_id == 2


# -- BufferedReader -------------------------------------------------------------------------------


def test_buffered_reader_is_fifo_and_default_timeout_is_half_a_second() -> None:
    reader = BufferedReader()
    assert inspect.signature(reader.get_message).parameters["timeout"].default == 0.5
    for i in range(100):
        reader(msg(i))
    assert reader.buffer.qsize() == 100
    got = [reader.get_message(0) for _ in range(100)]
    assert [m.arbitration_id for m in got if m is not None] == list(range(100))
    assert reader.get_message(0) is None


def test_get_message_waits_for_timeout_then_returns_none() -> None:
    reader = BufferedReader()
    t0 = time.monotonic()
    assert reader.get_message(timeout=0.2) is None
    assert time.monotonic() - t0 >= 0.19


def test_get_message_returns_as_soon_as_a_message_arrives() -> None:
    reader = BufferedReader()
    threading.Timer(0.05, reader, args=(msg(7),)).start()
    t0 = time.monotonic()
    got = reader.get_message(timeout=5)
    assert got is not None and got.arbitration_id == 7
    assert time.monotonic() - t0 < 2


def test_stopped_reader_rejects_messages_with_buffer_error() -> None:
    reader = BufferedReader()
    assert reader.is_stopped is False
    reader(msg(1))
    reader.stop()
    assert reader.is_stopped is True
    with pytest.raises(BufferError):
        reader.on_message_received(msg(2))
    # python-can 4.x raises RuntimeError here: both are caught.
    with pytest.raises(RuntimeError):
        reader(msg(3))
    assert issubclass(ReaderStoppedError, BufferError)


def test_stopped_reader_never_blocks_but_hands_out_what_was_queued() -> None:
    reader = BufferedReader()
    reader(msg(1))
    reader(msg(2))
    reader.stop()
    reader.stop()  # idempotent
    t0 = time.monotonic()
    first, second = reader.get_message(timeout=5), reader.get_message(timeout=5)
    assert first is not None and first.arbitration_id == 1
    assert second is not None and second.arbitration_id == 2
    assert reader.get_message(timeout=5) is None
    assert reader.get_message(timeout=5) is None
    assert time.monotonic() - t0 < 1.0


def test_stop_wakes_a_reader_that_is_waiting() -> None:
    reader = BufferedReader()
    result: list[Optional[Message]] = []
    waiter = threading.Thread(target=lambda: result.append(reader.get_message(timeout=30)))
    waiter.start()
    time.sleep(0.05)
    t0 = time.monotonic()
    reader.stop()
    waiter.join(5)
    assert not waiter.is_alive()
    assert result == [None]
    assert time.monotonic() - t0 < 1.0


def test_buffered_reader_between_threads_loses_nothing() -> None:
    reader = BufferedReader()
    n = 20_000

    def produce() -> None:
        for i in range(n):
            reader(msg(i))

    producer = threading.Thread(target=produce)
    producer.start()
    got = []
    while len(got) < n:
        m = reader.get_message(timeout=5)
        assert m is not None
        got.append(m.arbitration_id)
    producer.join()
    assert got == list(range(n))


# -- AsyncBufferedReader --------------------------------------------------------------------------


def test_async_reader_get_message_and_async_for() -> None:
    async def main() -> list[int]:
        reader = AsyncBufferedReader()
        for i in range(3):
            reader.on_message_received(msg(i))
        first = await reader.get_message()
        reader(msg(3))
        reader.stop()
        rest = [m.arbitration_id async for m in reader]
        return [first.arbitration_id, *rest]

    assert asyncio.run(main()) == [0, 1, 2, 3]


def test_async_reader_waits_for_a_message() -> None:
    async def main() -> int:
        reader = AsyncBufferedReader()
        asyncio.get_running_loop().call_later(0.05, reader, msg(9))
        got = await asyncio.wait_for(reader.get_message(), timeout=5)
        return got.arbitration_id

    assert asyncio.run(main()) == 9


def test_async_reader_after_stop() -> None:
    async def main() -> None:
        reader = AsyncBufferedReader()
        reader.stop()
        assert reader.is_stopped
        with pytest.raises(BufferError):
            reader(msg(1))
        with pytest.raises(BufferError):
            await asyncio.wait_for(reader.get_message(), timeout=5)

    asyncio.run(main())


def test_async_reader_with_loop_accepts_messages_from_other_threads() -> None:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        reader = AsyncBufferedReader(loop=loop)

        def feed() -> None:
            for i in range(50):
                reader(msg(i))
            reader.stop()

        threading.Thread(target=feed).start()
        return [m.arbitration_id async for m in reader]

    assert asyncio.run(asyncio.wait_for(main(), timeout=10)) == list(range(50))


# -- RedirectReader -------------------------------------------------------------------------------


class RecordingBus(can.BusABC):
    def __init__(self, **kwargs: Any) -> None:
        self.sent: list[tuple[Message, Optional[float]]] = []
        super().__init__(channel="rec", **kwargs)

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        self.sent.append((msg, timeout))


def test_redirect_reader_sends_every_message_on_with_its_arguments() -> None:
    bus = RecordingBus()
    redirect = RedirectReader(bus, 0.25)
    assert isinstance(redirect, Listener)
    a, b = msg(1), msg(2)
    redirect(a)
    redirect.on_message_received(b)
    assert bus.sent == [(a, 0.25), (b, 0.25)]
    keyword = RedirectReader(bus, timeout=1.5)
    keyword(a)
    assert bus.sent[-1] == (a, 1.5)
    bus.shutdown()


def test_redirect_reader_with_a_notifier_bridges_two_virtual_channels() -> None:
    a_tx, a_rx, b_tx, b_rx = (can.Bus(ch, interface="virtual") for ch in ["ra", "ra", "rb", "rb"])
    notifier = can.Notifier(a_rx, [RedirectReader(b_tx)])
    for i in range(10):
        a_tx.send(msg(i))
    got = [b_rx.recv(timeout=2) for _ in range(10)]
    notifier.stop()
    for bus in (a_tx, a_rx, b_tx, b_rx):
        bus.shutdown()
    assert [m.arbitration_id for m in got if m is not None] == list(range(10))
