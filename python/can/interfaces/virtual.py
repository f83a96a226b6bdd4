"""The ``virtual`` interface: buses in one process that share a channel see each other's frames.

Manual section 4.12. Every bus connected to a channel name receives a copy of each message
another bus on that channel sends (and, with ``receive_own_messages=True``, of its own), with
``timestamp`` set to the time of sending and ``channel`` to the channel name. Receive queues are
unbounded unless ``rx_queue_size`` is given, so nothing is lost however far a receiver falls
behind.

A channel holds its buses by weak reference: a bus that nobody refers to any more is dropped
from its channel (and stops queueing what others send), even if it was never shut down.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
import weakref
from typing import Any, Optional, Union

from can import _core
from can.bus import BusABC, CanFilters, CanProtocol
from can.exceptions import CanOperationError, CanTimeoutError
from can.message import Message

__all__ = ["ReceiveQueueFullError", "VirtualBus"]

ChannelName = Union[str, int, None]

_copy_message = _core.copy_message

# One sentinel object wakes a receiver blocked in recv() when its bus is shut down.
_SHUTDOWN = object()


class ReceiveQueueFullError(CanOperationError, CanTimeoutError):
    """A receiver's queue (``rx_queue_size``) stayed full for the whole send timeout.

    A :class:`can.CanOperationError`, as python-can 4.x raises, and a
    :class:`can.CanTimeoutError`, which is what happened.
    """


class _Channel:
    """The buses connected to one channel name, by weak reference. ``receivers`` is replaced,
    never mutated, so a sender can iterate a snapshot without holding the lock."""

    __slots__ = ("name", "receivers")

    def __init__(self, name: ChannelName) -> None:
        self.name = name
        self.receivers: tuple[weakref.ref[VirtualBus], ...] = ()

    def buses(self) -> list[VirtualBus]:
        """The buses still alive, in the order they joined."""
        return [bus for bus in (ref() for ref in self.receivers) if bus is not None]

    def drop(self, ref: weakref.ref[VirtualBus]) -> None:
        """Remove a bus (its weak reference), and any collected one, and forget the channel
        once it has none."""
        with _channels_lock:
            self.receivers = tuple(r for r in self.receivers if r is not ref and r() is not None)
            if not self.receivers and _channels.get(self.name) is self:
                del _channels[self.name]


_channels: dict[ChannelName, _Channel] = {}
# Reentrant: a bus collected while this thread holds the lock (a garbage collection can start
# at any allocation) drops itself from its channel from within the locked section.
_channels_lock = threading.RLock()
_fresh_numbers = itertools.count()


def _as_protocol(protocol: Union[CanProtocol, str]) -> CanProtocol:
    if isinstance(protocol, CanProtocol):
        return protocol
    if isinstance(protocol, str) and protocol.upper() in CanProtocol.__members__:
        return CanProtocol[protocol.upper()]
    raise ValueError(
        f"protocol must be a can.CanProtocol or one of {', '.join(CanProtocol.__members__)}, "
        f"got {protocol!r}"
    )


class VirtualBus(BusABC):
    """A virtual CAN bus, for tests and prototypes without hardware.

    :param channel: the channel name; buses with equal names are connected.
    :param receive_own_messages: also receive the messages this bus sends (``is_rx=False``).
    :param rx_queue_size: bound the receive queue to this many messages (0: unbounded). When a
        receiver's queue is full, :meth:`send` waits up to its ``timeout`` and then raises
        :class:`ReceiveQueueFullError` (a :class:`can.CanOperationError`, as in python-can
        4.x, and a :class:`can.CanTimeoutError`). A send waiting there ends when either bus is shut
        down: the sender's with :class:`can.CanOperationError`, the receiver's by skipping it.
    :param preserve_timestamps: keep the sender's timestamp instead of the time of sending.
    :param protocol: what :attr:`~can.BusABC.protocol` reports (python-can 4.x): a
        :class:`can.CanProtocol` or its name (``"CAN_FD"``). Like python-can's, the virtual bus
        carries classic and CAN FD frames whatever it says.
    :param kwargs: ``timing`` (a :class:`can.BitTiming` or :class:`can.BitTimingFd`),
        ``bitrate`` and other settings of real interfaces are accepted and ignored, as in
        python-can 4.x: a virtual bus has no bit rate.
    """

    def __init__(
        self,
        channel: ChannelName = None,
        receive_own_messages: bool = False,
        rx_queue_size: int = 0,
        preserve_timestamps: bool = False,
        protocol: Union[CanProtocol, str] = CanProtocol.CAN_20,
        can_filters: Optional[CanFilters] = None,
        **kwargs: Any,
    ) -> None:
        self._can_protocol = _as_protocol(protocol)
        self.channel_id = channel
        self.channel_info = f"Virtual bus channel {channel}"
        self.receive_own_messages = bool(receive_own_messages)
        self.preserve_timestamps = bool(preserve_timestamps)
        # Set when shutdown() begins: sends waiting for room in a full queue give up.
        self._closing = False
        if rx_queue_size < 0:
            raise ValueError(f"rx_queue_size may not be negative, got {rx_queue_size}")
        self._queue: Union[queue.SimpleQueue[Any], queue.Queue[Any]] = (
            queue.Queue(maxsize=rx_queue_size) if rx_queue_size else queue.SimpleQueue()
        )
        super().__init__(channel=channel, can_filters=can_filters, **kwargs)
        with _channels_lock:
            chan = _channels.get(channel)
            if chan is None:
                chan = _channels[channel] = _Channel(channel)
            # The callback runs when the bus is garbage collected: it holds the channel, never
            # the bus, so the channel does not keep the bus alive.
            self._ref = weakref.ref(self, chan.drop)
            chan.receivers = (*chan.receivers, self._ref)
            # A bus collected meanwhile may have emptied and removed the channel: it has this
            # bus now, so it is listed again.
            _channels[channel] = chan
        self._channel = chan

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        try:
            if timeout is None:
                item = self._queue.get()
            elif timeout > 0:
                item = self._queue.get(timeout=timeout)
            else:
                item = self._queue.get_nowait()
        except queue.Empty:
            return None, False
        if item is _SHUTDOWN:
            self._queue.put(_SHUTDOWN)  # wake any other thread waiting on this bus too
            raise CanOperationError(f"{self.channel_info}: the bus was shut down while receiving")
        return item, False

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        if self._is_shutdown:
            raise CanOperationError(f"cannot send: {self.channel_info} is shut down")
        timestamp = msg.timestamp if self.preserve_timestamps else time.time()
        channel = self.channel_id
        for ref in self._channel.receivers:
            bus = ref()
            if bus is None or bus._closing:
                continue
            if bus is self:
                if not self.receive_own_messages:
                    continue
                is_rx = False
            else:
                is_rx = True
            copy = _copy_message(msg)
            copy.timestamp = timestamp
            copy.channel = channel
            copy.is_rx = is_rx
            bus._put(copy, timeout, self)

    def _put(self, msg: Message, timeout: Optional[float], sender: VirtualBus) -> None:
        q = self._queue
        if isinstance(q, queue.SimpleQueue):
            q.put(msg)
            return
        # queue.Queue.put, with a wait that a shutdown of either bus interrupts.
        deadline = None if timeout is None else time.monotonic() + timeout
        with q.not_full:
            waited = False
            while True:
                # After a wait the shutdown flags come first: a shutdown that woke this send
                # wins over room that a receiver made meanwhile.
                if waited and sender._closing:
                    raise CanOperationError(
                        f"cannot send: {sender.channel_info} was shut down while the send "
                        "waited for room in a receive queue"
                    )
                if waited and self._closing:
                    return  # the receiver is gone
                if q._qsize() < q.maxsize:
                    break
                waited = True
                if deadline is None:
                    q.not_full.wait()
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ReceiveQueueFullError(
                        f"{self.channel_info}: receive queue full ({q.maxsize} messages), "
                        f"message not delivered within {timeout} s"
                    )
                q.not_full.wait(left)
            q._put(msg)
            q.unfinished_tasks += 1
            q.not_empty.notify()

    def _wake_waiting_senders(self) -> None:
        """Wake sends waiting for room in a full receive queue of this channel, so that they
        see that this bus is shutting down."""
        for bus in (*self._channel.buses(), self):
            q = bus._queue
            if isinstance(q, queue.Queue):
                with q.not_full:
                    q.not_full.notify_all()

    def shutdown(self) -> None:
        self._closing = True
        self._wake_waiting_senders()
        super().shutdown()
        self._channel.drop(self._ref)
        try:
            self._queue.put_nowait(_SHUTDOWN)
        except queue.Full:
            pass

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        """The channels that have at least one bus connected in this process, and a fresh
        channel name that none has (``channel-<n>``), as python-can 4.x offers."""
        with _channels_lock:
            names = [name for name, chan in _channels.items() if chan.buses()]
            fresh = next(f"channel-{n}" for n in _fresh_numbers if f"channel-{n}" not in _channels)
        return [{"interface": "virtual", "channel": name} for name in [*names, fresh]]
