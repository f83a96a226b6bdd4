"""A bus that many threads may use at once (manual section 3.2).

:class:`ThreadSafeBus` is a proxy around an ordinary bus: every attribute and method of the bus
is reachable through it, and the public :class:`~can.BusABC` methods are serialized with two
locks, one for sending and one for receiving, so that a thread waiting for a message never
holds up one that sends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, Callable, Optional, Union

from can.broadcastmanager import CyclicSendTaskABC, _pick
from can.bus import BusABC, BusState, CanFilter, CanFilters
from can.exceptions import CanOperationError
from can.message import Message

__all__ = ["ThreadSafeBus"]

# The proxy's own attributes; every other attribute lives on the wrapped bus.
_OWN = frozenset({"__wrapped__", "_lock_send", "_lock_recv", "_closing"})


class ThreadSafeBus:
    """A thread-safe wrapper around a bus: a drop-in replacement for :class:`~can.BusABC`.

    ``ThreadSafeBus(*args, **kwargs)`` creates the bus with ``can.Bus(*args, **kwargs)`` and
    wraps it; ``ThreadSafeBus(bus)`` wraps an existing bus instance. Sending
    (:meth:`send`, :meth:`send_periodic`, :meth:`flush_tx_buffer`, :attr:`state`) and receiving
    (:meth:`recv`, iteration, :meth:`set_filters`) are locked separately; conflicting calls wait
    until the bus is free. Software periodic tasks of the bus take the send lock for each frame,
    so they never interleave with a :meth:`send` either. Every other attribute is the wrapped
    bus's own (``isinstance`` sees its class too), so backend-specific methods remain available,
    unlocked.

    As the manual notes, this assumes that the wrapped bus's ``send()`` and ``_recv_internal()``
    may run at the same time, and that its methods receive through ``_recv_internal()``.

    >>> import can
    >>> bus = can.ThreadSafeBus(interface="virtual", channel="tsb-doc", receive_own_messages=True)
    >>> isinstance(bus, can.BusABC)
    True
    >>> bus.send(can.Message(arbitration_id=0x10))
    >>> bus.recv(timeout=1).arbitration_id
    16
    >>> bus.shutdown()
    """

    __wrapped__: BusABC

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) == 1 and not kwargs and isinstance(args[0], BusABC):
            bus = args[0]
        else:
            from can.interface import Bus

            bus = Bus(*args, **kwargs)
        object.__setattr__(self, "__wrapped__", bus)
        object.__setattr__(self, "_lock_send", threading.RLock())
        object.__setattr__(self, "_lock_recv", threading.RLock())
        object.__setattr__(self, "_closing", False)
        # The bus's software cyclic tasks hold this lock around each send: make it ours.
        if hasattr(bus, "_lock_send_periodic"):
            object.__setattr__(bus, "_lock_send_periodic", self._lock_send)

    _lock_send: threading.RLock
    _lock_recv: threading.RLock
    _closing: bool

    # -- proxying -------------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__wrapped__, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self.__wrapped__, name, value)

    def __delattr__(self, name: str) -> None:
        if name in _OWN:
            raise AttributeError(f"cannot delete {name!r} of a ThreadSafeBus")
        delattr(self.__wrapped__, name)

    # Makes isinstance() and __class__ see the wrapped bus's class, as a transparent proxy does.
    @property  # type: ignore[misc]
    def __class__(self) -> type[BusABC]:  # type: ignore[override]
        return type(self.__wrapped__)

    def __dir__(self) -> Iterable[str]:
        return sorted(set(dir(self.__wrapped__)) | set(dir(type(self))))

    def __repr__(self) -> str:
        return f"<ThreadSafeBus wrapping {self.__wrapped__!r}>"

    def __str__(self) -> str:
        return str(self.__wrapped__)

    # -- receiving ------------------------------------------------------------------------------

    def recv(self, timeout: Optional[float] = None) -> Optional[Message]:
        """:meth:`can.BusABC.recv`, holding the receive lock."""
        with self._lock_recv:
            return self.__wrapped__.recv(timeout=timeout)

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        with self._lock_recv:
            return self.__wrapped__._recv_internal(timeout=timeout)

    def __iter__(self) -> Iterator[Message]:
        """Yield messages as they arrive (each received under the lock) until shutdown."""
        while not self.__wrapped__._is_shutdown:
            msg = self.recv(timeout=1.0)
            if msg is not None:
                yield msg

    @property
    def filters(self) -> Optional[CanFilters]:
        """The wrapped bus's filters; assigning calls :meth:`set_filters`."""
        return self.__wrapped__.filters

    @filters.setter
    def filters(self, filters: Optional[CanFilters]) -> None:
        self.set_filters(filters)

    def set_filters(self, filters: Optional[Iterable[CanFilter]] = None) -> None:
        """:meth:`can.BusABC.set_filters`, holding the receive lock."""
        with self._lock_recv:
            self.__wrapped__.set_filters(filters)

    # -- sending --------------------------------------------------------------------------------

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """:meth:`can.BusABC.send`, holding the send lock."""
        with self._lock_send:
            self.__wrapped__.send(msg, timeout=timeout)

    def send_periodic(
        self,
        msgs: Optional[Union[Message, Sequence[Message]]] = None,
        period: Optional[float] = None,
        duration: Optional[float] = None,
        store_task: bool = True,
        autostart: bool = True,
        modifier_callback: Optional[Callable[[Message], None]] = None,
        *,
        msg: Optional[Union[Message, Sequence[Message]]] = None,
    ) -> CyclicSendTaskABC:
        """:meth:`can.BusABC.send_periodic`, holding the send lock while the task is set up."""
        msgs = _pick("send_periodic()", msgs, {"msg": msg}, "msgs")
        with self._lock_send:
            self._check_open()
            return self.__wrapped__.send_periodic(
                msgs, period, duration, store_task, autostart, modifier_callback
            )

    def _send_periodic_internal(
        self,
        msgs: Union[Message, Sequence[Message]],
        period: float,
        duration: Optional[float] = None,
        autostart: bool = True,
        modifier_callback: Optional[Callable[[Message], None]] = None,
    ) -> CyclicSendTaskABC:
        with self._lock_send:
            self._check_open()
            return self.__wrapped__._send_periodic_internal(
                msgs, period, duration, autostart, modifier_callback
            )

    def stop_all_periodic_tasks(self, remove_tasks: bool = True) -> None:
        """:meth:`can.BusABC.stop_all_periodic_tasks`.

        Takes no lock: stopping a task waits for its send under way, which holds the send lock.
        """
        self.__wrapped__.stop_all_periodic_tasks(remove_tasks=remove_tasks)

    def flush_tx_buffer(self) -> None:
        """:meth:`can.BusABC.flush_tx_buffer`, holding the send lock."""
        with self._lock_send:
            self.__wrapped__.flush_tx_buffer()

    def _check_open(self) -> None:
        if self._closing:
            raise CanOperationError(f"{self.__wrapped__.channel_info} is being shut down")

    # -- state and lifetime ---------------------------------------------------------------------

    @property
    def state(self) -> BusState:
        """The wrapped bus's :attr:`~can.BusABC.state`, read and set under the send lock."""
        with self._lock_send:
            return self.__wrapped__.state

    @state.setter
    def state(self, new_state: BusState) -> None:
        with self._lock_send:
            self.__wrapped__.state = new_state

    def fileno(self) -> int:
        """The wrapped bus's :meth:`~can.BusABC.fileno`."""
        return self.__wrapped__.fileno()

    def shutdown(self) -> None:
        """Stop the periodic tasks, then shut the wrapped bus down under the send lock.

        It does not wait for the receive lock: shutting down is what wakes a thread that is
        blocked in :meth:`recv`.
        """
        with self._lock_send:
            if self._closing:
                return
            self._closing = True
        # Outside the lock: stopping a task waits for its send under way, which needs the lock.
        self.__wrapped__.stop_all_periodic_tasks()
        with self._lock_send:
            self.__wrapped__.shutdown()

    def __enter__(self) -> ThreadSafeBus:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.shutdown()
