"""A CAN bus over UDP multicast, wire-compatible with python-can 4.x's ``udp_multicast``.

Each frame is one datagram: a MessagePack map of the frame's fields, in this order,
``timestamp`` (float, the sender's), ``arbitration_id``, ``is_extended_id``,
``is_remote_frame``, ``is_error_frame``, ``channel``, ``dlc``, ``data`` (MessagePack bin),
``is_fd``, ``bitrate_switch`` and ``error_state_indicator``. That is what python-can 4.x sends
(captured from it in ``tests/interfaces/test_udp_multicast.py``), so buses of both libraries
share a group.

A bus receives on a socket bound to the port that joined the group, and sends from a socket of
its own; the sender's address tells its own datagrams (looped back by the kernel so that other
processes on the host see them) from everyone else's.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import select
import socket
import struct
import sys
import time
from typing import Any, Optional

from can.bus import BusABC, CanProtocol
from can.exceptions import (
    CanInitializationError,
    CanInterfaceNotImplementedError,
    CanOperationError,
)
from can.message import Message

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_GROUP_IPv4",
    "DEFAULT_GROUP_IPv6",
    "UdpMulticastBus",
    "pack_message",
    "unpack_message",
]

LOG = logging.getLogger("can.udp_multicast")

#: python-can 4.x's default groups and port: an organisation-local IPv4 group and a
#: site-local IPv6 one.
DEFAULT_GROUP_IPv4 = "239.74.163.2"
DEFAULT_GROUP_IPv6 = "ff15:7079:7468:6f6e:6465:6d6f:6d63:6173"
DEFAULT_PORT = 43113

# The largest datagram we read: a CAN FD frame packs into about 200 bytes.
_MAX_DATAGRAM = 4096
_FIELDS = (
    "timestamp",
    "arbitration_id",
    "is_extended_id",
    "is_remote_frame",
    "is_error_frame",
    "channel",
    "dlc",
    "data",
    "is_fd",
    "bitrate_switch",
    "error_state_indicator",
)
# SO_TIMESTAMPNS (Linux): the kernel's receive time of each datagram, as a timespec.
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform == "linux" else None)
_TIMESPEC = struct.Struct("@ll")


def _msgpack() -> Any:
    try:
        import msgpack
    except ImportError:
        raise CanInterfaceNotImplementedError(
            "the udp_multicast interface needs msgpack: pip install 'can[udp_multicast]'"
        ) from None
    return msgpack


def pack_message(msg: Message) -> bytes:
    """The datagram that carries ``msg`` (see the module's description of the format)."""
    fields = {name: getattr(msg, name) for name in _FIELDS}
    fields["data"] = bytes(msg.data)
    return _msgpack().packb(fields, use_bin_type=True)  # type: ignore[no-any-return]


def unpack_message(datagram: bytes, timestamp: Optional[float] = None) -> Message:
    """The frame a datagram carries, with ``timestamp`` (the receive time) if given, else the
    sender's timestamp.

    :raises ValueError: if the datagram is not a frame in this format.
    """
    msgpack = _msgpack()
    try:
        fields = msgpack.unpackb(datagram, raw=False)
    except Exception as e:  # msgpack raises several unrelated types for malformed input
        raise ValueError(f"not a MessagePack datagram ({e})") from None
    if not isinstance(fields, dict):
        raise ValueError(f"not a frame: a MessagePack {type(fields).__name__}, not a map")
    missing = [name for name in ("arbitration_id", "dlc", "data") if name not in fields]
    if missing:
        raise ValueError(f"not a frame: the map has no {', '.join(missing)}")
    args = {name: fields[name] for name in _FIELDS if name in fields}
    if timestamp is not None:
        args["timestamp"] = timestamp
    try:
        return Message(**args, check=True)
    except (TypeError, ValueError) as e:
        raise ValueError(f"not a valid frame: {e}") from None


def _family(channel: str) -> socket.AddressFamily:
    try:
        address = ipaddress.ip_address(channel)
    except ValueError:
        raise CanInitializationError(
            f"the udp_multicast channel must be a multicast IP address, such as "
            f"{DEFAULT_GROUP_IPv4} or {DEFAULT_GROUP_IPv6}; got {channel!r}"
        ) from None
    if not address.is_multicast:
        raise CanInitializationError(
            f"{channel} is not a multicast address (IPv4 224.0.0.0/4, IPv6 ff00::/8)"
        )
    return socket.AF_INET6 if address.version == 6 else socket.AF_INET


class UdpMulticastBus(BusABC):
    """A virtual CAN bus shared over UDP multicast (python-can 4.x's ``udp_multicast``).

    Buses that join one multicast group and port see each other's frames, in one process or
    in several, on one host or (with ``hop_limit`` above 1) across routers. Buses of
    python-can 4.x on the same group are peers too: the datagrams are the same.

    :param channel: the multicast group, IPv4 or IPv6 (default: python-can 4.x's IPv6 group,
        :data:`DEFAULT_GROUP_IPv6`; :data:`DEFAULT_GROUP_IPv4` is the IPv4 one).
    :param port: the UDP port, 0 to 65535.
    :param hop_limit: how many routers a datagram may cross (the IPv4 TTL): 1 keeps it on the
        local network.
    :param receive_own_messages: also receive the frames this bus sends (``is_rx=False``).
    :param fd: send and receive CAN FD frames; a bus without it refuses to send one and skips
        the ones it receives (as python-can 4.x does).
    :raises can.CanInterfaceNotImplementedError: if ``msgpack`` is not installed.
    :raises can.CanInitializationError: if ``channel`` is not a multicast address, a setting is
        out of range, or the sockets cannot be opened.

    >>> import can
    >>> with can.Bus(interface="udp_multicast", channel="239.74.163.2") as bus:  # doctest: +SKIP
    ...     bus.send(can.Message(arbitration_id=0x123, data=[1, 2, 3]))
    """

    def __init__(
        self,
        channel: str = DEFAULT_GROUP_IPv6,
        port: int = DEFAULT_PORT,
        hop_limit: int = 1,
        receive_own_messages: bool = False,
        fd: bool = True,
        **kwargs: Any,
    ) -> None:
        _msgpack()
        channel = str(channel)
        family = _family(channel)
        if not (isinstance(port, int) and 0 <= port <= 0xFFFF):
            raise CanInitializationError(f"port must be 0 to 65535, got {port!r}")
        if not (isinstance(hop_limit, int) and 0 <= hop_limit <= 255):
            raise CanInitializationError(f"hop_limit must be 0 to 255, got {hop_limit!r}")
        self.channel = channel
        self.port = port
        self.hop_limit = hop_limit
        self.receive_own_messages = bool(receive_own_messages)
        self.fd = bool(fd)
        self._can_protocol = CanProtocol.CAN_FD if self.fd else CanProtocol.CAN_20
        self.channel_info = f"UDP multicast group {channel} port {port}"
        self._family = family
        self._kernel_timestamps = False
        self._receiver, self._sender = self._open_sockets()
        try:
            self._own = self._sender.getsockname()[:2]
            super().__init__(channel=channel, **kwargs)
        except BaseException:
            self._close_sockets()
            raise

    def _open_sockets(self) -> tuple[socket.socket, socket.socket]:
        group = self.channel
        receiver = socket.socket(self._family, socket.SOCK_DGRAM)
        sender: Optional[socket.socket] = None
        try:
            receiver.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if sys.platform != "linux" and hasattr(socket, "SO_REUSEPORT"):
                # the BSDs and macOS share a multicast port only with SO_REUSEPORT
                receiver.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if _SO_TIMESTAMPNS is not None:
                try:
                    receiver.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
                    self._kernel_timestamps = True
                except OSError:
                    pass
            packed = socket.inet_pton(self._family, group)
            if self._family == socket.AF_INET6:
                receiver.bind(("::", self.port))
                request = packed + struct.pack("@I", 0)
                receiver.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, request)
            else:
                receiver.bind(("", self.port))
                request = packed + socket.inet_aton("0.0.0.0")
                receiver.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, request)
            sender = socket.socket(self._family, socket.SOCK_DGRAM)
            if self._family == socket.AF_INET6:
                sender.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, self.hop_limit)
                sender.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 1)
            else:
                sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, self.hop_limit)
                sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            # connected, so that its address (which the receivers see as the source) is known
            sender.connect((group, self.port))
        except OSError as e:
            receiver.close()
            if sender is not None:
                sender.close()
            raise CanInitializationError(
                f"cannot open UDP multicast group {group} port {self.port}: {e}"
            ) from e
        return receiver, sender

    def _close_sockets(self) -> None:
        self._receiver.close()
        self._sender.close()

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                ready, _, _ = select.select([self._receiver], [], [], wait)
                if not ready:
                    return None, False
                datagram, ancillary, _, source = self._receiver.recvmsg(
                    _MAX_DATAGRAM, socket.CMSG_SPACE(_TIMESPEC.size)
                )
            except (OSError, ValueError) as e:
                if isinstance(e, OSError) and e.errno == errno.EINTR:
                    continue
                raise CanOperationError(f"cannot receive from {self.channel_info}: {e}") from e
            own = tuple(source[:2]) == tuple(self._own)
            if own and not self.receive_own_messages:
                continue
            try:
                msg = unpack_message(datagram, self._receive_time(ancillary))
            except ValueError as e:
                raise CanOperationError(
                    f"a datagram from {source[0]} port {source[1]} on {self.channel_info} "
                    f"is not a CAN frame: {e}"
                ) from None
            if msg.is_fd and not self.fd:
                LOG.debug("skipped a CAN FD frame on %s, opened without fd", self.channel_info)
                continue
            msg.is_rx = not own
            return msg, False

    def _receive_time(self, ancillary: list[tuple[int, int, bytes]]) -> float:
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS:
                seconds, nanoseconds = _TIMESPEC.unpack_from(data)
                return float(seconds + nanoseconds / 1e9)
        return time.time()

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """Send ``msg`` to the group.

        :raises can.CanOperationError: if it is a CAN FD frame and the bus was opened without
            ``fd``, or the datagram could not be sent.
        """
        if msg.is_fd and not self.fd:
            raise CanOperationError(
                f"cannot send a CAN FD frame on {self.channel_info}: the bus was opened with "
                "fd=False"
            )
        if self._is_shutdown:
            raise CanOperationError(f"cannot send: the bus {self.channel_info!r} is shut down")
        datagram = pack_message(msg)
        try:
            self._sender.settimeout(timeout)
            self._sender.send(datagram)
        except OSError as e:
            raise CanOperationError(f"cannot send to {self.channel_info}: {e}") from e

    def fileno(self) -> int:
        """The receiving socket: readable when a datagram has arrived."""
        return self._receiver.fileno()

    def shutdown(self) -> None:
        super().shutdown()
        self._close_sockets()

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        """python-can 4.x's default groups, IPv6 first."""
        return [
            {"interface": "udp_multicast", "channel": DEFAULT_GROUP_IPv6},
            {"interface": "udp_multicast", "channel": DEFAULT_GROUP_IPv4},
        ]
