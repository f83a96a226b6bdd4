"""The ``slcan`` interface: adapters that speak the LAWICEL / slcan ASCII protocol over a serial
port (manual section 4.4) — CANable, USBtin, LAWICEL CANUSB and CAN232, Arduino bridges — and
Linux's own ``slcan`` driver on the other end of a pseudo-terminal.

Every command and frame is one line of ASCII ended by ``\\r``; the adapter answers ``\\r`` (or
``z\\r`` / ``Z\\r`` for a sent frame) when it accepted a command and BEL (``\\x07``) when it did
not. The lines this module writes and reads:

==========================  ===================================================================
``C`` / ``O`` / ``L``       close the channel / open it / open it listen-only
``S0`` .. ``S8``            bitrate 10k, 20k, 50k, 100k, 125k, 250k, 500k, 750k, 1M (``S9``: 83.3k)
``sXXYY``                   SJA1000 bit timing registers BTR0 BTR1, in hex
``Yn``                      CAN FD data bitrate: ``Y2`` 2 Mbit/s, ``Y5`` 5 Mbit/s
``tiiildd..``               standard data frame: 3 hex digits id, DLC 0-8, DLC bytes in hex
``Tiiiiiiiildd..``          extended data frame: 8 hex digits id
``riiil`` / ``Riiiiiiiil``  standard / extended remote frame (DLC, no data)
``d`` / ``D``               CAN FD frame without bitrate switch; DLC digit 0-F
``b`` / ``B``               CAN FD frame with bitrate switch
``V`` / ``N``               ask for the version (``Vhhss``) / serial number (``Nxxxx``)
==========================  ===================================================================

A received frame line may end with 4 more hex digits, the adapter's millisecond counter
(``Z1``); it is checked and not used: a message's timestamp is the host time (:func:`time.time`)
at which its bytes were read, as in python-can 4.x. Lines that are neither frames nor answers
(for example the commands the Linux driver sends at ``ip link set up``) are skipped.
"""

from __future__ import annotations

import binascii
import collections
import logging
import time
from typing import Any, Optional, Union

from can import _core
from can.bus import BusABC, CanFilters
from can.exceptions import CanError, CanOperationError
from can.interfaces.serial._port import SerialPort, available_configs
from can.message import Message

__all__ = ["slcanBus"]

LOG = logging.getLogger("can.slcan")

_CR = b"\r"
_BEL = b"\x07"

#: bitrate in bit/s -> the command that selects it.
BITRATES: dict[int, str] = {
    10000: "S0",
    20000: "S1",
    50000: "S2",
    100000: "S3",
    125000: "S4",
    250000: "S5",
    500000: "S6",
    750000: "S7",
    1000000: "S8",
    83300: "S9",
}
#: CAN FD data bitrate in bit/s -> the command that selects it.
DATA_BITRATES: dict[int, str] = {2000000: "Y2", 5000000: "Y5"}

_FD_LENGTHS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64)
_DLC_OF_LENGTH = {length: dlc for dlc, length in enumerate(_FD_LENGTHS)}
_HEX_DIGITS = b"0123456789ABCDEF"
_unhexlify = binascii.unhexlify
_hexlify = binascii.hexlify
_new_message = _core.new_message_from_fields
# A reply to the "C" sent at open may be BEL (the channel was closed already); replies that
# arrive this long after open are no longer taken for it.
_OPEN_REPLY_WINDOW = 1.0

# Frame line kinds: first byte -> (extended, remote, fd, bitrate switch, id digits).
_KINDS: dict[int, tuple[bool, bool, bool, bool, int]] = {
    ord("t"): (False, False, False, False, 3),
    ord("T"): (True, False, False, False, 8),
    ord("r"): (False, True, False, False, 3),
    ord("R"): (True, True, False, False, 8),
    ord("d"): (False, False, True, False, 3),
    ord("D"): (True, False, True, False, 8),
    ord("b"): (False, False, True, True, 3),
    ord("B"): (True, False, True, True, 8),
}


def encode_line(msg: Message) -> bytes:
    """The slcan line (with its ``\\r``) that sends ``msg``.

    :raises ValueError: if the message cannot be said in slcan: an id out of range, a classic
        frame over 8 bytes, a CAN FD length that is no DLC, a remote CAN FD frame or an error
        frame.

    >>> encode_line(Message(arbitration_id=0x123, data=[0xDE, 0xAD], is_extended_id=False))
    b't1232DEAD\\r'
    >>> encode_line(Message(arbitration_id=0x1234567, is_remote_frame=True, dlc=8))
    b'R012345678\\r'
    """
    arbitration_id = msg.arbitration_id
    if not (msg.is_fd or msg.is_remote_frame or msg.is_error_frame):
        # The common case first, in one formatting step.
        payload = msg.data
        length = len(payload)
        if length <= 8 and arbitration_id >= 0:
            if msg.is_extended_id:
                if arbitration_id <= 0x1FFFFFFF:
                    return b"T%08X%d%s\r" % (arbitration_id, length, _hexlify(payload).upper())
            elif arbitration_id <= 0x7FF:
                return b"t%03X%d%s\r" % (arbitration_id, length, _hexlify(payload).upper())
    extended = msg.is_extended_id
    if extended:
        if not 0 <= arbitration_id <= 0x1FFFFFFF:
            raise ValueError(f"extended arbitration id 0x{arbitration_id:X} is over 0x1FFFFFFF")
    elif not 0 <= arbitration_id <= 0x7FF:
        raise ValueError(f"standard arbitration id 0x{arbitration_id:X} is over 0x7FF")
    if msg.is_error_frame:
        raise ValueError("slcan cannot send error frames")
    if msg.is_fd:
        if msg.is_remote_frame:
            raise ValueError("CAN FD has no remote frames")
        data = bytes(msg.data)
        dlc = _DLC_OF_LENGTH.get(len(data))
        if dlc is None:
            raise ValueError(
                f"a CAN FD frame carries 0-8, 12, 16, 20, 24, 32, 48 or 64 bytes, not {len(data)}"
            )
        kind = ("B" if extended else "b") if msg.bitrate_switch else ("D" if extended else "d")
    elif msg.is_remote_frame:
        dlc = msg.dlc
        if not 0 <= dlc <= 8:
            raise ValueError(f"a remote frame's DLC is 0 to 8, not {dlc}")
        data = b""
        kind = "R" if extended else "r"
    else:
        raise ValueError(f"a classic CAN frame carries 0 to 8 bytes, not {len(msg.data)}")
    head = (
        f"{kind}{arbitration_id:08X}{dlc:X}" if extended else f"{kind}{arbitration_id:03X}{dlc:X}"
    )
    return head.encode() + _hexlify(data).upper() + _CR


def _frame_error(line: bytes, why: str) -> CanOperationError:
    return CanOperationError(f"slcan: malformed frame line {line!r}: {why}")


def decode_line(line: bytes, timestamp: float) -> Message:
    """The message of one received frame line (without its ``\\r``).

    :raises can.CanOperationError: if the line is not a well-formed frame.

    >>> decode_line(b"t1234DEADBEEF", 0.0).data
    bytearray(b'\\xde\\xad\\xbe\\xef')
    """
    kind = _KINDS.get(line[0]) if line else None
    if kind is None:
        raise _frame_error(line, "not a frame line")
    extended, remote, fd, brs, digits = kind
    size = len(line)
    head = digits + 2
    if size < head:
        raise _frame_error(line, "too short")
    try:
        id_hex = line[1 : digits + 1]
        arbitration_id = int.from_bytes(_unhexlify(id_hex if extended else b"0" + id_hex), "big")
        dlc = _HEX_DIGITS.index(line[head - 1 : head].upper())
    except (binascii.Error, ValueError):
        raise _frame_error(line, "the id or the DLC is not hex") from None
    if extended:
        if arbitration_id > 0x1FFFFFFF:
            raise _frame_error(line, f"extended id 0x{arbitration_id:X} is over 0x1FFFFFFF")
    elif arbitration_id > 0x7FF:
        raise _frame_error(line, f"standard id 0x{arbitration_id:X} is over 0x7FF")
    if fd:
        length = _FD_LENGTHS[dlc]
    elif dlc > 8:
        raise _frame_error(line, f"DLC {dlc} is over 8")
    else:
        length = 0 if remote else dlc
    end = head + 2 * length
    rest = size - end
    if rest != 0 and rest != 4:
        raise _frame_error(
            line, f"{size - head} characters after the DLC, expected {2 * length} (+ 4)"
        )
    try:
        data = bytearray(_unhexlify(line[head:end]))
        if rest:
            _unhexlify(line[end:])
    except binascii.Error:
        raise _frame_error(line, "the data or the timestamp is not hex") from None
    msg: Message = _new_message(
        Message,
        (
            timestamp,
            arbitration_id,
            extended,
            remote,
            False,
            None,
            length if fd else dlc,
            data,
            fd,
            True,
            brs,
            False,
        ),
    )
    return msg


def _split_channel(channel: Any) -> tuple[str, Optional[int]]:
    """``"port@baud"`` -> ``("port", baud)``; anything else -> ``(channel, None)``."""
    if not isinstance(channel, str) or not channel:
        raise ValueError(
            "the slcan interface needs a channel: a serial device path or a pyserial URL, "
            f"optionally with @baudrate, got {channel!r}"
        )
    port, sep, baud = channel.rpartition("@")
    if sep and port and baud.isdigit():
        return port, int(baud)
    return channel, None


class slcanBus(BusABC):
    """A LAWICEL / slcan adapter on a serial port.

    :param channel: the serial device (``/dev/ttyUSB0``, ``COM8``) or a pyserial URL
        (``socket://host:port``, ``rfc2217://host:port``, ``loop://``), optionally followed by
        ``@baudrate`` (``/dev/ttyUSB0@115200``), which then overrides ``ttyBaudrate``.
    :param ttyBaudrate: the serial line speed in bit/s (``tty_baudrate`` is python-can 4.x's
        name for it, accepted too).
    :param bitrate: the CAN bitrate in bit/s, one of :data:`BITRATES` (sent as ``Sn``). None
        leaves the adapter's setting alone.
    :param btr: the SJA1000 bit timing registers BTR0 BTR1 as 4 hex digits (sent as ``sXXYY``).
    :param timing: python-can 4.x's bit timing object instead of ``bitrate``/``btr``: one with
        ``btr0`` and ``btr1`` attributes is sent as ``sXXYY``; one with ``nom_bitrate`` and
        ``data_bitrate`` (CAN FD) as ``Sn`` and ``Yn``.
    :param sleep_after_open: seconds to wait after opening the port before the first command
        (Arduino-based adapters reset when the port opens).
    :param rtscts: hardware flow control (RTS/CTS) on or off.
    :param listen_only: open the channel listen-only (``L`` instead of ``O``).
    :param poll_interval: how long one read of a port without a file descriptor (``loop://``,
        ``rfc2217://``, Windows) waits at most before it checks again whether the bus was shut
        down. Ports with one wait for data in ``select`` and do not poll.
    :param timeout: accepted for python-can 4.x compatibility (its serial read timeout); reads
        here wait exactly as long as :meth:`recv` is told to.
    :raises ValueError: if the channel is empty, both ``bitrate`` and ``btr`` (or ``timing``
        and either) are given, or a bitrate has no slcan command.
    :raises can.CanInterfaceNotImplementedError: if pyserial is not installed
        (``pip install can[serial]``).
    :raises can.CanInitializationError: if the port cannot be opened.
    """

    #: Seconds :meth:`send` waits for the port to take a frame when its timeout is None.
    DEFAULT_SEND_TIMEOUT = 5.0

    def __init__(
        self,
        channel: str,
        ttyBaudrate: int = 115200,
        bitrate: Optional[int] = None,
        btr: Optional[str] = None,
        sleep_after_open: float = 2,
        rtscts: bool = False,
        listen_only: bool = False,
        timing: Optional[Any] = None,
        poll_interval: float = 0.01,
        timeout: float = 0.001,
        tty_baudrate: Optional[int] = None,
        can_filters: Optional[CanFilters] = None,
        **kwargs: Any,
    ) -> None:
        port_name, channel_baud = _split_channel(channel)
        if tty_baudrate is not None:
            ttyBaudrate = tty_baudrate
        if channel_baud is not None:
            ttyBaudrate = channel_baud
        setup = self._setup_commands(bitrate, btr, timing)
        self._buffer = bytearray()
        self._pending: collections.deque[Union[Message, CanOperationError]] = collections.deque()
        # Replies still to come that a BEL is fine for: the "C" sent at open.
        self._bel_ok_until = 0.0
        self.listen_only = bool(listen_only)
        self._send_timeout = self.DEFAULT_SEND_TIMEOUT
        self.channel_info = f"slcan interface on {channel}"
        self._port = SerialPort(
            port_name,
            "slcan",
            "slcan",
            encode_line,
            baudrate=ttyBaudrate,
            rtscts=rtscts,
            poll_interval=poll_interval,
        )
        self._send = self._port.send
        try:
            if sleep_after_open > 0:
                time.sleep(sleep_after_open)
            self._bel_ok_until = time.monotonic() + _OPEN_REPLY_WINDOW
            self._command_lines(["C", *setup, "L" if self.listen_only else "O"])
            super().__init__(channel, can_filters=can_filters, **kwargs)
        except BaseException:
            self._port.close()
            raise

    @staticmethod
    def _setup_commands(
        bitrate: Optional[int], btr: Optional[str], timing: Optional[Any]
    ) -> list[str]:
        """The commands that set the bit timing, checked before the port is opened."""
        given = [name for name, v in (("bitrate", bitrate), ("btr", btr), ("timing", timing)) if v]
        if len(given) > 1:
            raise ValueError(f"give only one of bitrate, btr and timing, not {' and '.join(given)}")
        if bitrate:
            return [_bitrate_command(bitrate)]
        if btr:
            return [_btr_command(btr)]
        if timing is not None:
            if hasattr(timing, "data_bitrate") and hasattr(timing, "nom_bitrate"):
                data = int(timing.data_bitrate)
                if data not in DATA_BITRATES:
                    raise ValueError(
                        f"slcan has no command for a CAN FD data bitrate of {data} bit/s; "
                        f"valid: {', '.join(str(b) for b in DATA_BITRATES)}"
                    )
                return [_bitrate_command(int(timing.nom_bitrate)), DATA_BITRATES[data]]
            if hasattr(timing, "btr0") and hasattr(timing, "btr1"):
                return [f"s{int(timing.btr0):02X}{int(timing.btr1):02X}"]
            raise ValueError(
                f"timing must be a bit timing object with btr0/btr1 (classic) or nom_bitrate/"
                f"data_bitrate (CAN FD), got {timing!r}"
            )
        return []

    # -- commands ---------------------------------------------------------------------------

    def _command_lines(self, commands: list[str], timeout: Optional[float] = None) -> None:
        self._port.write(
            "".join(c + "\r" for c in commands).encode("ascii"),
            self.DEFAULT_SEND_TIMEOUT if timeout is None else timeout,
        )

    def set_bitrate(self, bitrate: int) -> None:
        """Close the channel, set ``bitrate`` (one of :data:`BITRATES`) and open it again.

        :raises ValueError: if slcan has no command for ``bitrate``.
        """
        self._command_lines(["C", _bitrate_command(bitrate), "L" if self.listen_only else "O"])

    def set_bitrate_reg(self, btr: str) -> None:
        """Close the channel, set the BTR0 BTR1 registers (4 hex digits) and open it again.

        :raises ValueError: if ``btr`` is not 4 hex digits.
        """
        self._command_lines(["C", _btr_command(btr), "L" if self.listen_only else "O"])

    def open(self) -> None:
        """Open the CAN channel (``O``, or ``L`` when listen-only)."""
        self._command_lines(["L" if self.listen_only else "O"])

    def close(self) -> None:
        """Close the CAN channel (``C``); the serial port stays open."""
        self._command_lines(["C"])

    def flush(self) -> None:
        """Drop what was received and not read yet."""
        self._buffer.clear()
        self._pending.clear()
        self._port.discard_input()

    def get_version(self, timeout: Optional[float]) -> tuple[Optional[int], Optional[int]]:
        """The adapter's hardware and software version (``V`` command), as two numbers.

        Frames that arrive meanwhile are kept for :meth:`recv`.

        :param timeout: seconds to wait for the answer (None: no limit).
        :returns: ``(hardware, software)``, or ``(None, None)`` if no answer came in time
            (python-can 4.x's result).
        :raises can.CanOperationError: if the adapter answered BEL (error) or something that
            is no version.
        """
        line = self._ask("V", timeout)
        if line is None:
            return None, None
        if len(line) != 5 or not line[1:].isdigit():
            raise CanOperationError(f"slcan: malformed version answer {line!r}")
        return int(line[1:3]), int(line[3:5])

    def get_serial_number(self, timeout: Optional[float]) -> Optional[str]:
        """The adapter's serial number (``N`` command).

        :param timeout: seconds to wait for the answer (None: no limit).
        :returns: the serial number, or None if no answer came in time.
        :raises can.CanOperationError: if the adapter answered BEL (error).
        """
        line = self._ask("N", timeout)
        return None if line is None else line[1:].decode("ascii", "replace").strip()

    def _ask(self, command: str, timeout: Optional[float]) -> Optional[bytes]:
        """Send ``command`` and return the answer line that starts with the same letter."""
        if self._is_shutdown:
            raise CanOperationError(f"cannot ask: {self.channel_info} is shut down")
        self._command_lines([command], timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        letter = command.encode("ascii")
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            data = self._port.read(left)
            if not data:
                return None
            answer = self._take(data, letter)
            if answer is not None:
                if answer == _BEL:
                    raise CanOperationError(
                        f"slcan: the adapter answered BEL (error) to the {command!r} command"
                    )
                return answer

    # -- receiving --------------------------------------------------------------------------

    def _take(self, data: bytes, answer_to: Optional[bytes] = None) -> Optional[bytes]:
        """Add ``data`` to the buffer and decode its complete lines into the pending queue.

        With ``answer_to`` (a command letter), the first answer line starting with it, or a
        BEL, is returned instead of being queued.
        """
        buf = self._buffer
        buf += data
        cut = buf.rfind(_CR)
        bel = buf.rfind(_BEL)
        if bel > cut:
            cut = bel
        if cut < 0:
            return None
        text = bytes(buf[: cut + 1])
        del buf[: cut + 1]
        if _BEL in text:
            # A BEL is a whole answer of its own, with no \r after it.
            text = text.replace(_BEL, b"\x07\r")
        lines = text.split(_CR)
        lines.pop()  # the empty rest after the last \r
        now = time.time()
        pending = self._pending
        answer: Optional[bytes] = None
        for line in lines:
            if not line:
                # "\r" alone: a command was accepted. The first answer after open is the one
                # to "C"; once it is in, a BEL is an error again.
                self._bel_ok_until = 0.0
                continue
            first = line[0]
            if first in _KINDS:
                try:
                    pending.append(decode_line(line, now))
                except CanOperationError as exc:
                    pending.append(exc)
                continue
            if first == 0x0A:  # "\n" after "\r", from some adapters
                line = line.lstrip(b"\n")
                if not line:
                    continue
                if line[0] in _KINDS:
                    try:
                        pending.append(decode_line(line, now))
                    except CanOperationError as exc:
                        pending.append(exc)
                    continue
            if line[-1:] == _BEL:
                if time.monotonic() < self._bel_ok_until:
                    # The answer to the "C" sent at open: the channel was closed already.
                    self._bel_ok_until = 0.0
                    continue
                if answer_to is not None and answer is None:
                    answer = _BEL
                    continue
                pending.append(
                    CanOperationError(
                        "slcan: the adapter answered BEL (error) to a command or frame"
                    )
                )
                continue
            if answer_to is not None and answer is None and line[:1] == answer_to:
                answer = line
                continue
            if line not in (b"z", b"Z"):
                LOG.debug("slcan: skipped the line %r", line)
        return answer

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        return self._port.receive(self._pending, self._take, timeout), False

    # -- sending ----------------------------------------------------------------------------

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """Send ``msg`` as one slcan line.

        :param timeout: seconds to wait at most for the port to take the line; None waits
            :attr:`DEFAULT_SEND_TIMEOUT` seconds.
        :raises ValueError: if the message cannot be said in slcan (see :func:`encode_line`).
        :raises can.CanTimeoutError: if the port did not take the whole line in time (the
            adapter is not reading): none of it was sent, or the rest of it goes out before
            the next line (the message says which).
        :raises can.CanOperationError: if the bus is shut down or writing failed.
        """
        if self._is_shutdown:
            raise CanOperationError(f"cannot send: {self.channel_info} is shut down")
        self._send(msg, self._send_timeout if timeout is None else timeout)

    # -- the rest ---------------------------------------------------------------------------

    def fileno(self) -> int:
        """The port's file descriptor (POSIX ports that have one)."""
        return self._port.fileno()

    def shutdown(self) -> None:
        """Close the CAN channel (``C``) and the serial port."""
        super().shutdown()
        try:
            if not self._port.closed:
                self._command_lines(["C"], timeout=0.5)
        except CanError as exc:
            LOG.debug("slcan: could not send C at shutdown: %s", exc)
        finally:
            self._port.close()

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        """The serial ports pyserial lists (none without pyserial)."""
        return available_configs("slcan")


def _bitrate_command(bitrate: int) -> str:
    command = BITRATES.get(int(bitrate))
    if command is None:
        valid = ", ".join(str(b) for b in sorted(BITRATES))
        raise ValueError(f"slcan has no command for a bitrate of {bitrate} bit/s; valid: {valid}")
    return command


def _btr_command(btr: Any) -> str:
    text = str(btr)
    if len(text) != 4 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise ValueError(f"btr must be 4 hex digits (BTR0 BTR1), got {btr!r}")
    return "s" + text.upper()
