"""can.Notifier with threads and with asyncio (manual sections 3.5 and 3.9)."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

import can
from can import BufferedReader, Listener, Message, Notifier

_channel_counter = iter(range(1_000_000))


def notifier_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("can.notifier")]


@pytest.fixture
def pair() -> Iterator[tuple[can.BusABC, can.BusABC]]:
    """Two connected virtual buses on a channel of their own: (sender, receiver)."""
    channel = f"notifier-test-{next(_channel_counter)}"
    tx = can.Bus(channel, interface="virtual")
    rx = can.Bus(channel, interface="virtual")
    yield tx, rx
    tx.shutdown()
    rx.shutdown()


def msg(i: int) -> Message:
    return Message(arbitration_id=i)


def drain(reader: BufferedReader, n: int, timeout: float = 5) -> list[int]:
    got = []
    for _ in range(n):
        m = reader.get_message(timeout)
        assert m is not None, f"only {len(got)} of {n} messages arrived"
        got.append(m.arbitration_id)
    return got


class Recorder(Listener):
    def __init__(self) -> None:
        self.got: list[int] = []
        self.errors: list[Exception] = []
        self.stop_calls = 0

    def on_message_received(self, msg: Message) -> None:
        self.got.append(msg.arbitration_id)

    def on_error(self, exc: Exception) -> None:
        self.errors.append(exc)

    def stop(self) -> None:
        self.stop_calls += 1


def wait_for(condition: Any, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


# -- delivery -------------------------------------------------------------------------------------


def test_every_listener_gets_every_message_in_order(pair: Any) -> None:
    tx, rx = pair
    reader, recorder, plain = BufferedReader(), Recorder(), []
    notifier = Notifier(rx, [reader, recorder, plain.append])
    for i in range(200):
        tx.send(msg(i))
    assert drain(reader, 200) == list(range(200))
    wait_for(lambda: len(plain) == 200)
    notifier.stop()
    assert recorder.got == list(range(200))
    assert [m.arbitration_id for m in plain] == list(range(200))


def test_several_buses_and_add_bus() -> None:
    buses = {name: can.Bus(name, interface="virtual") for name in ("nb-1", "nb-2", "nb-3")}
    peers = {name: can.Bus(name, interface="virtual") for name in buses}
    reader = BufferedReader()
    notifier = Notifier([buses["nb-1"], buses["nb-2"]], [reader])
    assert len(notifier_threads()) >= 2
    notifier.add_bus(buses["nb-3"])
    for i, name in enumerate(buses):
        peers[name].send(msg(i))
    got = sorted(drain(reader, 3))
    notifier.stop()
    for bus in [*buses.values(), *peers.values()]:
        bus.shutdown()
    assert got == [0, 1, 2]
    assert notifier_threads() == []


def test_add_listener_twice_calls_it_twice_and_remove_listener(pair: Any) -> None:
    tx, rx = pair
    recorder, reader = Recorder(), BufferedReader()
    notifier = Notifier(rx, [reader])
    notifier.add_listener(recorder)
    notifier.add_listener(recorder)
    tx.send(msg(1))
    drain(reader, 1)
    notifier.remove_listener(recorder)
    tx.send(msg(2))
    drain(reader, 1)
    notifier.remove_listener(recorder)
    tx.send(msg(3))
    drain(reader, 1)
    with pytest.raises(ValueError, match="not a listener"):
        notifier.remove_listener(recorder)
    notifier.stop()
    assert recorder.got == [1, 1, 2]


def test_stop_is_prompt_stops_every_listener_and_leaves_no_thread(pair: Any) -> None:
    _, rx = pair
    listeners = [Recorder(), Recorder(), BufferedReader()]
    notifier = Notifier(rx, [*listeners, print], timeout=10.0)
    assert len(notifier_threads()) == 1
    time.sleep(0.1)  # the receive thread is now waiting in recv()
    t0 = time.monotonic()
    notifier.stop()
    assert time.monotonic() - t0 < 0.5
    assert notifier_threads() == []
    assert notifier.stopped
    assert [r.stop_calls for r in listeners[:2]] == [1, 1]
    assert listeners[2].is_stopped
    notifier.stop()  # a second stop does nothing
    assert [r.stop_calls for r in listeners[:2]] == [1, 1]


def test_notifier_as_context_manager(pair: Any) -> None:
    tx, rx = pair
    recorder = Recorder()
    with Notifier(rx, [recorder]) as notifier:
        tx.send(msg(5))
        wait_for(lambda: recorder.got == [5])
    assert notifier.stopped and recorder.stop_calls == 1
    assert notifier_threads() == []


def test_one_million_frames_arrive_complete_and_in_order(pair: Any) -> None:
    tx, rx = pair
    n = 1_000_000
    reader = BufferedReader()
    notifier = Notifier(rx, [reader])
    frame = Message(arbitration_id=0, data=b"\x00" * 8)

    def send_all() -> None:
        for i in range(n):
            frame.arbitration_id = i
            tx.send(frame)  # the virtual bus sends a copy

    sender = threading.Thread(target=send_all)
    t0 = time.monotonic()
    sender.start()
    get = reader.get_message
    expected = 0
    while expected < n:
        m = get(10)
        assert m is not None, f"frame {expected} never arrived"
        assert m.arbitration_id == expected, f"frame {m.arbitration_id} arrived as #{expected}"
        expected += 1
    elapsed = time.monotonic() - t0
    sender.join()
    t1 = time.monotonic()
    notifier.stop()
    assert time.monotonic() - t1 < 0.5
    assert reader.is_stopped and reader.get_message(0) is None
    assert notifier_threads() == []
    assert notifier.exception is None
    print(f"1,000,000 frames through Notifier in {elapsed:.1f} s")


# -- errors ---------------------------------------------------------------------------------------


class Raiser(Listener):
    def __init__(self, on: int) -> None:
        self.on = on

    def on_message_received(self, msg: Message) -> None:
        if msg.arbitration_id == self.on:
            raise RuntimeError(f"listener failed on {msg.arbitration_id}")


def test_a_listener_that_raises_does_not_silently_starve_the_others(pair: Any) -> None:
    tx, rx = pair
    before, after = Recorder(), Recorder()
    notifier = Notifier(rx, [before, Raiser(on=3), after])
    for i in range(5):
        tx.send(msg(i))
    wait_for(lambda: notifier.exception is not None)
    wait_for(lambda: len(after.errors) == 1)
    # The failing message still reached the listener after the one that raised...
    assert after.got[-1] == 3 and before.got[-1] == 3
    # ...and the error went to `exception` and to every listener's on_error.
    assert isinstance(notifier.exception, RuntimeError)
    assert before.errors == [notifier.exception] and after.errors == [notifier.exception]
    # As documented, the exception stopped the receive thread.
    wait_for(lambda: notifier_threads() == [])
    notifier.stop()
    assert before.stop_calls == 1 and after.stop_calls == 1


class FailingBus(can.BusABC):
    def __init__(self, fail_after: int, **kwargs: Any) -> None:
        self.left = fail_after
        super().__init__(channel="failing", **kwargs)
        self.channel_info = "failing test bus"

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        if self.left == 0:
            raise can.CanOperationError("the adapter was unplugged")
        self.left -= 1
        return Message(arbitration_id=self.left), False

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        pass


def test_a_receive_error_goes_to_exception_and_on_error() -> None:
    bus = FailingBus(fail_after=3)
    recorder = Recorder()
    notifier = Notifier(bus, [recorder])
    wait_for(lambda: len(recorder.errors) == 1)
    assert recorder.got == [2, 1, 0]
    assert isinstance(notifier.exception, can.CanOperationError)
    assert recorder.errors == [notifier.exception]
    notifier.stop()
    bus.shutdown()


def test_an_unhandled_error_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    bus = FailingBus(fail_after=0)
    reader = BufferedReader()  # does not implement on_error
    with caplog.at_level(logging.ERROR, logger="can.Notifier"):
        notifier = Notifier(bus, [reader])
        wait_for(lambda: notifier.exception is not None)
        wait_for(lambda: any("unplugged" in r.getMessage() or r.exc_info for r in caplog.records))
    notifier.stop()
    bus.shutdown()
    assert any(r.exc_info and r.exc_info[1] is notifier.exception for r in caplog.records)


def test_bus_shut_down_under_the_notifier_is_not_an_error() -> None:
    tx = can.Bus("nb-shutdown", interface="virtual")
    rx = can.Bus("nb-shutdown", interface="virtual")
    recorder = Recorder()
    notifier = Notifier(rx, [recorder], timeout=5)
    time.sleep(0.05)
    rx.shutdown()
    wait_for(lambda: notifier_threads() == [])
    assert notifier.exception is None and recorder.errors == []
    notifier.stop()
    tx.shutdown()


def test_coroutine_callback_needs_a_loop(pair: Any) -> None:
    _, rx = pair

    async def callback(msg: Message) -> None:
        pass

    with pytest.raises(ValueError, match="event loop"):
        Notifier(rx, [callback])


# -- asyncio --------------------------------------------------------------------------------------


class LineLogger(Listener):
    """Stands in for can.Logger while the log-file writers are not part of the package."""

    def __init__(self, path: str) -> None:
        self.file = open(path, "w", encoding="utf-8")

    def on_message_received(self, msg: Message) -> None:
        self.file.write(f"{msg}\n")

    def stop(self) -> None:
        self.file.close()


def test_manual_asyncio_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Manual 3.5.1, with the 0.5 s delay shortened; it uses can.Logger once that exists."""
    monkeypatch.chdir(tmp_path)
    make_logger = getattr(can, "Logger", LineLogger)
    received: list[int] = []

    def print_message(msg: Message) -> None:
        """Regular callback function. Can also be a coroutine."""
        received.append(msg.arbitration_id)
        print(msg)

    async def main() -> None:
        can0 = can.Bus("vcan0", bustype="virtual", receive_own_messages=True)
        reader = can.AsyncBufferedReader()
        logger = make_logger("logfile.asc")

        listeners = [
            print_message,  # Callback function
            reader,  # AsyncBufferedReader() listener
            logger,  # Regular Listener object
        ]
        # Create Notifier with an explicit loop to use for scheduling of callbacks
        loop = asyncio.get_event_loop()
        notifier = can.Notifier(can0, listeners, loop=loop)
        # Start sending first message
        can0.send(can.Message(arbitration_id=0))

        print("Bouncing 10 messages...")
        for _ in range(10):
            # Wait for next message from AsyncBufferedReader
            msg = await reader.get_message()
            # Delay response
            await asyncio.sleep(0.01)
            msg.arbitration_id += 1
            can0.send(msg)
        # Wait for last message to arrive
        await reader.get_message()
        print("Done!")

        # Clean-up
        notifier.stop()
        can0.shutdown()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(asyncio.wait_for(main(), timeout=20))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    out = capsys.readouterr().out
    assert "Bouncing 10 messages..." in out and "Done!" in out
    assert received == list(range(11))
    assert (tmp_path / "logfile.asc").stat().st_size > 0
    assert notifier_threads() == []


def test_coroutine_callbacks_run_in_the_loop(pair: Any) -> None:
    tx, rx = pair

    async def main() -> list[tuple[int, bool]]:
        loop = asyncio.get_running_loop()
        loop_thread = threading.current_thread()
        seen: list[tuple[int, bool]] = []
        done = asyncio.Event()

        async def on_msg(msg: Message) -> None:
            await asyncio.sleep(0)
            seen.append((msg.arbitration_id, threading.current_thread() is loop_thread))
            if len(seen) == 5:
                done.set()

        notifier = Notifier(rx, [on_msg], loop=loop)
        for i in range(5):
            tx.send(msg(i))
        await asyncio.wait_for(done.wait(), timeout=5)
        notifier.stop()
        return seen

    assert asyncio.run(main()) == [(i, True) for i in range(5)]


def test_errors_reach_on_error_in_the_loop(pair: Any) -> None:
    tx, rx = pair

    async def main() -> tuple[list[Exception], Optional[Exception], bool]:
        loop = asyncio.get_running_loop()
        loop_thread = threading.current_thread()
        recorder = Recorder()
        in_loop: list[bool] = []
        original = recorder.on_error

        def on_error(exc: Exception) -> None:
            in_loop.append(threading.current_thread() is loop_thread)
            original(exc)

        recorder.on_error = on_error  # type: ignore[method-assign]
        notifier = Notifier(rx, [Raiser(on=1), recorder], loop=loop)
        tx.send(msg(1))
        while not recorder.errors:
            await asyncio.sleep(0.01)
        notifier.stop()
        return recorder.errors, notifier.exception, all(in_loop)

    errors, exception, all_in_loop = asyncio.run(main())
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    assert exception is errors[0]
    assert all_in_loop


class SocketBus(can.BusABC):
    """A bus over a datagram socketpair whose read end is a real file descriptor."""

    def __init__(self, **kwargs: Any) -> None:
        self._rx, self._tx = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._rx.setblocking(False)
        super().__init__(channel="socketpair", **kwargs)
        self.channel_info = "socketpair test bus"

    def fileno(self) -> int:
        return self._rx.fileno()

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        self._tx.send(struct.pack("<I", msg.arbitration_id))

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        try:
            data = self._rx.recv(4)
        except BlockingIOError:
            if not timeout:
                return None, False
            time.sleep(timeout)
            return None, False
        return Message(arbitration_id=struct.unpack("<I", data)[0]), False

    def shutdown(self) -> None:
        self._rx.close()
        self._tx.close()
        super().shutdown()


def test_a_bus_with_a_file_descriptor_is_read_by_the_loop_without_a_thread() -> None:
    async def main() -> tuple[list[int], int, bool]:
        loop = asyncio.get_running_loop()
        bus = SocketBus()
        reader = can.AsyncBufferedReader()
        threads_before = threading.active_count()
        notifier = Notifier(bus, [reader], loop=loop)
        threads_during = threading.active_count() - threads_before
        for i in range(100):
            bus.send(msg(i))
        got = [(await asyncio.wait_for(reader.get_message(), 5)).arbitration_id for _ in range(100)]
        notifier.stop()
        still_watched = loop.remove_reader(bus.fileno())
        bus.shutdown()
        return got, threads_during, still_watched

    got, new_threads, still_watched = asyncio.run(main())
    assert got == list(range(100))
    assert new_threads == 0
    assert still_watched is False  # stop() unregistered the descriptor


def test_a_bus_without_a_file_descriptor_gets_a_thread_with_a_loop(pair: Any) -> None:
    tx, rx = pair
    with pytest.raises(NotImplementedError):
        rx.fileno()

    async def main() -> list[int]:
        reader = can.AsyncBufferedReader()
        notifier = Notifier(rx, [reader], loop=asyncio.get_running_loop())
        assert len(notifier_threads()) == 1
        for i in range(1000):
            tx.send(msg(i))
        got = [
            (await asyncio.wait_for(reader.get_message(), 5)).arbitration_id for _ in range(1000)
        ]
        notifier.stop()
        return got

    assert asyncio.run(main()) == list(range(1000))
    assert notifier_threads() == []


# -- one running notifier per bus (python-can 4.x; issue 13, item 7) ------------------------------


def test_a_bus_belongs_to_one_running_notifier(pair: Any) -> None:
    _tx, rx = pair
    first = Notifier(rx, [])
    assert Notifier.find_instances(rx) == (first,)
    with pytest.raises(ValueError, match="one running Notifier"):
        Notifier(rx, [])
    with pytest.raises(ValueError, match="one running Notifier"):
        first.add_bus(rx)
    # Through a ThreadSafeBus proxy it is still the same bus.
    with pytest.raises(ValueError, match="one running Notifier"):
        Notifier(can.ThreadSafeBus(rx), [])
    first.stop()
    assert Notifier.find_instances(rx) == ()
    with Notifier(rx, []) as second:
        assert Notifier.find_instances(rx) == (second,)
    assert second.stopped
    assert Notifier.find_instances(rx) == ()


def test_a_refused_notifier_releases_what_it_took_and_leaves_listeners_alone(pair: Any) -> None:
    tx, rx = pair
    reader = BufferedReader()
    owner = Notifier(rx, [])
    with pytest.raises(ValueError):
        Notifier([tx, rx], [reader])
    assert not reader.is_stopped  # not the failed notifier's to stop
    assert Notifier.find_instances(tx) == ()  # tx, added first, was released again
    owner.stop()
    wait_for(lambda: notifier_threads() == [])


def test_add_bus_and_the_bus_attribute(pair: Any) -> None:
    tx, rx = pair
    notifier = Notifier(rx, [])
    assert notifier.bus is rx  # one bus: the bus itself
    notifier.add_bus(tx)
    assert notifier.bus == (rx, tx)  # several: a tuple, as in python-can 4.x
    assert Notifier.find_instances(tx) == (notifier,)
    notifier.stop()
    with Notifier([rx], []) as listed:
        assert listed.bus is rx  # a list of one bus: the bus too
    with pytest.raises(ValueError, match="stopped"):
        notifier.add_bus(tx)
    assert Notifier.find_instances(tx) == ()
