"""The abstract CAN bus every interface implements (manual sections 3.1 and 3.7.1)."""

from __future__ import annotations

import functools
import logging
import threading
import time
import warnings
from abc import ABCMeta, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import Enum
from types import TracebackType
from typing import Any, Callable, ClassVar, Optional, Union

from can import _core
from can.broadcastmanager import (
    CyclicSendTaskABC,
    ThreadBasedCyclicSendTask,
    _pick,
    _required_period,
)
from can.exceptions import CanOperationError
from can.message import Message

__all__ = ["BusABC", "BusState", "CanFilter", "CanFilters", "CanProtocol"]

LOG = logging.getLogger("can.bus")

# How many already-waiting messages recv() still examines after its timeout has run out.
_MAX_OVERTIME_POLLS = 10_000

#: One filter: ``{"can_id": int, "can_mask": int}`` and optionally ``"extended": bool``.
CanFilter = dict[str, Union[int, bool]]
CanFilters = Sequence[CanFilter]


class BusState(Enum):
    """The state a CAN controller is in.

    The values are the manual's (1, 2, 3); as in python-can, members compare equal only to
    themselves, not to their values.
    """

    ACTIVE = 1
    PASSIVE = 2
    ERROR = 3


class CanProtocol(Enum):
    """The CAN protocol a bus speaks (python-can 4.x): see :attr:`BusABC.protocol`."""

    #: Classic CAN (CAN 2.0 A/B), up to 8 data bytes.
    CAN_20 = 1
    #: ISO CAN FD (ISO 11898-1:2015).
    CAN_FD = 2
    #: The Bosch CAN FD of before the ISO standard.
    CAN_FD_NON_ISO = 3
    #: CAN XL.
    CAN_XL = 4


def _idempotent_shutdown(shutdown: Callable[[BusABC], None]) -> Callable[[BusABC], None]:
    """Wrap an interface's ``shutdown``: periodic tasks stop first, a second call does nothing.

    Nested calls (a subclass's shutdown calling ``super().shutdown()``) run normally.
    """

    @functools.wraps(shutdown)
    def wrapper(self: BusABC) -> None:
        if self._is_shutdown:
            return
        if self._shutdown_running:
            shutdown(self)
            return
        self._shutdown_running = True
        try:
            self.stop_all_periodic_tasks()
            shutdown(self)
        finally:
            self._shutdown_running = False
            self._is_shutdown = True

    wrapper._can_idempotent = True  # type: ignore[attr-defined]
    return wrapper


def _tracked_init(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap an interface's ``__init__``: the bus counts as opened once the outermost
    ``__init__`` returns, so that a constructor that raised is not "left open" (see
    :meth:`BusABC.__del__`)."""

    @functools.wraps(init)
    def wrapper(self: BusABC, *args: Any, **kwargs: Any) -> None:
        depth = self._init_depth
        self._init_depth = depth + 1
        try:
            init(self, *args, **kwargs)
        finally:
            self._init_depth = depth
        if depth == 0:
            self._opened = True

    wrapper._can_tracked = True  # type: ignore[attr-defined]
    return wrapper


class BusABC(metaclass=ABCMeta):
    """The CAN bus abstract base class that every interface implements.

    Subclasses implement :meth:`send` and :meth:`_recv_internal` and set :attr:`channel_info`;
    they may implement :meth:`_apply_filters`, :meth:`_send_periodic_internal`,
    :meth:`flush_tx_buffer`, :meth:`shutdown`, :attr:`state` and
    :meth:`_detect_available_configs`. The bus can be iterated over to receive messages and used
    as a context manager, which shuts it down on exit.

    :param channel: the interface's channel identifier (backend dependent).
    :param can_filters: see :meth:`set_filters`.
    :param kwargs: backend dependent configuration.
    """

    #: A string describing the underlying bus and/or channel.
    channel_info: str = "unknown"

    #: Log level for received messages.
    RECV_LOGGING_LEVEL = 9

    #: The configuration keys this interface takes beyond the common ones, by the type a
    #: string value from a configuration file or the environment becomes: ``"int"``,
    #: ``"rate"`` (``500k``), ``"float"``, ``"bool"``, ``"filters"`` or ``"str"`` (kept as it
    #: is). :func:`can.util.load_config` converts by the chosen interface's declaration first,
    #: then by the common table, so each backend declares its own keys next to its code.
    CONFIG_KEYS: ClassVar[Mapping[str, str]] = {}

    _is_shutdown: bool = False
    _shutdown_running: bool = False
    # Set when the bus's constructor has returned (see _tracked_init); nesting depth meanwhile.
    _opened: bool = False
    _init_depth: int = 0
    #: What :attr:`protocol` returns; interfaces set it in their constructor.
    _can_protocol: CanProtocol = CanProtocol.CAN_20

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        shutdown = cls.__dict__.get("shutdown")
        if shutdown is not None and not getattr(shutdown, "_can_idempotent", False):
            cls.shutdown = _idempotent_shutdown(shutdown)  # type: ignore[method-assign,assignment]
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_can_tracked", False):
            cls.__init__ = _tracked_init(init)  # type: ignore[method-assign]

    @abstractmethod
    def __init__(
        self,
        channel: Any,
        can_filters: Optional[CanFilters] = None,
        **kwargs: Any,
    ) -> None:
        self._periodic_tasks: list[CyclicSendTaskABC] = []
        self._lock_send_periodic = threading.Lock()
        self._filters: Optional[CanFilters] = None
        # None while nothing is filtered, so recv() skips the match call per message.
        self._filter_set: Optional[_core.FilterSet] = None
        self._is_shutdown = False
        self.set_filters(can_filters)

    def __str__(self) -> str:
        return self.channel_info

    # -- receiving ------------------------------------------------------------------------------

    def recv(self, timeout: Optional[float] = None) -> Optional[Message]:
        """Block waiting for a message from the bus.

        :param timeout: seconds to wait for a message, or None to wait indefinitely.
        :returns: the message, or None when the timeout expired first.
        :raises can.CanOperationError: if the bus has been shut down or reading failed.
        """
        if self._is_shutdown:
            raise CanOperationError(f"cannot receive: the bus {self.channel_info!r} is shut down")
        filter_set = self._filter_set
        deadline = None if timeout is None else time.monotonic() + timeout
        time_left = timeout
        # Once the time is up, messages that are already waiting are still examined (without
        # waiting), so a filtered-out frame at the head of the queue does not hide a matching
        # one behind it; the cap keeps a flood of non-matching frames from holding us forever.
        overtime_polls = _MAX_OVERTIME_POLLS
        while True:
            msg, already_filtered = self._recv_internal(timeout=time_left)
            if msg is not None and (
                already_filtered or filter_set is None or filter_set.matches(msg)
            ):
                if LOG.isEnabledFor(self.RECV_LOGGING_LEVEL):
                    LOG.log(self.RECV_LOGGING_LEVEL, "Received: %s", msg)
                return msg
            if deadline is not None:
                if msg is None and time_left == 0:
                    return None
                time_left = max(0.0, deadline - time.monotonic())
                if time_left == 0:
                    overtime_polls -= 1
                    if overtime_polls < 0:
                        return None
            filter_set = self._filter_set

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        """Read one message from the bus and tell whether it was filtered already.

        Interfaces override this (never :meth:`recv`) so that :meth:`recv` can apply the
        software filters for them.

        :param timeout: seconds to wait, or None to wait indefinitely.
        :returns: ``(message or None on timeout, whether the message was already filtered)``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement _recv_internal")

    def __iter__(self) -> Iterator[Message]:
        """Yield messages as they arrive, until the bus is shut down."""
        while not self._is_shutdown:
            msg = self.recv(timeout=1.0)
            if msg is not None:
                yield msg

    # -- sending --------------------------------------------------------------------------------

    @abstractmethod
    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """Transmit a message to the CAN bus.

        :param msg: the message to send.
        :param timeout: if > 0, wait up to this many seconds for the transmit queue to accept
            the message (interface dependent); None blocks indefinitely.
        :raises can.CanError: if the message could not be sent.
        """

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
        """Start sending a message (or several in turn) every ``period`` seconds.

        The task runs until ``duration`` expires, the bus is shut down,
        :meth:`stop_all_periodic_tasks` is called or the task's ``stop()`` is called. The
        arguments are python-can 4.x's, in its order; ``msg`` (python-can 3.3.2's name) is
        accepted as a keyword in place of ``msgs``.

        :param msgs: the message, or a sequence of messages with one arbitration id sent in
            turn, one per period.
        :param period: seconds between two sends.
        :param duration: seconds to send for, or None to send until stopped.
        :param store_task: if True the bus keeps the task and stops it on shutdown; calling
            the task's ``stop()`` removes it from the bus again.
        :param autostart: start sending at once; with False, call the task's ``start()``
            (python-can 4.x).
        :param modifier_callback: called with the message before every send (python-can 4.x).
        :returns: the task.
        """
        msgs = _pick("send_periodic()", msgs, {"msg": msg}, "msgs")
        period = _required_period("send_periodic()", period)
        if self._is_shutdown:
            raise CanOperationError(f"cannot send: the bus {self.channel_info!r} is shut down")
        # Only the arguments that differ from their defaults are passed on, by name, so that an
        # interface written for python-can 3.x (msgs, period, duration) keeps working.
        extra: dict[str, Any] = {}
        if not autostart:
            extra["autostart"] = False
        if modifier_callback is not None:
            extra["modifier_callback"] = modifier_callback
        task = self._send_periodic_internal(msgs, period, duration, **extra)
        if store_task:
            original_stop = task.stop

            def stop_and_forget(remove_task: bool = True) -> None:
                if remove_task:
                    try:
                        self._periodic_tasks.remove(task)
                    except ValueError:
                        pass
                original_stop()

            task.stop = stop_and_forget  # type: ignore[method-assign]
            self._periodic_tasks.append(task)
        return task

    def _send_periodic_internal(
        self,
        msgs: Union[Message, Sequence[Message]],
        period: float,
        duration: Optional[float] = None,
        autostart: bool = True,
        modifier_callback: Optional[Callable[[Message], None]] = None,
    ) -> CyclicSendTaskABC:
        """Software cyclic sending; interfaces with native cyclic tasks override this."""
        return ThreadBasedCyclicSendTask(
            self,
            self._lock_send_periodic,
            msgs,
            period,
            duration,
            autostart=autostart,
            modifier_callback=modifier_callback,
        )

    def stop_all_periodic_tasks(self, remove_tasks: bool = True) -> None:
        """Stop every task started with :meth:`send_periodic` on this bus.

        :param remove_tasks: also stop tracking the stopped tasks.
        """
        for task in list(self._periodic_tasks):
            try:
                task.stop(remove_task=remove_tasks)  # type: ignore[call-arg]
            except TypeError:
                task.stop()
        if remove_tasks:
            self._periodic_tasks.clear()

    def flush_tx_buffer(self) -> None:  # noqa: B027 - optional hook, no-op by default
        """Discard every message that may be queued in the output buffer(s)."""

    # -- filtering ------------------------------------------------------------------------------

    @property
    def filters(self) -> Optional[CanFilters]:
        """The filters of this bus; assigning calls :meth:`set_filters`."""
        return self._filters

    @filters.setter
    def filters(self, filters: Optional[CanFilters]) -> None:
        self.set_filters(filters)

    def set_filters(self, filters: Optional[Iterable[CanFilter]] = None) -> None:
        """Receive only messages that match at least one filter.

        Each filter is a dict with ``can_id``, ``can_mask`` and optionally ``extended``.
        A message matches when ``arbitration_id & can_mask == can_id & can_mask`` and, if
        ``extended`` is given, ``is_extended_id == extended``. None or an empty sequence
        receives everything. Malformed filters raise :class:`ValueError` or :class:`TypeError`.

        >>> [{"can_id": 0x11, "can_mask": 0x21, "extended": False}]
        [{'can_id': 17, 'can_mask': 33, 'extended': False}]
        """
        listed = None if filters is None else list(filters)
        compiled = _core.FilterSet(listed)
        self._filters = listed or None
        self._filter_set = compiled if len(compiled) else None
        self._apply_filters(self._filters)

    def _apply_filters(self, filters: Optional[CanFilters]) -> None:  # noqa: B027
        """Hook for interfaces that can filter in the kernel or hardware."""

    def _matches_filters(self, msg: Message) -> bool:
        """Whether ``msg`` matches at least one of the current filters."""
        filter_set = self._filter_set
        return filter_set is None or bool(filter_set.matches(msg))

    # -- state and lifetime ---------------------------------------------------------------------

    @property
    def state(self) -> BusState:
        """The current state of the hardware."""
        return BusState.ACTIVE

    @state.setter
    def state(self, new_state: BusState) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot change its bus state")

    @property
    def protocol(self) -> CanProtocol:
        """The CAN protocol the bus was opened for (python-can 4.x); classic CAN unless the
        interface says otherwise."""
        return self._can_protocol

    def fileno(self) -> int:
        """A file descriptor that becomes readable when a message arrives, if there is one."""
        raise NotImplementedError(f"{type(self).__name__} has no file descriptor to wait on")

    def shutdown(self) -> None:
        """Stop periodic tasks and release the interface. A second call does nothing."""
        self.stop_all_periodic_tasks()
        self._is_shutdown = True

    def __del__(self) -> None:
        # A safety net, not the way to close a bus: as python-can 4.x does, a bus that is
        # garbage collected while still open is shut down, with a warning logged on "can.bus"
        # (4.x's) and a ResourceWarning (what Python's own files and sockets emit, which test
        # runs and -X dev show, pointing at where the bus was opened).
        if self._is_shutdown or not self._opened:
            return
        try:
            name = type(self).__name__
            LOG.warning("%s %r was not shut down; shutting it down now", name, self.channel_info)
            warnings.warn(
                f"{name} {self.channel_info!r} was garbage collected without shutdown(): call "
                "shutdown() or use the bus in a with block",
                ResourceWarning,
                source=self,
                stacklevel=2,
            )
        finally:
            self.shutdown()

    def __enter__(self) -> BusABC:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.shutdown()

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        """Configurations this interface could connect with now (each a Bus kwargs dict)."""
        return []
