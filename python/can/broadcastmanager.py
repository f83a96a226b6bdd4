"""Cyclic (periodic) sending of messages: the broadcast manager of the manual, section 3.6.

The abstract classes here are the documented API. :class:`ThreadBasedCyclicSendTask` is the
software implementation :meth:`can.BusABC.send_periodic` falls back to when an interface has no
native cyclic sending. Its timing is done in Rust (``can._core.CyclicLoop``): absolute
deadlines (slot ``k`` is due at ``start + k * period``, so the period never drifts however long
a send takes), the GIL released while waiting, a short spin before each deadline for precision,
and one loop thread per bus serving all of that bus's tasks, which takes the GIL once for all
the sends that fall due together. The thread exists only while the bus has a running task.
"""

from __future__ import annotations

import abc
import atexit
import logging
import threading
import time
import warnings
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from can import _core
from can.message import Message

if TYPE_CHECKING:
    from can.bus import BusABC

__all__ = [
    "STOP_TIMEOUT",
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

#: Seconds ``stop()`` waits for a send of the task that is under way before it returns anyway
#: (the send is then left to finish on its own; no later send of the task starts).
STOP_TIMEOUT = 0.5

#: One message, or several sent in turn (python-can 4.x).
Messages = Union[Message, Sequence[Message]]


def _as_tuple(messages: Messages) -> tuple[Message, ...]:
    """The messages of a task as a tuple; all must share one arbitration id."""
    msgs = (messages,) if isinstance(messages, Message) else tuple(messages)
    if not msgs:
        raise ValueError("at least one message is needed for a cyclic task")
    first = msgs[0]
    for i, m in enumerate(msgs):
        if not isinstance(m, Message):
            raise TypeError(f"message #{i} of a cyclic task is a {type(m).__name__}, not a Message")
        if m.arbitration_id != first.arbitration_id:
            raise ValueError(
                "all messages of a cyclic task must have the same arbitration_id, got "
                f"{first.arbitration_id:#x} (message #0) and {m.arbitration_id:#x} (message #{i})"
            )
    return msgs


def _pick(
    where: str,
    value: Optional[Messages],
    aliases: dict[str, Optional[Messages]],
    name: str = "messages",
) -> Messages:
    """The messages given as ``name`` or under one of its older names (``message``, ``msg``,
    ``msgs``), of which exactly one must be given.

    :raises TypeError: if none or several are given, as for a missing or repeated argument.
    """
    given = [(name, value)] if value is not None else []
    given += [(alias, v) for alias, v in aliases.items() if v is not None]
    if not given:
        raise TypeError(f"{where} missing required argument: {name!r}")
    if len(given) > 1:
        names = " and ".join(repr(n) for n, _ in given)
        raise TypeError(f"{where} got {names}: give the messages once")
    return given[0][1]


def _required_period(where: str, period: Optional[float]) -> float:
    if period is None:
        raise TypeError(f"{where} missing required argument: 'period'")
    return period


class CyclicTask(abc.ABC):
    """Abstract base of every cyclic task."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Cancel this periodic task.

        The software task accepts a second ``stop()`` silently; a native implementation may
        raise :class:`can.CanError` for a task that is already stopped.
        """


class CyclicSendTaskABC(CyclicTask, abc.ABC):
    """A task that sends a message (or a sequence of messages in turn) every ``period`` seconds.

    :param messages: the message to send periodically, or a sequence of messages with the same
        arbitration id, sent one per period in turn. ``message`` (python-can 3.3.2's name) is
        accepted as a keyword in its place.
    :param period: seconds between two sends.
    :raises ValueError: for a period that is not positive, no message, or messages with
        different arbitration ids.
    """

    def __init__(
        self,
        messages: Optional[Messages] = None,
        period: Optional[float] = None,
        *,
        message: Optional[Messages] = None,
    ) -> None:
        where = f"{type(self).__name__}()"
        messages = _pick(where, messages, {"message": message})
        period = _required_period(where, period)
        if not period > 0:
            raise ValueError(f"period must be a positive number of seconds, got {period!r}")
        self.messages = _as_tuple(messages)
        self.period = float(period)
        #: The arbitration id of the task's messages.
        self.arbitration_id = self.messages[0].arbitration_id

    @property
    def message(self) -> Message:
        """The first (usually the only) message of the task."""
        return self.messages[0]

    @message.setter
    def message(self, message: Message) -> None:
        self.messages = _as_tuple(message)

    @property
    def can_id(self) -> int:
        """The arbitration id (the python-can 3.x name)."""
        return self.arbitration_id


class LimitedDurationCyclicSendTaskABC(CyclicSendTaskABC, abc.ABC):
    """A cyclic task that stops by itself after ``duration`` seconds.

    :param duration: seconds to keep sending, or None for no limit.
    """

    def __init__(
        self,
        messages: Optional[Messages] = None,
        period: Optional[float] = None,
        duration: Optional[float] = None,
        *,
        message: Optional[Messages] = None,
    ) -> None:
        super().__init__(messages, period, message=message)
        if duration is not None and not duration >= 0:
            raise ValueError(f"duration must be None or >= 0 seconds, got {duration!r}")
        self.duration = None if duration is None else float(duration)


class RestartableCyclicTaskABC(CyclicSendTaskABC, abc.ABC):
    """A cyclic task that can be started again after :meth:`stop`."""

    @abc.abstractmethod
    def start(self) -> None:
        """Restart a stopped periodic task."""


class ModifiableCyclicTaskABC(CyclicSendTaskABC, abc.ABC):
    """A cyclic task whose data can be changed while it runs, without altering its timing."""

    def modify_data(
        self,
        messages: Optional[Messages] = None,
        *,
        message: Optional[Messages] = None,
        msgs: Optional[Messages] = None,
    ) -> None:
        """Send ``messages`` from the next period on, in place of the current ones.

        :param messages: the new message (or sequence of messages); ``message`` (python-can
            3.3.2's name) and ``msgs`` are accepted as keywords in its place.
        :raises ValueError: if the arbitration id differs from the task's: it cannot be changed.
        """
        messages = _pick("modify_data()", messages, {"message": message, "msgs": msgs})
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
        messages: Optional[Messages] = None,
        count: int = 0,
        initial_period: float = 0.0,
        subsequent_period: Optional[float] = None,
        *,
        message: Optional[Messages] = None,
    ) -> None:
        super().__init__(messages, subsequent_period, message=message)
        self.channel = channel
        self.count = count
        self.initial_period = initial_period


class _BusLoop:
    """The timer loop of one bus and the Python threads that have run it.

    The Rust loop decides when a thread is needed (``CyclicLoop.add`` returns a generation
    number to start) and when it must exit; this class starts those threads and joins the ones
    that exit, so that no thread outlives the bus's last task.
    """

    def __init__(self, name: str) -> None:
        self.core = _core.CyclicLoop()
        self.name = name
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()
        _track(self)

    def add(
        self,
        send: Callable[[Message], None],
        messages: tuple[Message, ...],
        period: float,
        duration: Optional[float],
        on_error: Callable[[Exception], bool],
    ) -> int:
        with self._lock:
            task_id, generation = self.core.add(send, messages, period, duration, on_error)
            if generation is not None:
                thread = threading.Thread(
                    target=self.core.run,
                    args=(generation,),
                    name=f"can cyclic send loop for {self.name}",
                    daemon=True,
                )
                self._threads[generation] = thread
                thread.start()
        self.reap()
        return task_id

    def remove(self, task_id: int, timeout: float = STOP_TIMEOUT) -> None:
        """Unschedule a task, waiting at most about ``timeout`` seconds in all (for a send
        under way, then for the loop thread to end if it was the bus's last task)."""
        deadline = time.monotonic() + timeout
        _, _, exiting, detached = self.core.remove(task_id, timeout)
        if detached:
            log.debug(
                "cyclic task %d of %s: a send still under way after %g s is left to finish "
                "on its own",
                task_id,
                self.name,
                timeout,
            )
        if exiting is not None:
            with self._lock:
                thread = self._threads.get(exiting)
            if thread is not None and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        self.reap()

    def reap(self, timeout: float = 0.0) -> None:
        """Join the loop threads that have been told to exit (except the calling thread),
        waiting at most ``timeout`` seconds in all; a thread still busy in a send stays listed
        and is joined later."""
        deadline = time.monotonic() + timeout
        running = self.core.running_generation()
        me = threading.current_thread()
        with self._lock:
            exiting = [(g, t) for g, t in self._threads.items() if g != running and t is not me]
        for generation, thread in exiting:
            thread.join(max(0.0, deadline - time.monotonic()))
            if not thread.is_alive():
                with self._lock:
                    self._threads.pop(generation, None)

    @property
    def thread(self) -> Optional[threading.Thread]:
        """The thread currently running the loop, if any."""
        running = self.core.running_generation()
        return None if running is None else self._threads.get(running)


_loops: weakref.WeakKeyDictionary[Any, _BusLoop] = weakref.WeakKeyDictionary()
_loops_lock = threading.Lock()
_all_loops: weakref.WeakSet[_BusLoop] = weakref.WeakSet()
_all_loops_lock = threading.Lock()
_exit_hook_registered = False


def _track(loop: _BusLoop) -> None:
    """Remember a loop so that its tasks are stopped when the interpreter exits."""
    global _exit_hook_registered
    with _all_loops_lock:
        _all_loops.add(loop)
        if not _exit_hook_registered:
            atexit.register(_stop_all_loops)
            _exit_hook_registered = True


def _stop_all_loops() -> None:
    """At interpreter exit: stop every cyclic task and let the loop threads end, before the
    interpreter is finalized (a daemon thread that still wanted to send then would be cut off
    in the middle of a send)."""
    with _all_loops_lock:
        loops = list(_all_loops)
    for loop in loops:
        loop.core.clear(STOP_TIMEOUT)
        loop.reap(timeout=STOP_TIMEOUT)


def _loop_for(bus: Any) -> _BusLoop:
    """The timer loop shared by all software cyclic tasks of ``bus``."""
    name = str(getattr(bus, "channel_info", type(bus).__name__))
    try:
        with _loops_lock:
            loop = _loops.get(bus)
            if loop is None:
                loop = _loops[bus] = _BusLoop(name)
            return loop
    except TypeError:
        # Not hashable or not weak-referenceable: the task gets a loop of its own.
        return _BusLoop(name)


class ThreadBasedCyclicSendTask(
    LimitedDurationCyclicSendTaskABC, ModifiableCyclicTaskABC, RestartableCyclicTaskABC
):
    """Software cyclic sending, timed by the Rust loop of the bus.

    Each period the loop calls ``bus.send`` with the next message, holding ``lock``;
    ``modifier_callback`` (python-can 4.x) is called with the message first and may change it
    in place. Messages are sent as they are when their slot comes, so changing a message
    object in place changes what is sent, as does :meth:`modify_data`.

    :param bus: the bus to send on.
    :param lock: held around each send (a bus passes its ``_lock_send_periodic``).
    :param messages: the message, or messages with one arbitration id sent in turn
        (``message=`` is accepted as a keyword in its place).
    :param period: seconds between two sends (between two messages of a sequence).
    :param duration: seconds after the start from which nothing more is sent, or None.
    :param on_error: called with the exception when a send fails; it returns True to go on,
        False to stop the task. Without it a failed send is logged and stops the task.
    :param autostart: start sending at once.
    :param modifier_callback: called with each message before it is sent.
    """

    def __init__(
        self,
        bus: BusABC,
        lock: Union[threading.Lock, threading.RLock],
        messages: Optional[Messages] = None,
        period: Optional[float] = None,
        duration: Optional[float] = None,
        on_error: Optional[Callable[[Exception], bool]] = None,
        autostart: bool = True,
        modifier_callback: Optional[Callable[[Message], None]] = None,
        *,
        message: Optional[Messages] = None,
    ) -> None:
        super().__init__(messages, period, duration, message=message)
        self.bus = bus
        self.send_lock = lock
        self.on_error = on_error
        self.modifier_callback = modifier_callback
        #: The exception of the last failed send, if any.
        self.exception: Optional[Exception] = None
        self._loop = _loop_for(bus)
        self._task_id: Optional[int] = None
        # One flag per run of the task (a one-element list, read by its sender): cleared by
        # stop() before anything else, so that a send whose modifier_callback or send lock was
        # still being waited for when stop() returned does not go out afterwards.
        self._active: Optional[list[bool]] = None
        # What `thread` answers for the current (or last) run; None before the first start.
        self._run: Optional[_TaskThread] = None
        self._state_lock = threading.Lock()
        if autostart:
            self.start()

    # -- control --------------------------------------------------------------------------------

    @property
    def stopped(self) -> bool:
        """True when the task is not sending: stopped, expired, or stopped by a failed send."""
        task_id = self._task_id
        return task_id is None or self._loop.core.status(task_id) != "active"

    @property
    def thread(self) -> Optional[_TaskThread]:
        """A thread-like handle on the current (or last) run of the task, None before it was
        first started (python-can 4.x code calls ``task.thread.join()`` after ``stop()``).

        The tasks of a bus share one loop thread, so this is not a :class:`threading.Thread`;
        it answers ``is_alive()`` (the run is sending, or one of its sends is still under way)
        and ``join(timeout)`` (wait until it is not) for this task alone.
        """
        return self._run

    def start(self) -> None:
        """Start sending (again, after :meth:`stop` or the end of the duration).

        The first message goes out at once and the schedule starts from now. Starting a
        running task does nothing.
        """
        with self._state_lock:
            old = self._task_id
            if old is not None and self._loop.core.status(old) == "active":
                return
            self._task_id = None
        if old is not None:
            self._loop.remove(old)
        self._register_with_bus()
        active = [True]
        in_flight = [0]
        send = self._make_sender(active, in_flight)

        def on_error(exc: Exception) -> bool:
            return active[0] and self._on_send_error(exc)

        with self._state_lock:
            if self._task_id is not None:  # another thread started it meanwhile
                return
            self.exception = None
            self._active = active
            self._task_id = self._loop.add(
                send, self.messages, self.period, self.duration, on_error
            )
            self._run = _TaskThread(self._loop, self._task_id, in_flight, self.arbitration_id)

    def stop(self) -> None:
        """Stop sending. Stopping a stopped task does nothing.

        When this returns, no send of the task starts any more: not even one whose
        ``modifier_callback`` is still running. A call of the bus's ``send`` that was already
        under way is waited for up to :data:`~can.broadcastmanager.STOP_TIMEOUT` (0.5 s) and
        then left to finish on its own, so ``stop()`` returns promptly even when that send is
        blocked (a full queue) or the callback waits for a lock the caller of ``stop()``
        holds. The bus's loop thread has ended when this returns if no other task of the bus
        runs (unless it is the thread left finishing such a send; it ends right after it)."""
        with self._state_lock:
            task_id, self._task_id = self._task_id, None
            active, self._active = self._active, None
        if active is not None:
            active[0] = False
        if task_id is not None:
            self._loop.remove(task_id)

    def modify_data(
        self,
        messages: Optional[Messages] = None,
        *,
        message: Optional[Messages] = None,
        msgs: Optional[Messages] = None,
    ) -> None:
        """Send ``messages`` from the next period on, without altering the timing.

        :raises ValueError: if the arbitration id differs from the task's.
        """
        super().modify_data(messages, message=message, msgs=msgs)
        task_id = self._task_id
        if task_id is not None:
            self._loop.core.set_messages(task_id, self.messages)

    @property
    def sent(self) -> int:
        """How many messages the current (or last) run of the task has sent."""
        task_id = self._task_id
        stats = None if task_id is None else self._loop.core.stats(task_id)
        return 0 if stats is None else stats[0]

    # -- sending --------------------------------------------------------------------------------

    def _make_sender(self, active: list[bool], in_flight: list[int]) -> Callable[[Message], None]:
        # in_flight counts the sends of this run under way (for `thread`); only the bus's loop
        # thread changes it.
        send = self.bus.send
        lock = self.send_lock
        modifier = self.modifier_callback
        if modifier is None:

            def send_one(msg: Message) -> None:
                in_flight[0] += 1
                try:
                    with lock:
                        if active[0]:
                            send(msg)
                finally:
                    in_flight[0] -= 1

        else:

            def send_one(msg: Message) -> None:
                in_flight[0] += 1
                try:
                    modifier(msg)
                    with lock:
                        if active[0]:
                            send(msg)
                finally:
                    in_flight[0] -= 1

        return send_one

    def _on_send_error(self, exc: Exception) -> bool:
        """Called by the loop when a send raised: True to go on, False to stop the task."""
        if getattr(self.bus, "_is_shutdown", False) or getattr(
            self.bus, "_shutdown_running", False
        ):
            # The bus was shut down under a task it does not track (store_task=False).
            log.debug("cyclic task 0x%X ends: its bus is shut down", self.arbitration_id)
            return False
        self.exception = exc
        if self.on_error is not None:
            return bool(self.on_error(exc))
        log.error(
            "cyclic send of 0x%X on %s failed; the task is stopped",
            self.arbitration_id,
            getattr(self.bus, "channel_info", self.bus),
            exc_info=exc,
        )
        return False

    def _register_with_bus(self) -> None:
        # A task the bus stores has its stop() wrapped by BusABC.send_periodic to forget it;
        # restarting it makes the bus track it again, so that shutdown() stops it.
        tasks = getattr(self.bus, "_periodic_tasks", None)
        if "stop" in vars(self) and isinstance(tasks, list) and self not in tasks:
            tasks.append(self)


class _TaskThread:
    """``task.thread`` of a software cyclic task: one run of the task, as a thread would be.

    The run is alive while the task is scheduled on the loop or one of its sends is still
    under way (a send ``stop()`` left to finish on its own, say).
    """

    daemon = True

    def __init__(self, loop: _BusLoop, task_id: int, in_flight: list[int], can_id: int) -> None:
        self._loop = loop
        self._task_id = task_id
        self._in_flight = in_flight
        self.name = f"cyclic send task 0x{can_id:X} on {loop.name}"

    def is_alive(self) -> bool:
        """Whether the run still sends, or a send of it is under way."""
        return self._in_flight[0] > 0 or self._loop.core.status(self._task_id) == "active"

    def join(self, timeout: Optional[float] = None) -> None:
        """Wait until :meth:`is_alive` is false, or ``timeout`` seconds have passed.

        :raises RuntimeError: when called from within the task's own send (it would wait for
            itself), as :meth:`threading.Thread.join` does for the current thread.
        """
        loop_thread = self._loop.thread
        if loop_thread is threading.current_thread() and self._in_flight[0] > 0:
            raise RuntimeError("cannot join a cyclic task from within its own send")
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.0005
        while self.is_alive():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return
            time.sleep(pause if left is None else min(pause, left))
            pause = min(pause * 2, 0.02)

    @property
    def ident(self) -> Optional[int]:
        """The identifier of the loop thread sending for the run, while there is one."""
        thread = self._loop.thread
        return None if thread is None else thread.ident

    def __repr__(self) -> str:
        state = "alive" if self.is_alive() else "ended"
        return f"<cyclic task run {self.name!r}, {state}>"


def send_periodic(bus: BusABC, message: Messages, period: float, *args: Any, **kwargs: Any) -> Any:
    """Send ``message`` every ``period`` seconds on ``bus``: the deprecated functional API.

    Use :meth:`can.BusABC.send_periodic` instead; this calls it and returns the started task.

    .. deprecated:: 2.0
       Emits a :class:`DeprecationWarning`.
    """
    warnings.warn(
        "can.broadcastmanager.send_periodic() is deprecated, use bus.send_periodic() instead",
        DeprecationWarning,
        stacklevel=2,
    )
    return bus.send_periodic(message, period, *args, **kwargs)
