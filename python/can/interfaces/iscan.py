"""The ``iscan`` interface: isCAN adapters of Thorsis Technologies (formerly ifak system) through
their driver library ``iscandrv`` (manual section 4.9).

Function signatures, the message structure and the status codes are those of the vendor's
public headers ``iscandrv.h`` and ``iscanext.h`` (the ``*Ex`` functions for 29-bit
identifiers). The driver has no blocking receive and no timestamps: the bus polls every
``poll_interval`` seconds (sleeping with the GIL released in between) and stamps each message
with the host time at which it was read.
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
from can.exceptions import CanInitializationError, CanOperationError
from can.message import Message

__all__ = ["IscanBus", "IscanError", "IscanInitializationError"]

LOG = logging.getLogger("can.iscan")

_BYTE = ctypes.c_ubyte


class MessageEx(ctypes.Structure):
    """``CAN_MessageEx_type`` of iscanext.h (natural alignment)."""

    _fields_ = [
        ("MessageID", ctypes.c_uint32),  # DWORD
        ("bExtended", _BYTE),  # BOOLEAN
        ("RemoteReq", _BYTE),
        ("DataLen", _BYTE),
        ("Data", _BYTE * 8),
    ]


class DeviceInfo(ctypes.Structure):
    """``DeviceInfo_type`` of iscandrv.h (packed to 1 byte)."""

    _pack_ = 1
    _fields_ = [
        ("DeviceType", _BYTE),
        ("DeviceID", ctypes.c_uint32),
        ("bAttached", _BYTE),
        ("bInUse", _BYTE),
    ]


# iscandrv.h / iscanext.h status codes, with the headers' meaning in English.
CAN_NO_ERROR = 0
CAN_RECEIVE_BUFFER_EMPTY = 8
CAN_BUFFER_OVERRUN = 11
CAN_BUS_ERROR = 16
CAN_BUS_OFF = 17
CAN_ERROR_PASSIVE = 18
CAN_DATA_OVERRUN = 19
CAN_ERROR_WARNING = 20
CAN_BUS_RESET = 22
STATUS_TEXTS: dict[int, str] = {
    0: "success",
    1: "no access to the device",
    2: "no device with this number",
    3: "the driver operation failed",
    4: "invalid parameter",
    5: "the operation is allowed only when the device is online",
    6: "device timeout",
    7: "the device is still transmitting a message",
    8: "no message received",
    9: "the driver thread is not running",
    10: "the driver thread is already running",
    11: "buffer overrun",
    12: "the device is not initialised",
    13: "the device was removed",
    15: "the device is already in use by this or another program",
    16: "bus error",
    17: "bus off",
    18: "error passive",
    19: "data overrun",
    20: "error warning",
    22: "the controller was reset after bus off",
    24: "an extended frame was received (read it with isCAN_ReceiveMessageEx)",
    30: "bus error while sending",
    31: "no acknowledge: the node is probably alone on the bus",
    32: "critical bus timing or bus length",
    35: "the callback thread is blocked",
    40: "the device needs a licence number",
    41: "no access rights for this operation",
}
# Bitrate in bit/s -> the driver's baud index (iscandrv.h CAN_BAUD_10 .. CAN_BAUD_1000).
BAUDRATES: dict[int, int] = {
    10000: 1,
    20000: 2,
    50000: 3,
    100000: 4,
    125000: 5,
    250000: 6,
    500000: 7,
    800000: 8,
    1000000: 9,
}
# Status codes a receive returns for a bus condition: the state it means.
_BUS_CONDITIONS: dict[int, BusState] = {
    CAN_BUS_ERROR: BusState.ACTIVE,
    CAN_ERROR_WARNING: BusState.ACTIVE,
    CAN_ERROR_PASSIVE: BusState.PASSIVE,
    CAN_BUS_OFF: BusState.ERROR,
    CAN_BUS_RESET: BusState.ACTIVE,
}
_OVERRUNS = (CAN_BUFFER_OVERRUN, CAN_DATA_OVERRUN)

_new_message = _core.new_message_from_fields


class IscanError(CanOperationError):
    """An isCAN driver function failed.

    :param function: the driver function that failed (e.g. ``isCAN_TransmitMessageEx``).
    :param error_code: the status code it returned.
    :param arguments: the arguments it was called with.
    """

    def __init__(self, function: str, error_code: int, arguments: Any = ()) -> None:
        self.function = function
        self.arguments = arguments
        text = STATUS_TEXTS.get(error_code, "unknown error")
        super().__init__(f"{function} failed: {text}", error_code)

    def __reduce__(self) -> Any:
        return (type(self), (self.function, self.error_code, self.arguments))


class IscanInitializationError(IscanError, CanInitializationError):
    """The device could not be opened or set up."""


LIBRARY = VendorLibrary(
    "isCAN",
    {"win32": ("iscandrv.dll",), "linux": ("libiscandrv.so",), "darwin": ("libiscandrv.dylib",)},
    "CAN_ISCAN_LIBRARY",
    "install the isCAN driver from Thorsis Technologies (thorsis.com)",
    stdcall=False,  # the isCAN_* exports are __cdecl; the isCANvb_* twins are __stdcall
    error=IscanError,
)


def _functions() -> dict[str, Any]:
    byte = _BYTE
    return LIBRARY.declare(
        {
            "isCAN_DeviceInitEx": (byte, [byte, byte]),
            "isCAN_TransmitMessageEx": (byte, [byte, ctypes.POINTER(MessageEx)]),
            "isCAN_ReceiveMessageEx": (byte, [byte, ctypes.POINTER(MessageEx)]),
            "isCAN_CloseDevice": (byte, [byte]),
            "isCAN_GetDriverConfiguration": (byte, [byte, ctypes.POINTER(DeviceInfo)]),
        }
    )


class IscanBus(BusABC):
    """An isCAN adapter.

    :param channel: the device number (0 for the first adapter).
    :param bitrate: bit/s, one of :data:`BAUDRATES` (10 kbit/s to 1 Mbit/s).
    :param poll_interval: seconds between two looks at the driver's receive buffer while
        waiting for a message.
    :param can_filters: see :meth:`can.BusABC.set_filters` (applied in software).
    :raises ValueError: for a bitrate the driver has no index for, or a bad channel.
    :raises IscanInitializationError: if the device cannot be opened.
    :raises can.CanInitializationError: if the driver library cannot be loaded.
    """

    CONFIG_KEYS: ClassVar[Mapping[str, str]] = {"poll_interval": "float"}

    def __init__(
        self,
        channel: int,
        bitrate: int = 500000,
        poll_interval: float = 0.01,
        can_filters: Optional[CanFilters] = None,
        **kwargs: Any,
    ) -> None:
        try:
            device = int(channel)
        except (TypeError, ValueError):
            raise ValueError(f"an isCAN channel is a device number, not {channel!r}") from None
        if not 0 <= device <= 255:
            raise ValueError(f"an isCAN device number is 0..255, not {device}")
        if bitrate not in BAUDRATES:
            raise ValueError(
                f"isCAN cannot run at {bitrate} bit/s; it can at "
                f"{', '.join(map(str, sorted(BAUDRATES)))}"
            )
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be > 0, not {poll_interval}")
        self._f = _functions()
        self.channel = device
        self.poll_interval = float(poll_interval)
        self._state = BusState.ACTIVE
        self._rx = MessageEx()
        self._open = False
        status = self._f["isCAN_DeviceInitEx"](device, BAUDRATES[bitrate])
        if status != CAN_NO_ERROR:
            raise IscanInitializationError("isCAN_DeviceInitEx", status, (device, bitrate))
        self._open = True
        self.channel_info = f"isCAN device {device}"
        super().__init__(channel=device, can_filters=can_filters, **kwargs)

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        receive = self._f["isCAN_ReceiveMessageEx"]
        raw = self._rx
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if not self._open:
                raise CanOperationError("the isCAN bus is shut down")
            status = receive(self.channel, ctypes.byref(raw))
            if status == CAN_NO_ERROR:
                return self._message(raw), False
            if status in _BUS_CONDITIONS:
                self._state = _BUS_CONDITIONS[status]
                return self._error_frame(status), False
            if status in _OVERRUNS:
                LOG.warning("%s: %s, frames were lost", self.channel_info, STATUS_TEXTS[status])
                continue
            if status != CAN_RECEIVE_BUFFER_EMPTY:
                raise IscanError("isCAN_ReceiveMessageEx", status, (self.channel,))
            if deadline is None:
                time.sleep(self.poll_interval)
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return None, False
            time.sleep(min(self.poll_interval, left))

    def _message(self, raw: MessageEx) -> Message:
        remote = bool(raw.RemoteReq)
        length = min(raw.DataLen, 8)
        data = bytearray() if remote else bytearray(bytes(raw.Data)[:length])
        msg: Message = _new_message(
            Message,
            (
                time.time(),
                raw.MessageID,
                bool(raw.bExtended),
                remote,
                False,
                self.channel,
                raw.DataLen if remote else length,
                data,
                False,
                True,
                False,
                False,
            ),
        )
        return msg

    def _error_frame(self, status: int) -> Message:
        # The driver reports a bus condition, not the error frame's bits: the message's data
        # is the status code, as the only thing known about it.
        return Message(
            timestamp=time.time(),
            is_error_frame=True,
            arbitration_id=0,
            channel=self.channel,
            data=[status],
        )

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """Transmit ``msg`` (classic CAN only).

        :param timeout: accepted for compatibility; the driver takes the frame at once.
        :raises ValueError: for a CAN FD message or more than 8 bytes.
        :raises IscanError: if the driver refuses the frame (bus off, device offline, ...).
        """
        if not self._open:
            raise CanOperationError("the isCAN bus is shut down")
        if msg.is_fd or len(msg.data) > 8:
            raise ValueError("isCAN sends classic CAN frames of up to 8 bytes")
        raw = MessageEx(
            MessageID=msg.arbitration_id,
            bExtended=msg.is_extended_id,
            RemoteReq=msg.is_remote_frame,
            DataLen=msg.dlc if msg.is_remote_frame else len(msg.data),
        )
        if not msg.is_remote_frame:
            ctypes.memmove(raw.Data, bytes(msg.data), len(msg.data))
        status = self._f["isCAN_TransmitMessageEx"](self.channel, ctypes.byref(raw))
        if status != CAN_NO_ERROR:
            if status == CAN_BUS_OFF:
                self._state = BusState.ERROR
            raise IscanError("isCAN_TransmitMessageEx", status, (self.channel,))

    @property
    def state(self) -> BusState:
        """The bus state the driver last reported (from bus conditions read while
        receiving, and a bus-off refusal while sending)."""
        return self._state

    @state.setter
    def state(self, new_state: BusState) -> None:
        raise NotImplementedError("an isCAN bus cannot change its bus state")

    def shutdown(self) -> None:
        """Close the device."""
        if self._is_shutdown:
            return
        super().shutdown()
        if self._open:
            self._open = False
            status = self._f["isCAN_CloseDevice"](self.channel)
            if status != CAN_NO_ERROR:
                raise IscanError("isCAN_CloseDevice", status, (self.channel,))

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        """The attached devices that are not in use (none without the driver)."""
        try:
            config = _functions()["isCAN_GetDriverConfiguration"]
        except CanInitializationError:
            return []
        found = []
        info = DeviceInfo()
        for device in range(16):  # iscandrv.h MAX_NR_OF_CARDS
            if config(device, ctypes.byref(info)) == CAN_NO_ERROR and info.bAttached:
                if not info.bInUse:
                    found.append({"interface": "iscan", "channel": device})
        return found
