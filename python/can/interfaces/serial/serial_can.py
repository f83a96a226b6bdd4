"""The ``serial`` interface: CAN frames in a simple binary format over a serial port (manual
section 4.3).

One frame on the wire (manual 4.3.2), all integers little-endian::

    0xAA | timestamp: u32 | DLC: u8 | arbitration id: u32 | payload: DLC bytes | 0xBB

As in python-can 4.x, the timestamp counts milliseconds (``Message.timestamp * 1000``, cut to
an integer) and the top bits of the id field carry the flags the manual leaves out: bit 31 an
extended id, bit 30 a remote frame (which has no payload bytes), bit 29 an error frame. A
standard data frame therefore has exactly the bytes of the manual's examples.

The reader resynchronises: bytes before a start byte are skipped, and a frame whose DLC is
over 8 or whose end byte is not 0xBB is reported as a :class:`can.CanOperationError` (its start
byte is dropped and the search goes on after it), so a wrong frame is never returned.
"""

from __future__ import annotations

import collections
import logging
import struct
from typing import Any, Optional, Union

from can import _core
from can.bus import BusABC, CanFilters
from can.exceptions import CanOperationError
from can.interfaces.serial._port import SerialPort, available_configs
from can.message import Message

__all__ = ["SerialBus"]

LOG = logging.getLogger("can.serial")

_START = 0xAA
_END = 0xBB
_HEADER = struct.Struct("<BIBI")  # start, timestamp, DLC, id + flags
_HEADER_SIZE = _HEADER.size  # 10
_pack = _HEADER.pack
_EXTENDED = 0x80000000
_REMOTE = 0x40000000
_ERROR = 0x20000000
_ID_MASK = 0x1FFFFFFF

_new_message = _core.new_message_from_fields


def encode_frame(msg: Message) -> bytes:
    """The serial frame of ``msg`` (manual 4.3.2).

    :raises ValueError: if the id does not fit its type, the payload is over 8 bytes, or the
        timestamp in milliseconds does not fit 4 bytes.

    >>> encode_frame(Message(arbitration_id=1, data=[0x11], timestamp=29.542,
    ...                      is_extended_id=False)).hex(" ")
    'aa 66 73 00 00 01 01 00 00 00 11 bb'
    """
    arbitration_id = msg.arbitration_id
    try:
        timestamp = int(msg.timestamp * 1000)
    except (OverflowError, ValueError, TypeError):
        raise ValueError(f"timestamp {msg.timestamp!r} is not a finite number") from None
    if not (msg.is_remote_frame or msg.is_error_frame):
        # The common case first, with one check each.
        data = msg.data
        length = len(data)
        if length <= 8 and 0 <= timestamp <= 0xFFFFFFFF and arbitration_id >= 0:
            if msg.is_extended_id:
                if arbitration_id <= _ID_MASK:
                    field = arbitration_id | _EXTENDED
                    return _pack(_START, timestamp, length, field) + data + b"\xbb"
            elif arbitration_id <= 0x7FF:
                return _pack(_START, timestamp, length, arbitration_id) + data + b"\xbb"
    if msg.is_extended_id:
        if not 0 <= arbitration_id <= _ID_MASK:
            raise ValueError(f"extended arbitration id 0x{arbitration_id:X} is over 0x1FFFFFFF")
        field = arbitration_id | _EXTENDED
    else:
        if not 0 <= arbitration_id <= 0x7FF:
            raise ValueError(f"standard arbitration id 0x{arbitration_id:X} is over 0x7FF")
        field = arbitration_id
    if msg.is_error_frame:
        field |= _ERROR
    if msg.is_remote_frame:
        field |= _REMOTE
        dlc = msg.dlc
        payload = b""
    else:
        payload = bytes(msg.data)
        dlc = len(payload)
    if not 0 <= dlc <= 8:
        raise ValueError(
            f"the serial frame format carries 0 to 8 data bytes, the message has {dlc}"
        )
    if not 0 <= timestamp <= 0xFFFFFFFF:
        raise ValueError(
            f"timestamp {msg.timestamp} s is out of range: in milliseconds it must fit 4 bytes "
            "(0 to about 49.7 days)"
        )
    return _HEADER.pack(_START, timestamp, dlc, field) + payload + b"\xbb"


class SerialBus(BusABC):
    """CAN frames over a serial port, in the binary format of manual section 4.3.2.

    :param channel: the serial device (``/dev/ttyUSB0``, ``COM1``) or a pyserial URL
        (``loop://``, ``socket://host:port``, ``rfc2217://host:port``).
    :param baudrate: the line speed in bit/s (some ports ignore it).
    :param timeout: seconds :meth:`send` waits at most for the port to take a frame.
    :param rtscts: hardware flow control (RTS/CTS) on or off.
    :raises can.CanInterfaceNotImplementedError: if pyserial is not installed
        (``pip install can[serial]``).
    :raises can.CanInitializationError: if the port cannot be opened.
    :raises ValueError: if ``channel`` is empty.
    """

    def __init__(
        self,
        channel: str,
        baudrate: int = 115200,
        timeout: float = 0.1,
        rtscts: bool = False,
        *args: Any,
        can_filters: Optional[CanFilters] = None,
        **kwargs: Any,
    ) -> None:
        self._port = SerialPort(
            channel, "serial", "serial", encode_frame, baudrate=baudrate, rtscts=rtscts
        )
        self._send = self._port.send
        self.channel_info = f"Serial interface: {channel}"
        self.timeout = timeout
        self._buffer = bytearray()
        # Decoded frames and errors not handed out yet, in arrival order.
        self._pending: collections.deque[Union[Message, CanOperationError]] = collections.deque()
        super().__init__(channel, can_filters=can_filters, **kwargs)

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """Send ``msg`` as one serial frame.

        The ``timeout`` argument is ignored: the bus's ``timeout`` bounds the wait for the port
        to take the frame (the manual's rule).

        :raises ValueError: if the message does not fit the frame format (see
            :func:`encode_frame`).
        :raises can.CanTimeoutError: if the port did not take the whole frame within the bus's
            timeout: none of it was sent, or the rest of it goes out before the next frame
            (the message says which).
        :raises can.CanOperationError: if the bus is shut down or writing failed.
        """
        if self._is_shutdown:
            raise CanOperationError(f"cannot send: {self.channel_info} is shut down")
        self._send(msg, self.timeout)

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        """The next frame, waiting up to ``timeout`` seconds.

        Bytes before a start byte are skipped. A frame with a DLC over 8 or a wrong end byte
        raises :class:`can.CanOperationError` when its turn comes; reading goes on after it.
        """
        return self._port.receive(self._pending, self._feed, timeout), False

    def _feed(self, data: bytes) -> None:
        self._buffer += data
        self._decode()

    def _decode(self) -> None:
        """Move every complete frame of the buffer to the pending queue."""
        buf = self._buffer
        pending = self._pending
        new = _new_message
        unpack = _HEADER.unpack_from
        pos = 0
        size = len(buf)
        while True:
            start = buf.find(b"\xaa", pos)
            if start < 0:
                if size > pos:
                    LOG.debug("skipped %d bytes before a start byte", size - pos)
                pos = size
                break
            if start > pos:
                LOG.debug("skipped %d bytes before a start byte", start - pos)
            pos = start
            if size - pos < _HEADER_SIZE:
                break
            _, timestamp, dlc, field = unpack(buf, pos)
            if dlc > 8:
                pending.append(
                    CanOperationError(
                        f"{self.channel_info}: malformed frame: DLC {dlc} is over 8 "
                        f"(header {bytes(buf[pos : pos + _HEADER_SIZE]).hex(' ')})"
                    )
                )
                pos += 1
                continue
            remote = bool(field & _REMOTE)
            end = pos + _HEADER_SIZE + (0 if remote else dlc)
            if end >= size:
                break
            if buf[end] != _END:
                pending.append(
                    CanOperationError(
                        f"{self.channel_info}: malformed frame: end byte 0x{buf[end]:02X} "
                        f"instead of 0xBB (frame {bytes(buf[pos : end + 1]).hex(' ')})"
                    )
                )
                pos += 1
                continue
            extended = bool(field & _EXTENDED)
            arbitration_id = field & _ID_MASK
            if not extended and arbitration_id > 0x7FF:
                pending.append(
                    CanOperationError(
                        f"{self.channel_info}: malformed frame: standard id "
                        f"0x{arbitration_id:X} is over 0x7FF"
                    )
                )
                pos = end + 1
                continue
            pending.append(
                new(
                    Message,
                    (
                        timestamp / 1000.0,
                        arbitration_id,
                        extended,
                        remote,
                        bool(field & _ERROR),
                        None,
                        dlc,
                        bytearray(buf[pos + _HEADER_SIZE : end]),
                        False,
                        True,
                        False,
                        False,
                    ),
                )
            )
            pos = end + 1
        del buf[:pos]

    def fileno(self) -> int:
        """The port's file descriptor (POSIX ports that have one)."""
        return self._port.fileno()

    def shutdown(self) -> None:
        """Close the serial port."""
        super().shutdown()
        self._port.close()

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        """The serial ports pyserial lists (none without pyserial)."""
        return available_configs("serial")
