"""The ``virtual`` interface: buses in one process that share a channel see each other's frames.

Manual section 4.12. Every bus connected to a channel name receives a copy of each message
another bus on that channel sends (and, with ``receive_own_messages=True``, of its own), with
``timestamp`` set to the time of sending and ``channel`` to the channel name. Receive queues are
unbounded unless ``rx_queue_size`` is given, so nothing is lost however far a receiver falls
behind.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Optional, Union

from can import _core
from can.bus import BusABC, CanFilters, CanProtocol
from can.exceptions import CanOperationError, CanTimeoutError
from can.message import Message

__all__ = ["VirtualBus"]

ChannelName = Union[str, int, None]

_copy_message = _core.copy_message

# One sentinel object wakes a receiver blocked in recv() when its bus is shut down.
_SHUTDOWN = object()


class _Channel:
    """The buses connected to one channel name. ``receivers`` is replaced, never mutated, so a
    sender can iterate a snapshot without holding the lock."""

    __slots__ = ("name", "receivers")

    def __init__(self, name: ChannelName) -> None:
        self.name = name
        self.receivers: tuple[VirtualBus, ...] = ()


_channels: dict[ChannelName, _Channel] = {}
_channels_lock = threading.Lock()


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
        :class:`can.CanTimeoutError`. A send waiting there ends when either bus is shut
        down: the sender's with :class:`can.CanOperationError`, the receiver's by skipping it.
    :param preserve_timestamps: keep the sender's timestamp instead of the time of sending.
    :param protocol: what :attr:`~can.BusABC.protocol` reports (python-can 4.x): a
        :class:`can.CanProtocol` or its name (``"CAN_FD"``). Like python-can's, the virtual bus
        carries classic and CAN FD frames whatever it says.
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
            chan.receivers = (*chan.receivers, self)
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
        for bus in self._channel.receivers:
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
                    raise CanTimeoutError(
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
        for bus in (*self._channel.receivers, self):
            q = bus._queue
            if isinstance(q, queue.Queue):
                with q.not_full:
                    q.not_full.notify_all()

    def shutdown(self) -> None:
        self._closing = True
        self._wake_waiting_senders()
        super().shutdown()
        with _channels_lock:
            chan = self._channel
            chan.receivers = tuple(b for b in chan.receivers if b is not self)
            if not chan.receivers and _channels.get(chan.name) is chan:
                del _channels[chan.name]
        try:
            self._queue.put_nowait(_SHUTDOWN)
        except queue.Full:
            pass

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        """The channels that have at least one bus connected in this process."""
        with _channels_lock:
            names = list(_channels)
        return [{"interface": "virtual", "channel": name} for name in names]
