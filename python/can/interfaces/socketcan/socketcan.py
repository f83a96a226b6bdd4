"""The SocketCAN bus and its kernel-driven cyclic tasks (manual section 4.1).

Both are facades over the native sockets in ``can._core`` (``SocketcanRaw``, ``SocketcanBcm``),
which do the system calls, the frame encoding and the message construction in Rust.
"""

from __future__ import annotations

import logging
import sys
import weakref
from collections.abc import Sequence
from typing import Any, Callable, Optional, Union

from can import _core
from can.broadcastmanager import (
    CyclicSendTaskABC,
    LimitedDurationCyclicSendTaskABC,
    ModifiableCyclicTaskABC,
    RestartableCyclicTaskABC,
)
from can.bus import BusABC, CanFilters, CanProtocol
from can.exceptions import CanInterfaceNotImplementedError
from can.message import Message

__all__ = ["DEFAULT_RECEIVE_BUFFER_SIZE", "CyclicSendTask", "SocketcanBus"]

LOG = logging.getLogger("can.socketcan")
# The logger BusABC.recv logs received messages to.
_BUS_LOG = logging.getLogger("can.bus")

#: The receive buffer a bus asks the kernel for, in bytes. The kernel's default (about 200 kB)
#: holds only a few hundred frames, so a burst that arrives while the program is busy would be
#: dropped. Granted in full to processes with ``CAP_NET_ADMIN`` (``SO_RCVBUFFORCE``); for
#: others the kernel caps it at ``net.core.rmem_max``.
DEFAULT_RECEIVE_BUFFER_SIZE = 8 * 1024 * 1024

#: ``CAN_ERR_MASK``: every error class (include/uapi/linux/can.h).
_CAN_ERR_MASK = 0x1FFFFFFF

Messages = Union[Message, Sequence[Message]]


def _native() -> Any:
    """The native module, or an error saying why SocketCAN is not available here."""
    if not hasattr(_core, "SocketcanRaw"):
        raise CanInterfaceNotImplementedError(
            f"SocketCAN is only available on Linux (this is {sys.platform})"
        )
    return _core


def _as_bcm_socket(bcm_socket: Any, channel: Optional[str]) -> Any:
    """A native BCM socket for what the caller passed: one of ours, a Python socket or an fd."""
    native = _native()
    if isinstance(bcm_socket, native.SocketcanBcm):
        return bcm_socket
    fileno = getattr(bcm_socket, "fileno", None)
    fd = fileno() if callable(fileno) else bcm_socket
    if not isinstance(fd, int):
        raise TypeError(
            "bcm_socket must be a BCM socket: can._core.SocketcanBcm, a socket.socket("
            f"AF_CAN, SOCK_DGRAM, CAN_BCM) or its file descriptor, got {bcm_socket!r}"
        )
    return native.SocketcanBcm.from_fd(fd, channel or "")


class CyclicSendTask(
    LimitedDurationCyclicSendTaskABC, ModifiableCyclicTaskABC, RestartableCyclicTaskABC
):
    """A message (or several, sent in turn) that the kernel's broadcast manager sends every
    ``period`` seconds, optionally for ``duration`` seconds only.

    The kernel keeps the time: a ``TX_SETUP`` starts the task (the first frame is sent at
    once), :meth:`modify_data` replaces the frames without restarting the timer, :meth:`stop`
    sends ``TX_DELETE`` and :meth:`start` sets the task up again. With a ``duration`` the
    kernel sends ``duration // period`` frames ``period`` apart and stops by itself.

    :param bcm_socket: an open BCM socket on the desired CAN channel: a
        ``can._core.SocketcanBcm`` (what :meth:`SocketcanBus.send_periodic` passes), or a
        connected ``socket.socket(AF_CAN, SOCK_DGRAM, CAN_BCM)`` (its descriptor is duplicated,
        the socket stays yours).
    :param messages: the message, or a sequence of messages with the same arbitration id.
    :param period: seconds between two frames.
    :param duration: approximate number of seconds to send for; None sends until stopped.
    :param autostart: start sending at once.
    """

    def __init__(
        self,
        bcm_socket: Any,
        messages: Messages,
        period: float,
        duration: Optional[float] = None,
        autostart: bool = True,
    ) -> None:
        super().__init__(messages, period, duration)
        self._check_messages(self.messages)
        self.bcm_socket = _as_bcm_socket(bcm_socket, None)
        self._channel: str = self.bcm_socket.channel
        # Only a socket the task opened itself (see _for_channel) is closed by stop() and
        # opened again by start(); one the caller passed stays open.
        self._owns_socket = False
        self._running = False
        if autostart:
            self.start()

    @staticmethod
    def _check_messages(messages: Sequence[Message]) -> None:
        kinds = {bool(m.is_fd) for m in messages}
        if len(kinds) > 1:
            raise ValueError("the messages of a cyclic task must be all CAN FD or all classic")
        if len(messages) > 256:
            raise ValueError(
                f"the broadcast manager cycles through at most 256 messages, got {len(messages)}"
            )

    @classmethod
    def _for_channel(
        cls,
        channel: str,
        messages: Messages,
        period: float,
        duration: Optional[float],
        autostart: bool = True,
    ) -> CyclicSendTask:
        """A task on a BCM socket of its own, opened on ``channel`` (closed by :meth:`stop`)."""
        sock = _native().SocketcanBcm(channel)
        task = cls(sock, messages, period, duration, autostart=False)
        task._owns_socket = True
        if autostart:
            task.start()
        return task

    def start(self) -> None:
        """Start the task (again, after :meth:`stop`): the first frame goes out at once."""
        if self.bcm_socket.closed:
            if not self._owns_socket:
                raise ValueError("cannot restart the task: its BCM socket was closed")
            self.bcm_socket = _native().SocketcanBcm(self._channel)
        self.bcm_socket.tx_start(self.messages, self.period, self.duration)
        self._running = True

    def stop(self) -> None:
        """Send a ``TX_DELETE`` to cancel this task (and close its socket if the task opened it).

        Stopping a task that is not running does nothing.
        """
        if not self.bcm_socket.closed:
            self.bcm_socket.tx_delete(self.messages[0])
            if self._owns_socket:
                self.bcm_socket.close()
        self._running = False

    def modify_data(
        self,
        messages: Optional[Messages] = None,
        *,
        message: Optional[Messages] = None,
        msgs: Optional[Messages] = None,
    ) -> None:
        """Send ``messages`` from the next period on, without restarting the timer.

        The messages must keep the task's arbitration id. A stopped task sends them when it is
        started again. Growing the number of messages of a running task restarts its timer
        (the kernel cannot add frames to a running task). ``message`` and ``msgs`` are accepted
        as keywords in place of ``messages``.
        """
        old_count = len(self.messages)
        super().modify_data(messages, message=message, msgs=msgs)
        self._check_messages(self.messages)
        if not self._running or self.bcm_socket.closed:
            return
        if len(self.messages) > old_count:
            self.bcm_socket.tx_delete(self.messages[0])
            self.bcm_socket.tx_start(self.messages, self.period, self.duration)
        else:
            self.bcm_socket.tx_update(self.messages)


class SocketcanBus(BusABC):
    """A bus on a Linux SocketCAN interface (``can0``, ``vcan0``, ...), or on all of them.

    Filters set with :meth:`set_filters` are installed in the kernel (``CAN_RAW_FILTER``), so
    frames that do not match never reach the program. A filter dict may carry
    ``"inverted": True`` to receive everything *except* what it matches.

    :param channel: the interface name, e.g. ``"vcan0"`` or ``"can0"``. An empty string receives
        from all CAN interfaces, and each received message's ``channel`` names the one it came
        from; messages sent on such a bus must name their interface in ``msg.channel``.
    :param receive_own_messages: also receive the frames this bus sends (``is_rx=False``).
    :param fd: enable CAN FD frames (:attr:`~can.BusABC.protocol` is then ``CanProtocol.CAN_FD``).
    :param can_filters: see :meth:`can.BusABC.set_filters`.
    :param local_loopback: let other programs on this machine see the frames this bus sends
        (the kernel default).
    :param ignore_rx_error_frames: do not receive error frames (by default every error class
        arrives as a message with ``is_error_frame=True``; see
        :func:`can.interfaces.socketcan.utils.error_frame_text`).
    :param receive_buffer_size: the receive buffer to ask the kernel for, in bytes (None: the
        kernel's default); see :data:`DEFAULT_RECEIVE_BUFFER_SIZE`.
    :param hardware_timestamps: timestamp received frames with the device's hardware clock
        where the driver provides one (``SO_TIMESTAMPING``); such timestamps count in the
        device's clock, not necessarily in Unix time. Frames without one keep the kernel's
        software timestamp.
    :param kwargs: other settings (such as ``bitrate`` and ``timing``, a :class:`can.BitTiming`
        or :class:`can.BitTimingFd`) are accepted and ignored, as in python-can 4.x: the bit rate
        and timing of a SocketCAN interface are set with ``ip link``.
    """

    def __init__(
        self,
        channel: str = "",
        receive_own_messages: bool = False,
        fd: bool = False,
        can_filters: Optional[CanFilters] = None,
        local_loopback: bool = True,
        ignore_rx_error_frames: bool = False,
        receive_buffer_size: Optional[int] = DEFAULT_RECEIVE_BUFFER_SIZE,
        hardware_timestamps: bool = False,
        **kwargs: Any,
    ) -> None:
        native = _native()
        channel = "" if channel is None else str(channel)
        self.channel = channel
        self.channel_info = (
            f"SocketCAN interface {channel!r}" if channel else "SocketCAN, all CAN interfaces"
        )
        self.receive_own_messages = bool(receive_own_messages)
        self.fd = bool(fd)
        self._can_protocol = CanProtocol.CAN_FD if self.fd else CanProtocol.CAN_20
        for ignored in ("bitrate", "timing"):
            if kwargs.get(ignored) is not None:
                LOG.debug(
                    "%s=%s ignored: set the bit rate of %s with `ip link`",
                    ignored,
                    kwargs[ignored],
                    channel or "the interfaces",
                )
        self._sock = native.SocketcanRaw(
            channel,
            Message,
            fd=self.fd,
            receive_own_messages=self.receive_own_messages,
            local_loopback=bool(local_loopback),
            error_mask=0 if ignore_rx_error_frames else _CAN_ERR_MASK,
            receive_buffer_size=receive_buffer_size,
            hardware_timestamps=bool(hardware_timestamps),
        )
        # Every kernel task this bus started, also ones stopped and started again (which the
        # bus's task list forgets): shutdown() stops them all.
        self._bcm_tasks: weakref.WeakSet[CyclicSendTask] = weakref.WeakSet()
        try:
            super().__init__(channel=channel, can_filters=can_filters, **kwargs)
        except BaseException:
            self._sock.close()
            raise

    # -- receiving ------------------------------------------------------------------------------

    def recv(self, timeout: Optional[float] = None) -> Optional[Message]:
        """Block waiting for a message from the bus.

        :param timeout: seconds to wait for a message, or None to wait indefinitely; 0 does
            not wait.
        :returns: the message, or None when the timeout expired first.
        :raises can.CanOperationError: if the bus has been shut down or reading failed.
        """
        # What BusABC.recv does, minus its deadline bookkeeping: the kernel filters, so the
        # first frame that arrives is the answer and no clock needs to be read in Python (a
        # clock read is a 12 us system call under user-mode Linux, more than the receive).
        msg: Optional[Message] = self._sock.recv(timeout)
        if msg is not None and _BUS_LOG.isEnabledFor(self.RECV_LOGGING_LEVEL):
            _BUS_LOG.log(self.RECV_LOGGING_LEVEL, "Received: %s", msg)
        return msg

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        # The kernel applied the filters already.
        return self._sock.recv(timeout), True

    def recv_batch(self, timeout: Optional[float] = None, max_messages: int = 64) -> list[Message]:
        """Receive up to ``max_messages`` messages in one call.

        Returns every message that is waiting (up to the limit) without waiting, or, when none
        is, waits up to ``timeout`` seconds (None: forever) for the first one. An empty list
        means the timeout expired. Messages come in the order they arrived, exactly as repeated
        :meth:`recv` calls would return them; one system call fetches up to 64 of them.
        """
        batch: list[Message] = self._sock.recv_batch(timeout, max_messages)
        return batch

    def _recv_to_writer(
        self, writer: object, timeout: Optional[float] = None, max_frames: int = 64
    ) -> tuple[int, int]:
        """:meth:`recv_batch` straight into a native log writer of ``can._core`` (the
        ``_writer`` of :class:`can.BLFWriter`, :class:`can.ASCWriter`,
        :class:`can.CanutilsLogWriter` or :class:`can.TRCWriter`), without a
        :class:`~can.Message` per frame: the logger's fast path. The file gets what writing the
        messages :meth:`recv_batch` returns would give. Returns ``(frames, error frames)``.
        """
        counts: tuple[int, int] = self._sock.recv_to_writer(writer, timeout, max_frames)
        return counts

    # -- sending --------------------------------------------------------------------------------

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """Transmit a message.

        :param msg: the message; on a bus opened with ``channel=""`` its ``channel`` names the
            interface to send on.
        :param timeout: seconds to wait for room in the transmit queue. When not given, the
            call waits while the socket's send buffer is full but fails at once when the
            interface's queue is full (as a blocking socket does); ``0`` never waits.
        :raises can.CanOperationError: if the frame could not be sent (queue full, interface
            down, CAN FD frame on a classic bus, ...).
        :raises can.CanTimeoutError: if the queue stayed full for ``timeout`` seconds.
        :raises ValueError: if the message cannot be a CAN frame (id or length out of range).
        """
        self._sock.send(msg, timeout)

    def _send_periodic_internal(
        self,
        msgs: Union[Message, Sequence[Message]],
        period: float,
        duration: Optional[float] = None,
        autostart: bool = True,
        modifier_callback: Optional[Callable[[Message], None]] = None,
    ) -> CyclicSendTaskABC:
        if modifier_callback is not None:
            # The kernel cannot call back into Python before each frame: use a thread.
            return super()._send_periodic_internal(
                msgs, period, duration, autostart, modifier_callback
            )
        messages = (msgs,) if isinstance(msgs, Message) else tuple(msgs)
        if not messages:
            raise ValueError("at least one message is needed for a cyclic task")
        channel = self.channel or messages[0].channel
        if not channel:
            raise ValueError(
                "this bus sends on all CAN interfaces (channel=''), so the message of a "
                "cyclic task must name its interface in msg.channel"
            )
        task = CyclicSendTask._for_channel(str(channel), messages, period, duration, autostart)
        self._bcm_tasks.add(task)
        return task

    # -- filters, descriptors, lifetime ---------------------------------------------------------

    def _apply_filters(self, filters: Optional[CanFilters]) -> None:
        self._sock.set_filters(filters)

    def fileno(self) -> int:
        """A file descriptor that is readable exactly while a message can be received without
        waiting, for ``select``, ``poll`` or an :mod:`asyncio` event loop.

        The bus fetches waiting frames from the kernel in batches, so the socket itself may go
        quiet while the bus still holds frames; the descriptor returned here (an epoll
        descriptor watching the socket and the bus's buffer) stays readable until the last one
        was received.
        """
        fd: int = self._sock.fileno()
        return fd

    @property
    def dropped_frames(self) -> int:
        """Frames the kernel dropped because this bus's receive queue was full (as reported
        with the frames received so far)."""
        n: int = self._sock.dropped_frames
        return n

    def shutdown(self) -> None:
        """Stop all periodic tasks and close the socket (waking a thread blocked in recv)."""
        for task in list(self._bcm_tasks):
            task.stop()
        self._sock.close()
        super().shutdown()

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        """One configuration per CAN interface of this machine (up or down)."""
        # Looked up by name: the function exists on Linux only.
        listing: Any = getattr(_core, "socketcan_interfaces", None)
        names: list[str] = [] if listing is None else listing()
        return [{"interface": "socketcan", "channel": name} for name in names]
