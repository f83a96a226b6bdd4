"""Cyclic (periodic) sending of messages: the broadcast manager of the manual, section 3.6.

The abstract classes here are the documented API; :class:`ThreadBasedCyclicSendTask` is the
software fallback :meth:`can.BusABC.send_periodic` uses when an interface has no native cyclic
sending. It keeps absolute deadlines (``start + n * period``), so the period does not drift
however long each send takes.
"""

from __future__ import annotations

import abc
import logging
import threading
import time
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from can.message import Message

if TYPE_CHECKING:
    from can.bus import BusABC

__all__ = [
    "CyclicSendTaskABC",
    "CyclicTask",
    "LimitedDurationCyclicSendTaskABC",
    "ModifiableCyclicTaskABC",
    "MultiRateCyclicSendTaskABC",
    "RestartableCyclicTaskABC",
    "ThreadBasedCyclicSendTask",
    "send_periodic",
]

log = logging.getLogger("can.bcm")

Messages = Union[Message, Sequence[Message]]


def _as_tuple(messages: Messages) -> tuple[Message, ...]:
    msgs = (messages,) if isinstance(messages, Message) else tuple(messages)
    if not msgs:
        raise ValueError("at least one message is needed for a cyclic task")
    first = msgs[0]
    for m in msgs[1:]:
        if m.arbitration_id != first.arbitration_id:
            raise ValueError(
                "all messages of a cyclic task must have the same arbitration_id, "
                f"got {first.arbitration_id:#x} and {m.arbitration_id:#x}"
            )
    return msgs


class CyclicTask(abc.ABC):
    """Abstract base of every cyclic task."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Cancel this periodic task."""


class CyclicSendTaskABC(CyclicTask, abc.ABC):
    """A task that sends one message (or a sequence of messages in turn) every ``period``."""

    def __init__(self, messages: Messages, period: float) -> None:
        if period <= 0:
            raise ValueError(f"period must be positive, got {period!r}")
        self.messages = _as_tuple(messages)
        self.period = float(period)
        self.arbitration_id = self.messages[0].arbitration_id

    @property
    def message(self) -> Message:
        """The first (usually the only) message of the task."""
        return self.messages[0]


class LimitedDurationCyclicSendTaskABC(CyclicSendTaskABC, abc.ABC):
    """A cyclic task that stops by itself after ``duration`` seconds (None: never)."""

    def __init__(self, messages: Messages, period: float, duration: Optional[float]) -> None:
        super().__init__(messages, period)
        if duration is not None and duration < 0:
            raise ValueError(f"duration may not be negative, got {duration!r}")
        self.duration = duration


class RestartableCyclicTaskABC(CyclicSendTaskABC, abc.ABC):
    """A cyclic task that can be started again after :meth:`stop`."""

    @abc.abstractmethod
    def start(self) -> None:
        """Restart a stopped task."""


class ModifiableCyclicTaskABC(CyclicSendTaskABC, abc.ABC):
    """A cyclic task whose data can be changed while it runs."""

    def modify_data(self, messages: Messages) -> None:
        """Send ``messages`` from the next period on, in place of the current ones.

        The arbitration id must stay the same; a different one raises :class:`ValueError`.
        """
        new = _as_tuple(messages)
        if new[0].arbitration_id != self.arbitration_id:
            raise ValueError(
                "modify_data cannot change the arbitration_id of a cyclic task "
                f"({self.arbitration_id:#x} -> {new[0].arbitration_id:#x}); "
                "stop it and start a new one"
            )
        self.messages = new


class MultiRateCyclicSendTaskABC(CyclicSendTaskABC, abc.ABC):
    """Sends ``count`` times at ``initial_period``, then at ``subsequent_period``."""

    def __init__(
        self,
        channel: Any,
        message: Messages,
        count: int,
        initial_period: float,
        subsequent_period: float,
    ) -> None:
        super().__init__(message, subsequent_period)
        self.channel = channel
        self.count = count
        self.initial_period = initial_period


class ThreadBasedCyclicSendTask(
    LimitedDurationCyclicSendTaskABC, ModifiableCyclicTaskABC, RestartableCyclicTaskABC
):
    """Software cyclic sending: one thread per task, absolute deadlines.

    :param bus: the bus whose ``send`` is called.
    :param lock: held around each send, so that a task and other senders do not interleave.
    :param on_error: called with the exception when a send fails; return True to go on,
        False (or no handler) to stop the task.
    :param modifier_callback: called with the message before each send, to change it in place
        (python-can 4.x).
    """

    def __init__(
        self,
        bus: BusABC,
        lock: threading.Lock,
        messages: Messages,
        period: float,
        duration: Optional[float] = None,
        on_error: Optional[Callable[[Exception], bool]] = None,
        autostart: bool = True,
        modifier_callback: Optional[Callable[[Message], None]] = None,
    ) -> None:
        super().__init__(messages, period, duration)
        self.bus = bus
        self.send_lock = lock
        self.on_error = on_error
        self.modifier_callback = modifier_callback
        self.stopped = True
        self._stop_event = threading.Event()
        self.thread: Optional[threading.Thread] = None
        if autostart:
            self.start()

    def stop(self) -> None:
        self.stopped = True
        self._stop_event.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self.thread = None

    def start(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            return
        self.stopped = False
        self._stop_event = threading.Event()
        name = f"Cyclic send task for 0x{self.arbitration_id:X}"
        self.thread = threading.Thread(target=self._run, args=(self._stop_event,), name=name)
        self.thread.daemon = True
        self.thread.start()

    def _run(self, stop: threading.Event) -> None:
        start = time.perf_counter()
        end = None if self.duration is None else start + self.duration
        n = 0
        while not stop.is_set():
            messages = self.messages
            msg = messages[n % len(messages)]
            if self.modifier_callback is not None:
                self.modifier_callback(msg)
            try:
                with self.send_lock:
                    self.bus.send(msg)
            except Exception as exc:
                log.warning("cyclic send of 0x%X failed: %s", self.arbitration_id, exc)
                if self.on_error is None or not self.on_error(exc):
                    self.stopped = True
                    break
            n += 1
            deadline = start + n * self.period
            if end is not None and deadline > end:
                self.stopped = True
                break
            delay = deadline - time.perf_counter()
            if delay > 0 and stop.wait(delay):
                break


def send_periodic(bus: BusABC, message: Message, period: float, *args: Any, **kwargs: Any) -> Any:
    """Deprecated functional form of :meth:`can.BusABC.send_periodic`."""
    warnings.warn(
        "can.broadcastmanager.send_periodic() is deprecated, use bus.send_periodic()",
        DeprecationWarning,
        stacklevel=2,
    )
    return bus.send_periodic(message, period, *args, **kwargs)
