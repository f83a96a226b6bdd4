"""The PCAN-Basic backend: :class:`PcanBus` (python-can manual section 4.6, with python-can
4.x's CAN FD, ``timing=``, ``device_id``, ``receive_own_messages`` and ``auto_reset``).

Receiving: ``CAN_Read`` / ``CAN_ReadFD`` never block; while the queue is empty the bus waits in
``poll`` on the channel's receive event (``PCAN_RECEIVE_EVENT``, a file descriptor on Linux)
with the GIL released, and on the platforms where the event is not a file descriptor it polls
the queue every millisecond. Each frame is one foreign call into preallocated buffers and one
``struct`` unpack; the message is built natively.
"""

from __future__ import annotations

import ctypes
import logging
import select
import struct
import sys
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Optional, Union

from can import _core
from can.bit_timing import BitTiming, BitTimingFd
from can.bus import BusABC, BusState, CanFilters, CanProtocol
from can.ctypesutil import HostClock, function_address, native_rx_enabled
from can.exceptions import CanInitializationError
from can.interfaces.pcan import basic
from can.interfaces.pcan.basic import (
    PcanCanInitializationError,
    PcanCanOperationError,
    PcanError,
)
from can.message import Message

__all__ = ["PcanBus", "PcanCanInitializationError", "PcanCanOperationError", "PcanError"]

LOG = logging.getLogger("can.pcan")

_new_message = _core.new_message_from_fields
_FD_LENGTHS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64)
_DLC_OF_LENGTH = {length: dlc for dlc, length in enumerate(_FD_LENGTHS)}

# TPCANMsg then TPCANTimestamp, one buffer: ID, MSGTYPE, LEN, DATA[8], millis,
# millis_overflow, micros.
_CLASSIC = struct.Struct("<IBB8s2xIHH")
_CLASSIC_TX = struct.Struct("<IBB8s")
_CLASSIC_UNPACK = _CLASSIC.unpack_from
_CLASSIC_TX_PACK = _CLASSIC_TX.pack_into
# TPCANMsgFD (72 bytes with its tail padding) then the TPCANTimestampFD (microseconds).
_FD = struct.Struct("<IBB64s2xQ")
_FD_TX = struct.Struct("<IBB64s")
_TS_OFFSET = 16  # sizeof(TPCANMsg)
_FD_TS_OFFSET = 72  # sizeof(TPCANMsgFD)

_SPECIAL = basic.PCAN_MESSAGE_ERRFRAME | basic.PCAN_MESSAGE_STATUS
_RTR, _EXTENDED, _ECHO = (
    basic.PCAN_MESSAGE_RTR,
    basic.PCAN_MESSAGE_EXTENDED,
    basic.PCAN_MESSAGE_ECHO,
)
_FDF, _BRS, _ESI = basic.PCAN_MESSAGE_FD, basic.PCAN_MESSAGE_BRS, basic.PCAN_MESSAGE_ESI
_EMPTY = basic.PCAN_ERROR_QRCVEMPTY
# Statuses CAN_Read gives instead of a frame that only report the bus state.
_BUS_ONLY = basic.PCAN_ERROR_ANYBUSERR | basic.PCAN_ERROR_QOVERRUN | basic.PCAN_ERROR_OVERRUN
_NO_EVENT_POLL = 0.001  # seconds between queue polls where there is no receive event fd
_MAX_WAIT = 1.0  # an unbounded wait looks at the bus's shutdown this often

_STATE_NAMES = {"ACTIVE": BusState.ACTIVE, "PASSIVE": BusState.PASSIVE, "ERROR": BusState.ERROR}


def _parse_state(state: Union[BusState, str]) -> BusState:
    """A BusState, or its name as a configuration file writes it (the manual's example has
    ``state = can.bus.BusState.PASSIVE``)."""
    if isinstance(state, BusState):
        return state
    if isinstance(state, str):
        name = state.strip().rsplit(".", 1)[-1].upper()
        if name in _STATE_NAMES:
            return _STATE_NAMES[name]
    raise ValueError(
        f"PcanBus: state must be can.BusState.ACTIVE or can.BusState.PASSIVE, not {state!r}"
    )


def _channel_handle(channel: Union[str, int]) -> int:
    if isinstance(channel, int) and not isinstance(channel, bool):
        if channel in basic.PCAN_CHANNEL_OF_HANDLE:
            return channel
    elif isinstance(channel, str):
        name = channel.strip().upper()
        if not name.startswith("PCAN_"):
            name = "PCAN_" + name
        if name in basic.PCAN_CHANNEL_NAMES:
            return basic.PCAN_CHANNEL_NAMES[name]
    raise ValueError(
        f"PcanBus: unknown channel {channel!r}: use a name such as 'PCAN_USBBUS1' "
        "(PCAN_ISABUSx, PCAN_DNGBUSx, PCAN_PCIBUSx, PCAN_USBBUSx, PCAN_PCCBUSx, PCAN_LANBUSx) "
        "or its numeric TPCANHandle"
    )


def _fd_bitrate_string(timing: Optional[BitTimingFd], kwargs: Mapping[str, Any]) -> bytes:
    """The ``TPCANBitrateFD`` string CAN_InitializeFD takes."""
    if timing is not None:
        values = {key: int(timing[key]) for key in basic.PCAN_FD_KEYS}
        clock = int(timing.f_clock)
    else:
        if "f_clock" in kwargs and "f_clock_mhz" in kwargs:
            raise ValueError("PcanBus: pass either f_clock or f_clock_mhz, not both")
        if "f_clock" in kwargs:
            clock = int(kwargs["f_clock"])
        elif "f_clock_mhz" in kwargs:
            clock = int(kwargs["f_clock_mhz"]) * 1000000
        else:
            raise ValueError(
                "PcanBus: CAN FD needs f_clock (or f_clock_mhz) and "
                f"{', '.join(basic.PCAN_FD_KEYS)}, or timing=can.BitTimingFd(...)"
            )
        missing = [key for key in basic.PCAN_FD_KEYS if key not in kwargs]
        if missing:
            raise ValueError(f"PcanBus: CAN FD needs {', '.join(missing)} as well")
        values = {key: int(kwargs[key]) for key in basic.PCAN_FD_KEYS}
    if clock not in basic.PCAN_FD_CLOCKS:
        raise ValueError(
            f"PcanBus: the CAN FD clock f_clock must be one of {basic.PCAN_FD_CLOCKS} Hz, "
            f"not {clock}"
        )
    text = ",".join([f"f_clock={clock}", *(f"{key}={values[key]}" for key in values)])
    return text.encode("ascii")


def _btr0btr1(timing: Optional[BitTiming], bitrate: int) -> int:
    if timing is not None:
        if timing.f_clock != 8000000:
            raise ValueError(
                "PcanBus: a classic CAN timing= must use f_clock=8000000 (the SJA1000 clock "
                f"PCAN-Basic's BTR0BTR1 codes are for), not {timing.f_clock}"
            )
        return (timing.btr0 << 8) | timing.btr1
    try:
        return basic.PCAN_BITRATES[int(bitrate)]
    except (KeyError, TypeError, ValueError):
        rates = sorted({r for r in basic.PCAN_BITRATES if r % 1000 == 0}, reverse=True)
        raise ValueError(
            f"PcanBus: bitrate {bitrate!r} is not one PCAN-Basic has a code for: use one of "
            f"{rates} or timing=can.BitTiming(f_clock=8000000, ...)"
        ) from None


def _filter_ranges(filters: CanFilters) -> Optional[list[tuple[int, int, int]]]:
    """(from, to, mode) ID ranges whose union is exactly what the filters accept, or None when
    a filter's mask does not select one contiguous range (then only software filtering)."""
    ranges: list[tuple[int, int, int]] = []
    for can_filter in filters:
        can_id = int(can_filter["can_id"])
        mask = int(can_filter["can_mask"])
        extended = can_filter.get("extended")
        kinds = [(basic.PCAN_MODE_STANDARD, 0x7FF), (basic.PCAN_MODE_EXTENDED, 0x1FFFFFFF)]
        if extended is not None:
            kinds = [kinds[1] if extended else kinds[0]]
        for mode, full in kinds:
            low_bits = ~mask & full  # the "don't care" bits
            if low_bits & (low_bits + 1):
                return None  # the don't-care bits are not the low ones: not one range
            start = can_id & mask & full
            if mode == basic.PCAN_MODE_STANDARD and can_id & mask & ~full:
                continue  # needs bits an 11-bit identifier does not have: none match
            ranges.append((start, start | low_bits, mode))
    return ranges


class PcanBus(BusABC):
    """A PCAN channel through PEAK-System's PCAN-Basic library.

    :param channel: the channel name, ``'PCAN_USBBUS1'`` by default (``PCAN_ISABUSx``,
        ``PCAN_DNGBUSx``, ``PCAN_PCIBUSx``, ``PCAN_USBBUSx``, ``PCAN_PCCBUSx``,
        ``PCAN_LANBUSx``), or its numeric handle.
    :param device_id: open the first attached channel whose device ID
        (``PCAN_DEVICE_ID``) is this instead of ``channel``.
    :param state: :attr:`BusState.ACTIVE <can.BusState.ACTIVE>` (default) or
        :attr:`BusState.PASSIVE <can.BusState.PASSIVE>`, listen only (``PCAN_LISTEN_ONLY``);
        a configuration file's ``can.bus.BusState.PASSIVE`` is read too.
    :param timing: a :class:`~can.BitTiming` (``f_clock`` 8 MHz) or :class:`~can.BitTimingFd`
        (opens the channel in CAN FD mode); takes precedence over ``bitrate`` and the FD keys.
    :param bitrate: classic CAN bit rate in bit/s, 500000 by default: one of PCAN-Basic's
        codes (1M, 800k, 500k, 250k, 125k, 100k, 95k, 83k, 50k, 47k, 33k, 20k, 10k, 5k).
    :param receive_own_messages: receive the frames this bus sends (``is_rx`` False).
    :param fd: open the channel in CAN FD mode, with ``f_clock`` or ``f_clock_mhz``,
        ``nom_brp``, ``nom_tseg1``, ``nom_tseg2``, ``nom_sjw``, ``data_brp``, ``data_tseg1``,
        ``data_tseg2`` and ``data_sjw`` (the manual's ranges).
    :param auto_reset: let the driver restart a bus-off controller itself
        (``PCAN_BUSOFF_AUTORESET``).
    :param can_filters: filters (see :meth:`~can.BusABC.set_filters`); those the driver's ID
        ranges express exactly are applied in the hardware too.

    :raises ValueError: for a bad argument (channel name, bit rate, FD keys, state).
    :raises PcanCanInitializationError: when the library refuses to open the channel (with
        its status code in ``error_code``).
    :raises can.CanInitializationError: when the library is not installed.
    """

    CONFIG_KEYS: ClassVar[Mapping[str, str]] = {
        "state": "str",
        "device_id": "int",
        "f_clock_mhz": "int",
        "auto_reset": "bool",
    }

    def __init__(
        self,
        channel: Union[str, int] = "PCAN_USBBUS1",
        device_id: Optional[int] = None,
        state: Union[BusState, str] = BusState.ACTIVE,
        timing: Optional[Union[BitTiming, BitTimingFd]] = None,
        bitrate: int = 500000,
        receive_own_messages: bool = False,
        **kwargs: Any,
    ) -> None:
        if channel is None:
            channel = "PCAN_USBBUS1"
        new_state = _parse_state(state)
        if new_state is BusState.ERROR:
            raise ValueError("PcanBus: state must be ACTIVE or PASSIVE, not ERROR")
        if timing is not None and not isinstance(timing, (BitTiming, BitTimingFd)):
            raise ValueError(
                f"PcanBus: timing must be a can.BitTiming or can.BitTimingFd, not {timing!r}"
            )
        fd = isinstance(timing, BitTimingFd) or (timing is None and bool(kwargs.get("fd")))
        if fd:
            fd_timing = timing if isinstance(timing, BitTimingFd) else None
            fd_string = _fd_bitrate_string(fd_timing, kwargs)
            btr = 0
        else:
            fd_string = b""
            btr = _btr0btr1(timing if isinstance(timing, BitTiming) else None, bitrate)
        self._f = basic.functions()
        handle = (
            self._find_channel_by_device_id(int(device_id))
            if device_id is not None
            else _channel_handle(channel)
        )
        self._handle = handle
        self._fd = fd
        self._fd_string = fd_string
        self._btr = btr
        self._listen_only = new_state is BusState.PASSIVE
        self._receive_own = bool(receive_own_messages)
        self._auto_reset = bool(kwargs.get("auto_reset", False))
        self.channel_info = basic.PCAN_CHANNEL_OF_HANDLE[handle]
        self._can_protocol = CanProtocol.CAN_FD if fd else CanProtocol.CAN_20
        #: The last bus status a status message or CAN_Read reported (a ``TPCANStatus``).
        self._bus_status = basic.PCAN_ERROR_OK
        self._error_counters = (0, 0)
        self._value = ctypes.c_uint32()
        self._unfiltered = True
        self._open()
        try:
            super().__init__(channel=self.channel_info, **kwargs)
        except BaseException:
            self._f["CAN_Uninitialize"](handle)
            raise

    # -- opening ------------------------------------------------------------------------------

    def _find_channel_by_device_id(self, device_id: int) -> int:
        for config in self._attached(self._f):
            if config["device_id"] == device_id:
                return int(basic.PCAN_CHANNEL_NAMES[config["channel"]])
        raise PcanCanInitializationError(
            f"PcanBus: no attached PCAN channel has device ID {device_id}"
        )

    def _set(self, parameter: int, value: int) -> int:
        self._value.value = value
        return int(
            self._f["CAN_SetValue"](
                self._handle, parameter, ctypes.addressof(self._value), ctypes.sizeof(self._value)
            )
        )

    def _get(self, parameter: int) -> Optional[int]:
        self._value.value = 0
        status = self._f["CAN_GetValue"](
            self._handle, parameter, ctypes.addressof(self._value), ctypes.sizeof(self._value)
        )
        return None if status != basic.PCAN_ERROR_OK else int(self._value.value)

    def _init_error(self, what: str, status: int) -> PcanCanInitializationError:
        return PcanCanInitializationError(
            f"{what} for {self.channel_info} failed: {basic.status_text(status)}",
            error_code=status,
        )

    def _open(self) -> None:
        """Initialize the channel with this bus's settings (also after a bus-off reset)."""
        f, handle = self._f, self._handle
        # A pre-initialization parameter: a listen-only channel never drives the bus.
        status = self._set(basic.PCAN_LISTEN_ONLY, int(self._listen_only))
        if status not in (basic.PCAN_ERROR_OK, basic.PCAN_ERROR_ILLPARAMTYPE):
            raise self._init_error("setting PCAN_LISTEN_ONLY", status)
        if self._fd:
            status = f["CAN_InitializeFD"](handle, self._fd_string)
            if status != basic.PCAN_ERROR_OK:
                raise self._init_error(
                    f"CAN_InitializeFD with {self._fd_string.decode()!r}", status
                )
        else:
            status = f["CAN_Initialize"](handle, self._btr, 0, 0, 0)
            if status != basic.PCAN_ERROR_OK:
                raise self._init_error(f"CAN_Initialize with BTR0BTR1 0x{self._btr:04X}", status)
        try:
            settings = [(basic.PCAN_ALLOW_ERROR_FRAMES, 1, False)]
            if self._receive_own:
                settings.append((basic.PCAN_ALLOW_ECHO_FRAMES, 1, True))
            if self._auto_reset:
                settings.append((basic.PCAN_BUSOFF_AUTORESET, 1, True))
            for parameter, value, required in settings:
                status = self._set(parameter, value)
                if status != basic.PCAN_ERROR_OK:
                    if required:
                        raise self._init_error(f"CAN_SetValue(0x{parameter:02X})", status)
                    LOG.debug(
                        "%s: parameter 0x%02X not set: 0x%X", self.channel_info, parameter, status
                    )
            self._setup_receive()
        except BaseException:
            f["CAN_Uninitialize"](handle)
            raise

    def _setup_receive(self) -> None:
        f = self._f
        size, ts_offset, kind = (
            (_FD.size, _FD_TS_OFFSET, "CAN_ReadFD")
            if self._fd
            else (_CLASSIC.size, _TS_OFFSET, "CAN_Read")
        )
        self._rx = ctypes.create_string_buffer(size)
        # The timestamp buffer: a view of the receive buffer's tail, passed as a pointer.
        self._rx_ts = (ctypes.c_char * (size - ts_offset)).from_buffer(self._rx, ts_offset)
        self._read = f[kind + "/fast"]
        self._decode = self._fd_message if self._fd else self._classic_message
        self._tx = ctypes.create_string_buffer(_FD_TX.size if self._fd else _CLASSIC_TX.size)
        self._write = f["CAN_WriteFD/fast" if self._fd else "CAN_Write/fast"]
        # Device timestamps count from system start-up, as the monotonic clock does.
        clock = HostClock()
        clock.sync(time.monotonic())
        self._time_offset = clock.to_host(0.0)
        # The native helper: CAN_Read called by its C address into the same buffer, the
        # message of a plain classic frame built in Rust; anything else it leaves in the
        # buffer with its status for _recv_slow, as the ctypes call does. CAN FD buses and
        # other platforms use the ctypes call.
        self._native: Optional[Any] = None
        self._native_tx: Optional[Any] = None
        if not self._fd and native_rx_enabled():
            self._native_tx = _core.PcanWriter(function_address(f["CAN_Write"]), self._handle)
            self._native = _core.PcanReader(
                function_address(f["CAN_Read"]),
                self._handle,
                ctypes.addressof(self._rx),
                self._rx,
                self._time_offset,
                self.channel_info,
                Message,
            )
        self._event_fd = -1
        self._poller: Optional[select.poll] = None
        if sys.platform.startswith("linux"):
            fd = self._get(basic.PCAN_RECEIVE_EVENT)
            if fd is not None and fd > 0:
                self._event_fd = fd
                self._poller = select.poll()
                self._poller.register(fd, select.POLLIN)

    # -- receiving ----------------------------------------------------------------------------

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        native = self._native
        if native is not None:
            got = native.read()
            if got.__class__ is Message:
                return got, self._unfiltered
            return self._recv_slow(timeout, got)
        rx = self._rx
        status = self._read(self._handle, rx, self._rx_ts)
        if status == 0 and not self._fd:
            # The fast path, a classic data frame waiting: _classic_message inlined.
            can_id, msgtype, length, data, millis, overflow, micros = _CLASSIC_UNPACK(rx)
            if not msgtype & _SPECIAL and not overflow:
                remote = msgtype & _RTR != 0
                return _new_message(
                    Message,
                    (
                        # (micros + 1000 * millis) microseconds; _classic_message has the
                        # millis_overflow term, which takes 49.7 days of uptime to matter.
                        self._time_offset + millis * 0.001 + micros * 1e-6,
                        can_id,
                        msgtype & _EXTENDED != 0,
                        remote,
                        False,
                        self.channel_info,
                        length,
                        b"" if remote else data[:length],
                        False,
                        msgtype & _ECHO == 0,
                        False,
                        False,
                    ),
                ), self._unfiltered
        # Anything else (FD, a special message, an empty queue, an error): the frame is still
        # in the buffer when the status is OK.
        return self._recv_slow(timeout, status)

    def _recv_slow(self, timeout: Optional[float], status: int) -> tuple[Optional[Message], bool]:
        if self._is_shutdown:
            raise PcanCanOperationError(
                f"cannot receive: the bus {self.channel_info!r} is shut down"
            )
        read, handle, rx, rx_ts = self._read, self._handle, self._rx, self._rx_ts
        deadline: Optional[float] = None
        while True:
            if status == basic.PCAN_ERROR_OK:
                msg = self._decode()
                if msg is not None:
                    return msg, False
                # A status message: the bus state was updated; read on.
            else:
                if not status & _EMPTY:
                    if status & ~_BUS_ONLY:
                        raise PcanCanOperationError(
                            f"{'CAN_ReadFD' if self._fd else 'CAN_Read'} on "
                            f"{self.channel_info} failed: {basic.status_text(status)}",
                            error_code=status,
                        )
                    self._bus_status = status
                # The queue is empty: wait.
                if timeout is not None:
                    now = time.monotonic()
                    if deadline is None:
                        deadline = now + timeout
                    remaining = deadline - now
                    if remaining <= 0:
                        return None, False
                else:
                    remaining = _MAX_WAIT
                self._wait(min(remaining, _MAX_WAIT))
                if self._is_shutdown:
                    raise PcanCanOperationError(
                        f"cannot receive: the bus {self.channel_info!r} was shut down"
                    )
            status = read(handle, rx, rx_ts)

    def _wait(self, seconds: float) -> None:
        poller = self._poller
        if poller is not None:
            # poll() releases the GIL while it waits.
            poller.poll(max(1, int(seconds * 1000 + 0.999)))
        else:
            time.sleep(min(seconds, _NO_EVENT_POLL))

    def _classic_message(self) -> Optional[Message]:
        can_id, msgtype, length, data, millis, overflow, micros = _CLASSIC.unpack_from(self._rx)
        # micros + 1000 * millis + 0x100000000 * 1000 * millis_overflow microseconds
        timestamp = (micros + 1000 * millis + 4294967296000 * overflow) * 1e-6 + self._time_offset
        if msgtype & _SPECIAL:
            return self._special(msgtype, can_id, data[:length], timestamp)
        remote = msgtype & _RTR != 0
        msg: Message = _new_message(
            Message,
            (
                timestamp,
                can_id,
                msgtype & _EXTENDED != 0,
                remote,
                False,
                self.channel_info,
                length,
                b"" if remote else data[:length],
                False,
                msgtype & _ECHO == 0,
                False,
                False,
            ),
        )
        return msg

    def _fd_message(self) -> Optional[Message]:
        can_id, msgtype, dlc, data, micros = _FD.unpack_from(self._rx)
        length = _FD_LENGTHS[dlc & 0x0F]
        timestamp = micros * 1e-6 + self._time_offset
        if msgtype & _SPECIAL:
            return self._special(msgtype, can_id, data[: min(length, 8)], timestamp)
        remote = msgtype & _RTR != 0
        msg: Message = _new_message(
            Message,
            (
                timestamp,
                can_id,
                msgtype & _EXTENDED != 0,
                remote,
                False,
                self.channel_info,
                length,
                b"" if remote else data[:length],
                msgtype & _FDF != 0,
                msgtype & _ECHO == 0,
                msgtype & _BRS != 0,
                msgtype & _ESI != 0,
            ),
        )
        return msg

    def _special(
        self, msgtype: int, can_id: int, data: bytes, timestamp: float
    ) -> Optional[Message]:
        if msgtype & basic.PCAN_MESSAGE_STATUS:
            # A status message: DATA[0..3] is the new TPCANStatus, most significant byte first.
            if len(data) >= 4:
                self._bus_status = int.from_bytes(data[:4], "big")
            return None
        # An error frame: ID is the error type, DATA[2]/DATA[3] the RX/TX error counters.
        if len(data) >= 4:
            self._error_counters = (data[3], data[2])
        return Message(
            timestamp=timestamp,
            arbitration_id=can_id,
            is_extended_id=False,
            is_error_frame=True,
            channel=self.channel_info,
            dlc=len(data),
            data=data,
        )

    # -- sending ------------------------------------------------------------------------------

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """Queue ``msg`` for transmission (``CAN_Write`` / ``CAN_WriteFD``). PCAN-Basic has no
        blocking send, so ``timeout`` is accepted and not used: a full transmit queue is an
        error at once.

        :raises PcanCanOperationError: if the library refuses the frame (bus off, listen
            only, transmit queue full, ...), with its status in ``error_code``.
        """
        if self._is_shutdown:
            raise PcanCanOperationError(f"cannot send: the bus {self.channel_info!r} is shut down")
        writer = self._native_tx
        if writer is not None:
            # CAN_Write by its C address; None for a message the code below sends or refuses.
            status = writer.write(msg)
            if status is not None:
                if status:
                    raise self._write_error(status)
                return
        if self._fd:
            self._send_fd(msg)
            return
        if msg.is_fd:
            raise PcanCanOperationError(
                f"cannot send a CAN FD frame: {self.channel_info} was opened for classic CAN "
                "(open it with fd=True or timing=can.BitTimingFd(...))"
            )
        if msg.is_remote_frame:
            msgtype = _RTR | _EXTENDED if msg.is_extended_id else _RTR
            length = msg.dlc
        else:
            msgtype = _EXTENDED if msg.is_extended_id else 0
            length = len(msg.data)
        if length > 8:
            raise ValueError(f"PcanBus: a classic frame has at most 8 data bytes, not {length}")
        try:
            _CLASSIC_TX_PACK(self._tx, 0, msg.arbitration_id, msgtype, length, msg.data)
        except struct.error as exc:
            raise ValueError(f"PcanBus: cannot send {msg!r}: {exc}") from None
        status = self._write(self._handle, self._tx)
        if status:
            raise self._write_error(status)

    def _send_fd(self, msg: Message) -> None:
        msgtype = _EXTENDED if msg.is_extended_id else 0
        if msg.is_remote_frame:
            msgtype |= _RTR
        data = msg.data
        if msg.is_fd:
            msgtype |= _FDF
            if msg.bitrate_switch:
                msgtype |= _BRS
            if msg.error_state_indicator:
                msgtype |= _ESI
        length = msg.dlc if msg.is_remote_frame else len(data)
        dlc = _DLC_OF_LENGTH.get(length) if msg.is_fd else (length if length <= 8 else None)
        if dlc is None:
            raise ValueError(f"PcanBus: {length} data bytes is not a valid frame length")
        try:
            _FD_TX.pack_into(self._tx, 0, msg.arbitration_id, msgtype, dlc, data)
        except struct.error as exc:
            raise ValueError(f"PcanBus: cannot send {msg!r}: {exc}") from None
        status = self._write(self._handle, self._tx)
        if status:
            raise self._write_error(status)

    def _write_error(self, status: int) -> PcanCanOperationError:
        return PcanCanOperationError(
            f"{'CAN_WriteFD' if self._fd else 'CAN_Write'} on {self.channel_info} failed: "
            f"{basic.status_text(status)}",
            error_code=status,
        )

    # -- filters ------------------------------------------------------------------------------

    def _apply_filters(self, filters: Optional[CanFilters]) -> None:
        # With no filters every frame is "already filtered": recv() need not match it.
        self._unfiltered = not filters
        ranges = None if not filters else _filter_ranges(filters)
        if ranges is None:
            self._set(basic.PCAN_MESSAGE_FILTER, basic.PCAN_FILTER_OPEN)
            return
        self._set(basic.PCAN_MESSAGE_FILTER, basic.PCAN_FILTER_CLOSE)
        try:
            for start, end, mode in ranges:
                self._f["CAN_FilterMessages"](self._handle, start, end, mode)
        except PcanError:
            # The hardware keeps fewer ranges than asked: filter in software only.
            self._set(basic.PCAN_MESSAGE_FILTER, basic.PCAN_FILTER_OPEN)

    # -- state --------------------------------------------------------------------------------

    @property
    def state(self) -> BusState:
        """:attr:`~can.BusState.PASSIVE` while listening only, :attr:`~can.BusState.ERROR`
        while the controller is bus-off, else :attr:`~can.BusState.ACTIVE`. Setting
        ``PASSIVE`` switches listen-only mode on (``PCAN_LISTEN_ONLY``), ``ACTIVE`` off."""
        if self._listen_only:
            return BusState.PASSIVE
        if not self._is_shutdown and self.status() & basic.PCAN_ERROR_BUSOFF:
            return BusState.ERROR
        return BusState.ACTIVE

    @state.setter
    def state(self, new_state: BusState) -> None:
        new_state = _parse_state(new_state)
        if new_state is BusState.ERROR:
            raise ValueError("PcanBus: the state can be set to ACTIVE or PASSIVE, not ERROR")
        status = self._set(basic.PCAN_LISTEN_ONLY, int(new_state is BusState.PASSIVE))
        if status != basic.PCAN_ERROR_OK:
            raise PcanCanOperationError(
                f"setting PCAN_LISTEN_ONLY on {self.channel_info} failed: "
                f"{basic.status_text(status)}",
                error_code=status,
            )
        self._listen_only = new_state is BusState.PASSIVE

    @property
    def error_counters(self) -> tuple[int, int]:
        """``(transmit, receive)`` error counters as the last error frame reported them."""
        return self._error_counters

    def status(self) -> int:
        """Query the PCAN bus status (``CAN_GetStatus``).

        :returns: the status code, one of the ``PCAN_ERROR_*`` values of
            :mod:`can.interfaces.pcan.basic` (``PCAN_ERROR_OK``, ``PCAN_ERROR_BUSWARNING``,
            ``PCAN_ERROR_BUSPASSIVE``, ``PCAN_ERROR_BUSOFF``, ...).
        """
        return int(self._f["CAN_GetStatus"](self._handle))

    def status_is_ok(self) -> bool:
        """Whether :meth:`status` is ``PCAN_ERROR_OK``."""
        return self.status() == basic.PCAN_ERROR_OK

    def status_string(self) -> Optional[str]:
        """:meth:`status` as the header's name and the library's text."""
        return basic.status_text(self.status())

    def reset(self) -> bool:
        """Command the PCAN driver to reset the bus after an error: empty the queues
        (``CAN_Reset``) and, if the controller is bus-off, initialize the channel again with
        the same settings, which restarts it.

        :returns: whether the channel is usable again.
        """
        status = int(self._f["CAN_Reset"](self._handle))
        if status != basic.PCAN_ERROR_OK:
            return False
        if self.status() & basic.PCAN_ERROR_BUSOFF:
            self._f["CAN_Uninitialize"](self._handle)
            try:
                self._open()
            except CanInitializationError:
                self._is_shutdown = True
                raise
            self._apply_filters(self.filters)
        self._bus_status = basic.PCAN_ERROR_OK
        return True

    # -- device -------------------------------------------------------------------------------

    def flash(self, flash: bool) -> None:
        """Turn on or off flashing of the device's LED for physical identification purposes
        (``PCAN_CHANNEL_IDENTIFYING``)."""
        status = self._set(basic.PCAN_CHANNEL_IDENTIFYING, int(bool(flash)))
        if status != basic.PCAN_ERROR_OK:
            raise PcanCanOperationError(
                f"flash on {self.channel_info} failed: {basic.status_text(status)}",
                error_code=status,
            )

    def get_device_number(self) -> Optional[int]:
        """The device number (``PCAN_DEVICE_NUMBER``), or None when the device has none."""
        return self._get(basic.PCAN_DEVICE_NUMBER)

    def set_device_number(self, device_number: int) -> bool:
        """Store ``device_number`` in the device (``PCAN_DEVICE_NUMBER``); whether it took."""
        if not 0 <= int(device_number) <= 0xFFFFFFFF:
            raise ValueError(f"PcanBus: device number {device_number} is not a 32-bit value")
        return self._set(basic.PCAN_DEVICE_NUMBER, int(device_number)) == basic.PCAN_ERROR_OK

    def fileno(self) -> int:
        """The receive event's file descriptor (Linux), readable while frames wait."""
        if self._event_fd < 0:
            raise NotImplementedError("PCAN-Basic gives no receive file descriptor here")
        return self._event_fd

    # -- life cycle ---------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop periodic tasks and release the channel (``CAN_Uninitialize``)."""
        super().shutdown()
        status = self._f["CAN_Uninitialize"](self._handle)
        if status not in (basic.PCAN_ERROR_OK, basic.PCAN_ERROR_INITIALIZE):
            LOG.warning("CAN_Uninitialize(%s): %s", self.channel_info, basic.status_text(status))

    @staticmethod
    def _attached(f: Mapping[str, Any]) -> list[dict[str, Any]]:
        count = ctypes.c_uint32()
        status = f["CAN_GetValue"](
            basic.PCAN_NONEBUS,
            basic.PCAN_ATTACHED_CHANNELS_COUNT,
            ctypes.addressof(count),
            ctypes.sizeof(count),
        )
        if status != basic.PCAN_ERROR_OK or count.value == 0:
            return []
        infos = (basic.TPCANChannelInformation * count.value)()
        status = f["CAN_GetValue"](
            basic.PCAN_NONEBUS,
            basic.PCAN_ATTACHED_CHANNELS,
            ctypes.addressof(infos),
            ctypes.sizeof(infos),
        )
        if status != basic.PCAN_ERROR_OK:
            return []
        configs = []
        for info in infos:
            name = basic.PCAN_CHANNEL_OF_HANDLE.get(info.channel_handle)
            if name is None:
                continue
            configs.append(
                {
                    "interface": "pcan",
                    "channel": name,
                    "supports_fd": bool(info.device_features & basic.FEATURE_FD_CAPABLE),
                    "controller_number": info.controller_number,
                    "device_features": info.device_features,
                    "device_id": info.device_id,
                    "device_name": info.device_name.decode("latin-1"),
                    "device_type": info.device_type,
                    "channel_condition": info.channel_condition,
                }
            )
        return configs

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        """Every channel the driver reports attached (``PCAN_ATTACHED_CHANNELS``); none when
        the library is not installed."""
        try:
            f = basic.functions()
        except CanInitializationError:
            return []
        return PcanBus._attached(f)
