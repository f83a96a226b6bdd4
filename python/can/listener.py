"""Listeners: objects a :class:`can.Notifier` hands every received message to (manual 3.4).

A listener is called with each message (``listener(msg)``, which runs
:meth:`Listener.on_message_received`). :class:`BufferedReader` queues messages for a thread to
fetch, :class:`AsyncBufferedReader` does the same for :mod:`asyncio` code, and
:class:`RedirectReader` (python-can 4.x) sends every message on to another bus.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from can.message import Message

if TYPE_CHECKING:
    import asyncio

    from can.bus import BusABC

__all__ = [
    "AsyncBufferedReader",
    "BufferedReader",
    "Listener",
    "MessageRecipient",
    "ReaderStoppedError",
    "RedirectReader",
]

log = logging.getLogger("can.listener")


class Listener:
    """Base class of objects that want to be told about every message received on a bus.

    Call a listener with a message, or call :meth:`on_message_received`; both do the same.
    A subclass that does not override :meth:`on_message_received` raises
    :class:`NotImplementedError` when it is given a message (the manual's behaviour; the class
    can still be instantiated).

    >>> class Counter(Listener):
    ...     def __init__(self):
    ...         self.count = 0
    ...     def on_message_received(self, msg):
    ...         self.count += 1
    >>> counter = Counter()
    >>> counter(Message())
    >>> counter.on_message_received(Message())
    >>> counter.count
    2
    >>> counter.stop()  # flush and release resources (nothing to do here)
    """

    def on_message_received(self, msg: Message) -> None:
        """Handle one message. Subclasses override this.

        :param msg: the delivered message.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement on_message_received()")

    def __call__(self, msg: Message) -> None:
        self.on_message_received(msg)

    def on_error(self, exc: Exception) -> None:
        """Handle an exception raised in a :class:`~can.Notifier`'s receive thread.

        The default does nothing, as in python-can 3.3.2, so a subclass may call
        ``super().on_error(exc)``. A notifier logs the exception when no listener overrides
        this method (or an override raises :class:`NotImplementedError`). Subclasses override
        it to react.

        :param exc: the exception that stopped the receive thread.
        """

    def stop(self) -> None:
        """Stop handling messages: flush what is buffered and release resources.

        The default does nothing; listeners that hold files or buffers override it.
        """


#: Anything a :class:`~can.Notifier` can deliver to: a :class:`Listener`, or a callable taking a
#: message; with an event loop the callable may be a coroutine function.
MessageRecipient = Union[Listener, Callable[[Message], Union[Awaitable[None], None]]]


class ReaderStoppedError(BufferError, RuntimeError):
    """A message was given to a reader after its ``stop()``.

    A :class:`BufferError` as the python-can 3.3.2 manual documents, and also a
    :class:`RuntimeError` as python-can 4.x raises, so that code written for either catches it.
    """


# Queued by stop() behind the last message, to wake a reader blocked in get_message().
_STOPPED: Any = object()


class BufferedReader(Listener):
    """A listener that queues messages until :meth:`get_message` fetches them.

    Safe to fill from one thread (a notifier's) and drain from others. After :meth:`stop`, no
    message is accepted (:meth:`on_message_received` raises :class:`BufferError`), the messages
    already queued can still be fetched, and :meth:`get_message` no longer blocks.

    >>> reader = BufferedReader()
    >>> reader(Message(arbitration_id=1))
    >>> reader.get_message().arbitration_id
    1
    >>> reader.get_message(timeout=0.01) is None
    True
    >>> reader.stop()
    >>> reader.is_stopped
    True
    >>> reader(Message())
    Traceback (most recent call last):
        ...
    can.listener.ReaderStoppedError: the reader has been stopped; it accepts no more messages
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Message] = queue.SimpleQueue()
        #: True once :meth:`stop` has been called.
        self.is_stopped = False

    @property
    def buffer(self) -> queue.SimpleQueue[Message]:
        """The underlying queue (python-can 4.x exposes it under this name)."""
        return self._queue

    def on_message_received(self, msg: Message) -> None:
        """Append a message to the buffer.

        :raises BufferError: if the reader has been stopped (see :class:`ReaderStoppedError`).
        """
        if self.is_stopped:
            raise ReaderStoppedError("the reader has been stopped; it accepts no more messages")
        self._queue.put(msg)

    def get_message(self, timeout: float = 0.5) -> Optional[Message]:
        """Fetch the oldest message, waiting up to ``timeout`` seconds for one.

        After :meth:`stop` it does not wait: it returns a message that is still queued, or
        None; a call already waiting when :meth:`stop` is called returns at once.

        :param timeout: seconds to wait for a message.
        :returns: the message, or None if there was none in time.
        """
        q = self._queue
        try:
            if self.is_stopped:
                msg = q.get_nowait()
            elif timeout is not None and timeout <= 0:
                msg = q.get_nowait()
            else:
                msg = q.get(timeout=timeout)
        except queue.Empty:
            return None
        if msg is _STOPPED:
            q.put(_STOPPED)  # for the next caller
            return None
        return msg

    def stop(self) -> None:
        """Accept no more messages; wake a thread waiting in :meth:`get_message`."""
        if not self.is_stopped:
            self.is_stopped = True
            self._queue.put(_STOPPED)


class AsyncBufferedReader(Listener):
    """A message buffer for :mod:`asyncio` code.

    Give it to a :class:`~can.Notifier` created with ``loop=``; then ``await``
    :meth:`get_message`, or iterate with ``async for msg in reader``. The iteration ends once
    the reader is stopped and every queued message has been returned.

    :param loop: the event loop the reader is used in. Optional: by default the loop that is
        running when a message first arrives. When it is given, messages may also be added from
        other threads (they are handed to the loop thread-safely); without it,
        :meth:`on_message_received` must be called in the loop.
    """

    def __init__(self, loop: Optional[asyncio.AbstractEventLoop] = None, **kwargs: Any) -> None:
        # asyncio is imported here, not when `can` is: it is a heavy import few programs need.
        import asyncio

        self._loop = loop
        self._running_loop = asyncio._get_running_loop
        self._queue: asyncio.Queue[Message] = asyncio.Queue()
        #: True once :meth:`stop` has been called.
        self.is_stopped = False

    @property
    def buffer(self) -> asyncio.Queue[Message]:
        """The underlying :class:`asyncio.Queue` (the name python-can 4.x uses)."""
        return self._queue

    def _in_loop(self) -> bool:
        loop = self._loop
        return loop is None or self._running_loop() is loop

    def on_message_received(self, msg: Message) -> None:
        """Append a message to the buffer.

        Call it in the event loop, or from any thread if the reader was given its ``loop``.

        :raises BufferError: if the reader has been stopped (see :class:`ReaderStoppedError`).
        """
        if self.is_stopped:
            raise ReaderStoppedError("the reader has been stopped; it accepts no more messages")
        if self._in_loop():
            self._queue.put_nowait(msg)
        else:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, msg)  # type: ignore[union-attr]

    async def get_message(self) -> Message:
        """Wait for the next message and return it: ``msg = await reader.get_message()``.

        :raises BufferError: if the reader has been stopped and no message is left.
        """
        msg = await self._queue.get()
        if msg is _STOPPED:
            self._queue.put_nowait(_STOPPED)  # for the next caller
            raise ReaderStoppedError("the reader has been stopped and no message is left")
        return msg

    def __aiter__(self) -> AsyncIterator[Message]:
        return self

    async def __anext__(self) -> Message:
        try:
            return await self.get_message()
        except ReaderStoppedError:
            raise StopAsyncIteration from None

    def stop(self) -> None:
        """Accept no more messages; waiting readers get the queued ones, then stop."""
        if self.is_stopped:
            return
        self.is_stopped = True
        if self._in_loop():
            self._queue.put_nowait(_STOPPED)
        else:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, _STOPPED)  # type: ignore[union-attr]


class RedirectReader(Listener):
    """Sends every message it receives on another bus (python-can 4.x).

    :param bus: the bus to send on.
    :param args: passed to ``bus.send`` after the message (e.g. a timeout).
    :param kwargs: passed to ``bus.send``.

    >>> import can
    >>> with can.Bus("redirect-in", interface="virtual") as bus_in, \\
    ...      can.Bus("redirect-out", interface="virtual") as bus_out, \\
    ...      can.Bus("redirect-out", interface="virtual") as watcher:
    ...     forward = RedirectReader(bus_out)
    ...     forward(Message(arbitration_id=0x42))
    ...     watcher.recv(timeout=1).arbitration_id == 0x42
    True
    """

    def __init__(self, bus: BusABC, *args: Any, **kwargs: Any) -> None:
        self.bus = bus
        self.args = args
        self.kwargs = kwargs

    def on_message_received(self, msg: Message) -> None:
        """Send ``msg`` on the target bus."""
        self.bus.send(msg, *self.args, **self.kwargs)
