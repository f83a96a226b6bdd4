"""The ``nican`` interface: National Instruments CAN boards through the NI-CAN driver's Frame API
(``nican.dll``; manual section 4.8).

Function signatures, structures (packed to 2 bytes), attribute ids, opcodes, states, frame
types and status codes are those of NI's public header ``nican.h``. The bus opens the board's
Network Interface Object (``"CAN0"``), waits for frames in ``ncWaitForState`` with the GIL
released, and reads the driver's absolute timestamps (100 ns since 1601, the host's clock).
"""

from __future__ import annotations

import ctypes
import logging
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Optional

from can import _core
from can.bus import BusABC, BusState, CanFilters
from can.ctypesutil import VendorLibrary
from can.exceptions import CanError, CanInitializationError, CanOperationError
from can.message import Message

__all__ = ["NicanBus", "NicanError", "NicanInitializationError"]

LOG = logging.getLogger("can.nican")

_u32 = ctypes.c_uint32  # NCTYPE_UINT32 (unsigned long, 32 bits on Windows)
_status = ctypes.c_int32  # NCTYPE_STATUS

# nican.h
NC_ATTR_START_ON_OPEN = 0x80000006
NC_ATTR_BAUD_RATE = 0x80000007
NC_ATTR_READ_Q_LEN = 0x80000013
NC_ATTR_WRITE_Q_LEN = 0x80000014
NC_ATTR_CAN_COMP_STD = 0x80010001
NC_ATTR_CAN_MASK_STD = 0x80010002
NC_ATTR_CAN_COMP_XTD = 0x80010003
NC_ATTR_CAN_MASK_XTD = 0x80010004
NC_ATTR_LOG_COMM_ERRS = 0x8001000A
NC_ATTR_RX_ERROR_COUNTER = 0x80010011
NC_ATTR_TX_ERROR_COUNTER = 0x80010012
NC_ST_READ_AVAIL = 0x00000001
NC_OP_START = 0x80000001
NC_OP_RESET = 0x80000003
NC_FL_CAN_ARBID_XTD = 0x20000000
NC_CAN_ARBID_NONE = 0xCFFFFFFF
NC_FRMTYPE_REMOTE = 1
NC_FRMTYPE_COMM_ERR = 2
NC_DURATION_INFINITE = 0xFFFFFFFF
NICAN_WARNING_BASE = 0x3FF62000
CAN_ERR_FUNCTION_TIMEOUT = 0xBFF62001 - (1 << 32)  # CanErrFunctionTimeout as NCTYPE_STATUS
CAN_WARN_OLD_DATA = NICAN_WARNING_BASE | 0x009  # CanWarnOldData: no new frame
CAN_ERR_COMM = 0xBFF6200B - (1 << 32)  # CanErrComm
_FILETIME_UNIX_EPOCH = 116444736000000000  # 1601-01-01 to 1970-01-01 in 100 ns units
# A receive with no timeout waits in slices this long (ms), so shutdown() is noticed.
_WAIT_SLICE_MS = 500


class _UInt64(ctypes.Structure):
    _pack_ = 2
    _fields_ = [("LowPart", _u32), ("HighPart", _u32)]


class CanFrame(ctypes.Structure):
    """nican.h ``NCTYPE_CAN_FRAME`` (ncWrite)."""

    _pack_ = 2
    _fields_ = [
        ("ArbitrationId", _u32),
        ("IsRemote", ctypes.c_ubyte),
        ("DataLength", ctypes.c_ubyte),
        ("Data", ctypes.c_ubyte * 8),
    ]


class CanStruct(ctypes.Structure):
    """nican.h ``NCTYPE_CAN_STRUCT`` (ncRead with frame types)."""

    _pack_ = 2
    _fields_ = [
        ("Timestamp", _UInt64),
        ("ArbitrationId", _u32),
        ("FrameType", ctypes.c_ubyte),
        ("DataLength", ctypes.c_ubyte),
        ("Data", ctypes.c_ubyte * 8),
    ]


class NicanError(CanOperationError):
    """An NI-CAN function failed (the manual's ``NicanError(function, error_code, arguments)``).

    :param function: the driver function that failed.
    :param error_code: its status code (``NCTYPE_STATUS``).
    :param arguments: the arguments it was called with.
    """

    def __init__(self, function: str, error_code: int, arguments: Any = ()) -> None:
        #: Function that failed
        self.function = function
        #: Arguments passed to function
        self.arguments = arguments
        super().__init__(f"{function} failed: {_status_text(error_code)}", error_code)

    def __reduce__(self) -> Any:
        return (type(self), (self.function, self.error_code, self.arguments))


class NicanInitializationError(NicanError, CanInitializationError):
    """The interface could not be configured or opened."""


LIBRARY = VendorLibrary(
    "NI-CAN",
    {"win32": ("nican.dll",), "linux": ("libnican.so",), "darwin": ("libnican.dylib",)},
    "CAN_NICAN_LIBRARY",
    "install NI-CAN from ni.com (NI-CAN supports 32-bit Python only on some versions)",
    stdcall=True,
)


def _functions() -> dict[str, Any]:
    obj = _u32
    return LIBRARY.declare(
        {
            "ncConfig": (
                _status,
                [ctypes.c_char_p, _u32, ctypes.POINTER(_u32), ctypes.POINTER(_u32)],
            ),
            "ncOpenObject": (_status, [ctypes.c_char_p, ctypes.POINTER(obj)]),
            "ncCloseObject": (_status, [obj]),
            "ncAction": (_status, [obj, _u32, _u32]),
            "ncWaitForState": (_status, [obj, _u32, _u32, ctypes.POINTER(_u32)]),
            "ncRead": (_status, [obj, _u32, ctypes.c_void_p]),
            "ncWrite": (_status, [obj, _u32, ctypes.c_void_p]),
            "ncGetAttribute": (_status, [obj, _u32, _u32, ctypes.c_void_p]),
            "ncStatusToString": (None, [_status, _u32, ctypes.c_char_p]),
        }
    )


def _status_text(status: int) -> str:
    try:
        to_string = _functions()["ncStatusToString"]
    except CanError:
        return f"NI-CAN status 0x{status & 0xFFFFFFFF:08X}"
    text = ctypes.create_string_buffer(1024)
    to_string(status, len(text), text)
    return text.value.decode("ascii", "replace") or f"status 0x{status & 0xFFFFFFFF:08X}"


def _is_error(status: int) -> bool:
    return status < 0  # NI status format: errors have the sign bit set


_new_message = _core.new_message_from_fields


class NicanBus(BusABC):
    """A CAN Network Interface Object of an NI-CAN board.

    :param channel: the interface name, e.g. ``"CAN0"``.
    :param can_filters: see :meth:`can.BusABC.set_filters`. Given here, one standard and one
        extended filter run in the board's comparators (the rest in software);
        :meth:`set_filters` later applies filters in software only.
    :param bitrate: bit/s (default: the driver's, 125 kbit/s).
    :param log_errors: receive communication errors as error frames whose
        ``arbitration_id`` identifies the error (the low 12 bits of the NI-CAN status code).
    :raises NicanInitializationError: if the interface cannot be configured or opened.
    """

    CONFIG_KEYS: ClassVar[Mapping[str, str]] = {"log_errors": "bool"}

    def __init__(
        self,
        channel: str,
        can_filters: Optional[CanFilters] = None,
        bitrate: Optional[int] = None,
        log_errors: bool = True,
        **kwargs: Any,
    ) -> None:
        if not isinstance(channel, str) or not channel:
            raise ValueError(f"an NI-CAN channel is an interface name like 'CAN0', not {channel!r}")
        self._f = _functions()
        self.channel = channel
        self.log_errors = log_errors
        self._rx = CanStruct()
        self._bus_off = False
        attributes = {
            NC_ATTR_START_ON_OPEN: 1,
            NC_ATTR_LOG_COMM_ERRS: int(bool(log_errors)),
        }
        if bitrate is not None:
            attributes[NC_ATTR_BAUD_RATE] = int(bitrate)
        attributes.update(self._hardware_filters(can_filters))
        ids = (_u32 * len(attributes))(*attributes.keys())
        values = (_u32 * len(attributes))(*attributes.values())
        name = channel.encode("ascii")
        status = self._f["ncConfig"](name, len(attributes), ids, values)
        if _is_error(status):
            raise NicanInitializationError("ncConfig", status, (channel, dict(attributes)))
        handle = _u32()
        status = self._f["ncOpenObject"](name, ctypes.byref(handle))
        if _is_error(status):
            raise NicanInitializationError("ncOpenObject", status, (channel,))
        self._handle: Optional[int] = handle.value
        self.channel_info = f"NI-CAN {channel}"
        super().__init__(channel=channel, can_filters=can_filters, **kwargs)

    @staticmethod
    def _hardware_filters(can_filters: Optional[CanFilters]) -> dict[int, int]:
        """Comparator and mask attributes for at most one standard and one extended filter
        (nican.h Series 1 semantics: a mask bit of 1 must match); the other kind is switched
        off when only one kind is filtered. None when the filters do not fit."""
        if not can_filters:
            return {}
        std = [f for f in can_filters if not f.get("extended", False)]
        ext = [f for f in can_filters if f.get("extended", False)]
        if len(std) > 1 or len(ext) > 1 or any("extended" not in f for f in can_filters):
            return {}  # software filtering (BusABC) does it all
        attrs: dict[int, int] = {}
        if std:
            attrs[NC_ATTR_CAN_COMP_STD] = std[0]["can_id"] & 0x7FF
            attrs[NC_ATTR_CAN_MASK_STD] = std[0]["can_mask"] & 0x7FF
        else:
            attrs[NC_ATTR_CAN_COMP_STD] = NC_CAN_ARBID_NONE
        if ext:
            attrs[NC_ATTR_CAN_COMP_XTD] = (ext[0]["can_id"] & 0x1FFFFFFF) | NC_FL_CAN_ARBID_XTD
            attrs[NC_ATTR_CAN_MASK_XTD] = ext[0]["can_mask"] & 0x1FFFFFFF
        else:
            attrs[NC_ATTR_CAN_COMP_XTD] = NC_CAN_ARBID_NONE
        return attrs

    # -- receiving -------------------------------------------------------------------------

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        deadline = None if timeout is None else time.monotonic() + timeout
        state = _u32()
        raw = self._rx
        while True:
            handle = self._handle
            if handle is None:
                raise CanOperationError("the NI-CAN bus is shut down")
            if deadline is None:
                wait_ms = _WAIT_SLICE_MS
            else:
                wait_ms = max(0, int((deadline - time.monotonic()) * 1000))
            status = self._f["ncWaitForState"](
                handle, NC_ST_READ_AVAIL, wait_ms, ctypes.byref(state)
            )
            if status != CAN_ERR_FUNCTION_TIMEOUT:
                if _is_error(status):
                    raise NicanError("ncWaitForState", status, (self.channel,))
                status = self._f["ncRead"](handle, ctypes.sizeof(raw), ctypes.byref(raw))
                if status != CAN_WARN_OLD_DATA:
                    if status & 0xFFF == 0x068 and _is_error(status):
                        # CanErrOverflowRxQueue: frames were lost, the one read is good
                        LOG.warning("%s: %s", self.channel_info, _status_text(status))
                    elif _is_error(status):
                        raise NicanError("ncRead", status, (self.channel,))
                    return self._message(raw), False
            if deadline is not None and time.monotonic() >= deadline:
                return None, False

    def _message(self, raw: CanStruct) -> Message:
        ticks = (raw.Timestamp.HighPart << 32) | raw.Timestamp.LowPart
        timestamp = (ticks - _FILETIME_UNIX_EPOCH) / 1e7
        if raw.FrameType == NC_FRMTYPE_COMM_ERR:
            return Message(
                timestamp=timestamp,
                is_error_frame=True,
                arbitration_id=raw.ArbitrationId & 0xFFF,
                channel=self.channel,
                data=(raw.ArbitrationId & 0xFFFFFFFF).to_bytes(4, "little"),
            )
        remote = raw.FrameType == NC_FRMTYPE_REMOTE
        length = min(raw.DataLength, 8)
        arb = raw.ArbitrationId
        msg: Message = _new_message(
            Message,
            (
                timestamp,
                arb & 0x1FFFFFFF,
                bool(arb & NC_FL_CAN_ARBID_XTD),
                remote,
                False,
                self.channel,
                raw.DataLength if remote else length,
                bytearray() if remote else bytearray(bytes(raw.Data)[:length]),
                False,
                True,
                False,
                False,
            ),
        )
        return msg

    # -- sending ---------------------------------------------------------------------------

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """Write ``msg`` to the transmit queue (the manual: it does not wait for the ACK).

        :raises ValueError: for CAN FD or more than 8 bytes.
        :raises NicanError: if writing to the transmit queue fails.
        """
        handle = self._handle
        if handle is None:
            raise CanOperationError("the NI-CAN bus is shut down")
        if msg.is_fd or len(msg.data) > 8:
            raise ValueError("NI-CAN sends classic CAN frames of up to 8 bytes")
        arb = msg.arbitration_id | (NC_FL_CAN_ARBID_XTD if msg.is_extended_id else 0)
        frame = CanFrame(
            ArbitrationId=arb,
            IsRemote=msg.is_remote_frame,
            DataLength=msg.dlc if msg.is_remote_frame else len(msg.data),
        )
        if not msg.is_remote_frame:
            ctypes.memmove(frame.Data, bytes(msg.data), len(msg.data))
        status = self._f["ncWrite"](handle, ctypes.sizeof(frame), ctypes.byref(frame))
        if _is_error(status):
            if status == CAN_ERR_COMM:
                self._bus_off = True
            raise NicanError("ncWrite", status, (self.channel,))

    # -- state and life cycle --------------------------------------------------------------

    def _counter(self, attribute: int) -> int:
        value = _u32()
        status = self._f["ncGetAttribute"](
            self._handle, attribute, ctypes.sizeof(value), ctypes.byref(value)
        )
        return value.value if not _is_error(status) else 0

    @property
    def state(self) -> BusState:
        """:attr:`BusState.ERROR` after a write failed with a communication error (bus off)
        until :meth:`reset`; else from the error counters (Series 2 boards): above 127 is
        :attr:`BusState.PASSIVE`."""
        if self._handle is None:
            return BusState.ERROR
        if self._bus_off:
            return BusState.ERROR
        errors = max(
            self._counter(NC_ATTR_TX_ERROR_COUNTER), self._counter(NC_ATTR_RX_ERROR_COUNTER)
        )
        return BusState.PASSIVE if errors > 127 else BusState.ACTIVE

    @state.setter
    def state(self, new_state: BusState) -> None:
        raise NotImplementedError("an NI-CAN bus cannot change its bus state")

    def reset(self) -> None:
        """Reset the network interface: stop it, reset the CAN chip to clear its error
        counters (and an error-passive state), clear the read and write queues; then start it
        again so the bus stays usable."""
        handle = self._handle
        if handle is None:
            raise CanOperationError("the NI-CAN bus is shut down")
        for opcode, name in ((NC_OP_RESET, "reset"), (NC_OP_START, "start")):
            status = self._f["ncAction"](handle, opcode, 0)
            if _is_error(status):
                raise NicanError("ncAction", status, (self.channel, name))
        self._bus_off = False

    def shutdown(self) -> None:
        """Close the interface object."""
        if self._is_shutdown:
            return
        super().shutdown()
        handle, self._handle = self._handle, None
        if handle is not None:
            status = self._f["ncCloseObject"](handle)
            if _is_error(status):
                raise NicanError("ncCloseObject", status, (self.channel,))
