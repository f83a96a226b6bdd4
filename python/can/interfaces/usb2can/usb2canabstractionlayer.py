"""The CANAL API (CAN Abstraction Layer, from the VSCP project) that the USB2CAN driver
library ``usb2can.dll`` exports: structures, flags and codes from the public header
``canal.h``, and the library's functions declared once through :mod:`can.ctypesutil`."""

from __future__ import annotations

import ctypes
from typing import Any, Optional

from can.ctypesutil import VendorLibrary
from can.exceptions import CanOperationError

__all__ = [
    "CANAL_ERROR_SUCCESS",
    "CANAL_IDFLAG_EXTENDED",
    "CANAL_IDFLAG_RTR",
    "CANAL_IDFLAG_STATUS",
    "CanalError",
    "CanalMsg",
    "CanalStatistics",
    "CanalStatus",
    "library",
]

# canal.h: message flags
CANAL_IDFLAG_STANDARD = 0x00000000
CANAL_IDFLAG_EXTENDED = 0x00000001
CANAL_IDFLAG_RTR = 0x00000002
CANAL_IDFLAG_STATUS = 0x00000004  # a status indication: the id holds a CANAL_STATUSMSG_* code
# canal.h: status messages (in a received message with CANAL_IDFLAG_STATUS)
CANAL_STATUSMSG_OK = 0x00
CANAL_STATUSMSG_OVERRUN = 0x01
CANAL_STATUSMSG_BUSLIGHT = 0x02  # error counter reached 96
CANAL_STATUSMSG_BUSHEAVY = 0x03  # error counter reached 128
CANAL_STATUSMSG_BUSOFF = 0x04
# canal.h: channel status bits (CanalGetStatus)
CANAL_STATUS_ACTIVE = 0x10000000
CANAL_STATUS_BUS_WARN = 0x20000000
CANAL_STATUS_PASSIVE = 0x40000000
CANAL_STATUS_BUS_OFF = 0x80000000
# canal.h: error codes
CANAL_ERROR_SUCCESS = 0
CANAL_ERROR_FIFO_EMPTY = 8
CANAL_ERROR_RCV_EMPTY = 19
CANAL_ERROR_TIMEOUT = 32
ERROR_TEXTS: dict[int, str] = {
    0: "success",
    1: "baud rate error",
    2: "bus off",
    3: "bus passive",
    4: "bus warning",
    5: "invalid CAN id",
    6: "invalid CAN message",
    7: "invalid channel",
    8: "FIFO is empty",
    9: "FIFO is full",
    10: "FIFO size error",
    11: "FIFO wait error",
    12: "generic error",
    13: "hardware error",
    14: "initialisation failed",
    15: "initialisation missing",
    16: "initialisation ready",
    17: "not supported",
    18: "overrun",
    19: "receive buffer empty",
    20: "register value error",
    21: "transmit buffer full",
    22: "error frame: stuff error",
    23: "error frame: form error",
    24: "error frame: acknowledge error",
    25: "error frame: bit 1 error",
    26: "error frame: bit 0 error",
    27: "error frame: CRC error",
    28: "unable to load library",
    29: "unable to get library proc address",
    30: "only one instance allowed",
    31: "problem with sub driver call",
    32: "blocking call timeout",
    33: "the device is not open",
    34: "a parameter is invalid",
    35: "memory exhausted",
    36: "internal error",
    37: "communication error",
    38: "login error",
}

_ulong = ctypes.c_ulong  # canal.h uses unsigned long (32 bits on Windows)


class CanalMsg(ctypes.Structure):
    """canal.h ``canalMsg``."""

    _fields_ = [
        ("flags", _ulong),
        ("obid", _ulong),
        ("id", _ulong),
        ("sizeData", ctypes.c_ubyte),
        ("data", ctypes.c_ubyte * 8),
        ("timestamp", _ulong),  # microseconds, relative
    ]


class CanalStatistics(ctypes.Structure):
    """canal.h ``canalStatistics``."""

    _fields_ = [
        ("cntReceiveFrames", _ulong),
        ("cntTransmitFrames", _ulong),
        ("cntReceiveData", _ulong),
        ("cntTransmitData", _ulong),
        ("cntOverruns", _ulong),
        ("cntBusWarnings", _ulong),
        ("cntBusOff", _ulong),
    ]


class CanalStatus(ctypes.Structure):
    """canal.h ``canalStatus``."""

    _fields_ = [
        ("channel_status", _ulong),
        ("lasterrorcode", _ulong),
        ("lasterrorsubcode", _ulong),
        ("lasterrorstr", ctypes.c_char * 80),
    ]


class CanalError(CanOperationError):
    """A CANAL function failed; ``error_code`` is its ``CANAL_ERROR_*`` code."""


def describe(status: int) -> tuple[bool, str]:
    return status != CANAL_ERROR_SUCCESS, ERROR_TEXTS.get(status, f"CANAL error {status}")


_NAMES = {"win32": ("usb2can.dll",), "linux": ("libusb2can.so",), "darwin": ("libusb2can.dylib",)}
_libraries: dict[Optional[str], VendorLibrary] = {}


def library(dll: Optional[str] = None) -> VendorLibrary:
    """The USB2CAN library: the platform's file, or ``dll`` (a file name or path) when given;
    ``CAN_USB2CAN_LIBRARY`` overrides both."""
    lib = _libraries.get(dll)
    if lib is None:
        names = _NAMES if dll is None else {key: (dll,) for key in _NAMES}
        lib = _libraries[dll] = VendorLibrary(
            "USB2CAN (CANAL)",
            names,
            "CAN_USB2CAN_LIBRARY",
            "install the USB2CAN driver and its CANAL library from 8devices.com",
            error=CanalError,
        )
    return lib


def functions(lib: VendorLibrary) -> dict[str, Any]:
    """The CANAL functions a bus calls. Open and the receives report their status to the
    caller (an empty queue is not an error); the others raise :class:`CanalError`."""
    long_, int_, ulong = ctypes.c_long, ctypes.c_int, _ulong
    msg_p = ctypes.POINTER(CanalMsg)
    unchecked: dict[str, tuple[Any, list[Any]]] = {
        "CanalOpen": (long_, [ctypes.c_char_p, ulong]),
        "CanalReceive": (int_, [long_, msg_p]),
        "CanalBlockingReceive": (int_, [long_, msg_p, ulong]),
        "CanalDataAvailable": (int_, [long_]),
    }
    checked: dict[str, tuple[Any, list[Any]]] = {
        "CanalClose": (int_, [long_]),
        "CanalSend": (int_, [long_, msg_p]),
        "CanalBlockingSend": (int_, [long_, msg_p, ulong]),
        "CanalGetStatus": (int_, [long_, ctypes.POINTER(CanalStatus)]),
        "CanalGetStatistics": (int_, [long_, ctypes.POINTER(CanalStatistics)]),
    }
    return {**lib.declare(unchecked), **lib.declare(checked, describe)}
