"""The :class:`Notifier`: hands every message received on one or more buses to listeners
(manual sections 3.5 and 3.9).

Each bus is read by its own thread, or, when the notifier has an :mod:`asyncio` event loop and
the bus has a real file descriptor (:meth:`can.BusABC.fileno`), by the event loop itself with no
thread at all.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Coroutine, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Optional, Union, cast

from can.bus import BusABC
from can.listener import Listener, MessageRecipient
from can.message import Message

if TYPE_CHECKING:
    # Imported at run time only by a notifier that is given an event loop: asyncio is a heavy
    # import that `import can` should not pay for.
    import asyncio

__all__ = ["MessageRecipient", "Notifier"]

log = logging.getLogger("can.Notifier")

# A receive thread waits at most this long in one recv() call, so that stop() takes effect
# promptly however long the user's timeout is (a recv that times out is simply repeated).
_POLL_INTERVAL = 0.05
# With an event loop, a receive thread hands messages over in batches of at most this many
# (whatever is already waiting), so the loop is woken once per batch, not once per message.
_MAX_BATCH = 256


# Every notifier not yet stopped, weakly: a running one is kept alive by its threads.
_running_instances: weakref.WeakSet[Notifier] = weakref.WeakSet()
_instances_lock = threading.Lock()


class Notifier:
    """Delivers the messages received on one or more buses to a list of listeners.

    Every message is passed to every listener in the order of :attr:`listeners` (a listener is
    a :class:`~can.Listener` or any callable taking a message), messages of one bus in the order
    they were received. With ``loop`` the listeners are called in that event loop, and a
    listener may be a coroutine function, whose coroutines are scheduled as tasks.

    If receiving or a listener raises, the notifier stops reading that bus: the exception is
    stored in :attr:`exception` and passed to the :meth:`~can.Listener.on_error` of every
    listener (if no listener handles it, it is logged). The message being delivered still
    reaches the listeners after the one that raised.

    Call :meth:`stop` when done (or use the notifier as a context manager): many listeners
    flush their output in their ``stop()``. A bus belongs to at most one running notifier at
    a time, as in python-can 4.x: two readers of one bus would each get only some of its
    messages. :meth:`find_instances` tells which notifier reads a bus.

    :param bus: a bus, or a list of buses, to read from.
    :param listeners: the listeners to notify.
    :param timeout: the longest time in seconds one receive call waits for a message.
    :param loop: an :mod:`asyncio` event loop to call the listeners in.

    >>> import can
    >>> bus_tx = can.Bus("notifier-doc", interface="virtual")
    >>> bus_rx = can.Bus("notifier-doc", interface="virtual")
    >>> reader = can.BufferedReader()
    >>> notifier = can.Notifier(bus_rx, [reader])
    >>> bus_tx.send(can.Message(arbitration_id=0x7FF, is_extended_id=False))
    >>> reader.get_message(timeout=1).arbitration_id == 0x7FF
    True
    >>> notifier.stop()
    >>> reader.is_stopped
    True
    >>> bus_tx.shutdown(); bus_rx.shutdown()
    """

    #: The exception that stopped a receive thread (None while none did).
    exception: Optional[Exception] = None

    def __init__(
        self,
        bus: Union[BusABC, list[BusABC], tuple[BusABC, ...]],
        listeners: Iterable[MessageRecipient],
        timeout: float = 1.0,
        loop: Optional[asyncio.AbstractEventLoop] = None,
    ) -> None:
        #: The listeners notified of each message.
        self.listeners: list[MessageRecipient] = []
        self._buses: list[BusABC] = []
        self.timeout = timeout
        self._loop = loop
        self.exception = None
        self._running = True
        self._stopped = False
        # Serializes deliveries from several receive threads and changes to the listener list.
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._fd_readers: list[int] = []
        for listener in listeners:
            self.add_listener(listener)
        # A list or tuple is several buses; anything else is one bus (a ThreadSafeBus proxy too).
        buses = list(bus) if isinstance(bus, (list, tuple)) else [bus]
        try:
            for b in buses:
                self.add_bus(b)
        except BaseException:
            # The buses added so far are released; the listeners are the caller's, untouched.
            self._stop_reading(timeout=5)
            raise

    # -- buses ----------------------------------------------------------------------------------

    @property
    def bus(self) -> Union[BusABC, tuple[BusABC, ...]]:
        """The bus read, or a tuple of the buses when there are several (python-can 4.x)."""
        if len(self._buses) == 1:
            return self._buses[0]
        return tuple(self._buses)

    @classmethod
    def find_instances(cls, bus: BusABC) -> tuple[Notifier, ...]:
        """The running (not stopped) notifiers that read ``bus``: none or one (python-can 4.x).

        A :class:`~can.ThreadSafeBus` counts as the bus it wraps.
        """
        key = _unwrapped(bus)
        with _instances_lock:
            return tuple(
                n
                for n in list(_running_instances)
                if not n._stopped and any(_unwrapped(b) is key for b in n._buses)
            )

    def add_bus(self, bus: BusABC) -> None:
        """Start reading from another bus.

        With an event loop that supports file descriptor watching and a bus with a real
        :meth:`~can.BusABC.fileno`, the loop reads the bus when its descriptor becomes readable;
        otherwise a daemon thread reads it.

        :param bus: the bus.
        :raises ValueError: if a running notifier (this one or another) already reads the bus,
            or this notifier is stopped.
        """
        key = _unwrapped(bus)
        with _instances_lock:
            if self._stopped:
                raise ValueError("cannot add a bus to a stopped Notifier: create a new one")
            for other in list(_running_instances):
                if not other._stopped and any(_unwrapped(b) is key for b in other._buses):
                    which = "this" if other is self else "another"
                    raise ValueError(
                        f"{bus.channel_info} is already read by {which} running Notifier: a "
                        "bus can belong to one running Notifier at a time (stop it first)"
                    )
            self._buses.append(bus)
            _running_instances.add(self)
        if self._loop is not None:
            fd = _real_fileno(bus)
            if fd is not None and self._watch_fd(fd, bus):
                return
        thread = threading.Thread(
            target=self._rx_thread,
            args=(bus,),
            name=f'can.notifier for bus "{bus.channel_info}"',
            daemon=True,
        )
        self._threads.append(thread)
        thread.start()

    def _watch_fd(self, fd: int, bus: BusABC) -> bool:
        loop = self._loop
        assert loop is not None
        try:
            if _in_loop(loop) or not loop.is_running():
                loop.add_reader(fd, self._on_readable, bus)
            else:
                # add_reader is not thread-safe: register from the loop's own thread.
                import asyncio

                asyncio.run_coroutine_threadsafe(
                    _call(loop.add_reader, fd, self._on_readable, bus), loop
                ).result()
        except NotImplementedError:
            return False  # e.g. the proactor loop on Windows: fall back to a thread
        self._fd_readers.append(fd)
        return True

    # -- listeners ------------------------------------------------------------------------------

    def add_listener(self, listener: MessageRecipient) -> None:
        """Add a listener. A listener added twice is called twice for each message.

        :param listener: a :class:`~can.Listener` or a callable taking a message (with a loop,
            also a coroutine function).
        :raises ValueError: for a coroutine function when the notifier has no event loop.
        """
        if self._loop is None and _is_coroutine_function(listener):
            raise ValueError(
                f"{listener!r} is a coroutine function: give the Notifier an event loop "
                "(loop=...) to use coroutine callbacks"
            )
        with self._lock:
            self.listeners.append(listener)

    def remove_listener(self, listener: MessageRecipient) -> None:
        """Remove a listener (one occurrence, if it was added several times).

        :param listener: the listener to remove.
        :raises ValueError: if ``listener`` was never added to this notifier.
        """
        with self._lock:
            try:
                self.listeners.remove(listener)
            except ValueError:
                raise ValueError(f"{listener!r} is not a listener of this notifier") from None

    # -- delivery -------------------------------------------------------------------------------

    def _deliver(self, msg: Message) -> None:
        """Pass one message to every listener; the first error is raised after all had it."""
        error: Optional[Exception] = None
        for listener in self.listeners:
            try:
                result = listener(msg)
            except Exception as exc:
                if error is None:
                    error = exc
                continue
            if result is not None and self._loop is not None and _is_coroutine(result):
                self._loop.create_task(cast("Coroutine[Any, Any, None]", result))
        if error is not None:
            raise error

    def _deliver_batch(self, reading: _Reading, batch: list[Message]) -> None:
        # Runs in the event loop. A batch queued before stop() is not delivered after it, nor
        # one of a bus whose reading an error has ended.
        if not self._running or not reading.active:
            return
        try:
            for msg in batch:
                self._deliver(msg)
        except Exception as exc:
            reading.active = False
            self.exception = exc
            self._on_error(exc)

    def _rx_thread(self, bus: BusABC) -> None:
        recv = bus.recv
        loop = self._loop
        reading = _Reading()
        poll = _POLL_INTERVAL if self.timeout is None else min(self.timeout, _POLL_INTERVAL)
        try:
            if loop is None:
                lock = self._lock
                deliver = self._deliver
                # A bus that receives in batches (SocketcanBus.recv_batch) hands over all the
                # messages waiting at once: one lock round per batch, not per message.
                recv_batch = getattr(bus, "recv_batch", None)
                while recv_batch is not None and self._running:
                    batch = recv_batch(poll, _MAX_BATCH)
                    if batch and self._running:
                        with lock:
                            for msg in batch:
                                deliver(msg)
                while self._running:
                    msg = recv(poll)
                    if msg is not None and self._running:
                        with lock:
                            deliver(msg)
            else:
                hand_over = loop.call_soon_threadsafe
                while self._running and reading.active:
                    msg = recv(poll)
                    if msg is None:
                        continue
                    batch = [msg]
                    while len(batch) < _MAX_BATCH:
                        msg = recv(0)
                        if msg is None:
                            break
                        batch.append(msg)
                    if self._running:
                        hand_over(self._deliver_batch, reading, batch)
        except Exception as exc:
            if not self._running or getattr(bus, "_is_shutdown", False):
                # The notifier was stopped, or the bus shut down, while receiving: not an error.
                log.debug("receive thread for %s ends: %s", bus.channel_info, exc)
                return
            self.exception = exc
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._on_error, exc)
            else:
                self._on_error(exc)

    def _on_readable(self, bus: BusABC) -> None:
        """Event-loop callback: the bus's file descriptor is readable."""
        if not self._running:
            return
        try:
            for _ in range(_MAX_BATCH):
                msg = bus.recv(0)
                if msg is None:
                    break
                self._deliver(msg)
            else:
                # The bus may hold more that its descriptor no longer announces (SocketcanBus
                # fetches in batches): read on once other callbacks had their turn.
                if self._loop is not None:
                    self._loop.call_soon(self._on_readable, bus)
        except Exception as exc:
            # As in a receive thread: this bus is no longer read.
            fd = _real_fileno(bus)
            if fd is not None and fd in self._fd_readers and self._loop is not None:
                self._loop.remove_reader(fd)
                self._fd_readers.remove(fd)
            if getattr(bus, "_is_shutdown", False):
                return
            self.exception = exc
            self._on_error(exc)

    def _on_error(self, exc: Exception) -> bool:
        """Pass ``exc`` to every listener's ``on_error``; log it if none handled it."""
        handled = False
        for listener in list(self.listeners):
            on_error: Optional[Callable[[Exception], Any]] = getattr(listener, "on_error", None)
            if on_error is None or getattr(on_error, "__func__", None) is Listener.on_error:
                # Listener's own on_error does nothing: the error is not handled there.
                continue
            try:
                on_error(exc)
            except NotImplementedError:
                continue
            except Exception:
                log.exception("%r.on_error() raised", listener)
            handled = True
        if not handled:
            log.error("a CAN notifier receive thread stopped with an error", exc_info=exc)
        return handled

    # -- lifetime -------------------------------------------------------------------------------

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` has been called (python-can 4.x)."""
        return self._stopped

    def stop(self, timeout: float = 5) -> None:
        """Stop reading the buses, wait for the receive threads and call ``stop()`` on every
        listener that has one. A second call does nothing.

        :param timeout: the longest time in seconds to wait for the receive threads to end.
        """
        if self._stop_reading(timeout):
            for listener in list(self.listeners):
                stop: Optional[Callable[[], Any]] = getattr(listener, "stop", None)
                if stop is not None:
                    stop()

    def _stop_reading(self, timeout: float) -> bool:
        """Stop the receive threads and fd readers; False if they were stopped already."""
        with _instances_lock:
            if self._stopped:
                return False
            self._running = False
            self._stopped = True
            _running_instances.discard(self)
        deadline = time.monotonic() + timeout
        me = threading.current_thread()
        for thread in self._threads:
            if thread is not me:
                thread.join(max(0.0, deadline - time.monotonic()))
        if self._fd_readers:
            loop = self._loop
            assert loop is not None
            fds, self._fd_readers = self._fd_readers, []
            for fd in fds:
                if _in_loop(loop) or not loop.is_running():
                    loop.remove_reader(fd)
                elif not loop.is_closed():
                    loop.call_soon_threadsafe(loop.remove_reader, fd)
        return True

    def __enter__(self) -> Notifier:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.stop()


def _unwrapped(bus: Any) -> Any:
    """The bus a :class:`~can.ThreadSafeBus` wraps, or ``bus`` itself."""
    return getattr(bus, "__wrapped__", bus)


class _Reading:
    """Whether one receive thread should go on reading (an error ends it)."""

    __slots__ = ("active",)

    def __init__(self) -> None:
        self.active = True


def _real_fileno(bus: BusABC) -> Optional[int]:
    """The bus's file descriptor, or None if it has none."""
    try:
        fd = bus.fileno()
    except (NotImplementedError, OSError, AttributeError, ValueError):
        return None
    if isinstance(fd, int) and fd >= 0:
        return fd
    return None


def _in_loop(loop: asyncio.AbstractEventLoop) -> bool:
    import asyncio

    return asyncio._get_running_loop() is loop


def _is_coroutine(obj: object) -> bool:
    import asyncio

    return asyncio.iscoroutine(obj)


async def _call(func: Callable[..., Any], *args: Any) -> None:
    func(*args)


def _is_coroutine_function(listener: MessageRecipient) -> bool:
    if isinstance(listener, Listener):
        return False
    call: Any = getattr(listener, "__call__", None)  # noqa: B004 - the bound method itself
    import inspect

    return inspect.iscoroutinefunction(listener) or inspect.iscoroutinefunction(call)
