"""SYS TEC's USB-CANmodul library (``usbcan64.dll`` / ``usbcan32.dll``) over ctypes: the
structures, constants and functions a bus uses, from SYS TEC's public header ``usbcan32.h``."""

from __future__ import annotations

import ctypes
import struct
from typing import Any

from can.ctypesutil import VendorLibrary, platform_key
from can.exceptions import CanInitializationError, CanOperationError

BYTE, WORD, DWORD = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32
BOOL = ctypes.c_int32

# usbcan32.h: frame format bits of tCanMsgStruct.m_bFF
USBCAN_MSG_FF_STD = 0x00
USBCAN_MSG_FF_ECHO = 0x20
USBCAN_MSG_FF_RTR = 0x40
USBCAN_MSG_FF_EXT = 0x80
# modes
kUcanModeNormal = 0x00
kUcanModeListenOnly = 0x01
kUcanModeTxEcho = 0x02
# return codes
USBCAN_SUCCESSFUL = 0x00
USBCAN_WARNING = 0x80
USBCAN_WARN_NODATA = 0x80
# events of the callback
USBCAN_EVENT_RECEIVE = 2
USBCAN_EVENT_STATUS = 3
# CAN status bits
USBCAN_CANERR_OK = 0x0000
USBCAN_CANERR_XMTFULL = 0x0001
USBCAN_CANERR_OVERRUN = 0x0002
USBCAN_CANERR_BUSLIGHT = 0x0004
USBCAN_CANERR_BUSHEAVY = 0x0008
USBCAN_CANERR_BUSOFF = 0x0010
USBCAN_CANERR_QRCVEMPTY = 0x0020
USBCAN_CANERR_QOVERRUN = 0x0040
USBCAN_CANERR_QXMTFULL = 0x0080
USBCAN_CANERR_TXMSGLOST = 0x0400
USBCAN_ANY_MODULE = 255
USBCAN_AMR_ALL = 0xFFFFFFFF
USBCAN_ACR_ALL = 0x00000000
USBCAN_OCR_DEFAULT = 0x1A
USBCAN_DEFAULT_BUFFER_ENTRIES = 4096
USBCAN_BAUDEX_USE_BTR01 = 0x00000000
USBCAN_PRODCODE_PID_G4 = 0x00000020
# UcanResetCanEx: USBCAN_RESET_ONLY_TX_BUFF = 0x0000FFFF & ~(NO_TXBUFFER_ALL | NO_TXCOUNTER)
USBCAN_RESET_ALL = 0x00000000
USBCAN_RESET_ONLY_TX_BUFF = 0x0000FFFF & ~(0x000000F0 | 0x00000004)

#: bit/s -> the module's baud register, per generation (usbcan32.h USBCAN_BAUDEX_* for G3 at
#: 48 MHz, USBCAN_BAUDEX_G4_* for G4 at 24 MHz).
BAUDEX_G3: dict[int, int] = {
    1000000: 0x00020354,
    800000: 0x00030254,
    500000: 0x00050354,
    250000: 0x000B0354,
    125000: 0x00170354,
    100000: 0x00171466,
    50000: 0x002F1466,
    20000: 0x00771466,
    10000: 0x80771466,
}
BAUDEX_G4: dict[int, int] = {
    1000000: 0x40180001,
    800000: 0x401B0001,
    500000: 0x401C0002,
    250000: 0x401C0005,
    125000: 0x401C000B,
    100000: 0x412F000B,
    50000: 0x412F0017,
    20000: 0x412F003B,
    10000: 0x412F0077,
}

RETURN_TEXTS: dict[int, str] = {
    0x01: "could not create a resource (memory, handle, ...)",
    0x02: "the maximum number of open modules is exceeded",
    0x03: "the module is already in use",
    0x04: "the software versions of the module and library are incompatible",
    0x05: "the module with this device number is not connected",
    0x06: "wrong USB-CAN handle",
    0x07: "wrong parameter",
    0x08: "the instruction cannot be processed at this time",
    0x09: "no answer from the module",
    0x0A: "a request to the driver failed",
    0x0B: "the message did not fit into the transmit queue",
    0x0C: "the maximum number of applications is reached",
    0x0D: "the CAN interface is not initialised",
    0x0E: "the USB-CANmodul was disconnected",
    0x0F: "the needed device class does not exist",
    0x10: "illegal CAN channel",
    0x12: "the function cannot be used with this hardware",
    0x13: "the command server did not reply",
    0x40: "the response does not match the command",
    0x41: "no access to the CAN controller",
    0x42: "the module could not interpret the command",
    0x43: "error reading the EEPROM",
    0x47: "illegal baud rate value",
    0x48: "the CAN channel was not initialised",
    0x49: "the CAN channel was already initialised",
    0x4A: "illegal sub-command",
    0x4B: "illegal index",
    0x4C: "cyclic messages are already being transmitted",
    0x80: "no CAN messages received",
    0x81: "overrun in the driver's receive queue",
    0x82: "overrun in the library's receive queue",
    0x85: "overrun in the firmware's transmit queue",
    0x86: "overrun in the firmware's receive queue",
    0x90: "a pointer is NULL",
    0x91: "not all CAN messages could be sent: the buffer is full",
    0x92: "the library is busy",
    0x93: "not processed because of the configuration",
}


class _Packed(ctypes.Structure):
    _pack_ = 1


class CanMsg(_Packed):
    """usbcan32.h ``tCanMsgStruct``."""

    _fields_ = [
        ("m_dwID", DWORD),
        ("m_bFF", BYTE),
        ("m_bDLC", BYTE),
        ("m_bData", BYTE * 8),
        ("m_dwTime", DWORD),  # ms
    ]


class Status(_Packed):
    """usbcan32.h ``tStatusStruct``."""

    _fields_ = [("m_wCanStatus", WORD), ("m_wUsbStatus", WORD)]


class InitCanParam(_Packed):
    """usbcan32.h ``tUcanInitCanParam``."""

    _fields_ = [
        ("m_dwSize", DWORD),
        ("m_bMode", BYTE),
        ("m_bBTR0", BYTE),
        ("m_bBTR1", BYTE),
        ("m_bOCR", BYTE),
        ("m_dwAMR", DWORD),
        ("m_dwACR", DWORD),
        ("m_dwBaudrate", DWORD),
        ("m_wNrOfRxBufferEntries", WORD),
        ("m_wNrOfTxBufferEntries", WORD),
    ]


class HardwareInfoEx(_Packed):
    """usbcan32.h ``tUcanHardwareInfoEx``."""

    _fields_ = [
        ("m_dwSize", DWORD),
        ("m_UcanHandle", BYTE),
        ("m_bDeviceNr", BYTE),
        ("m_dwSerialNr", DWORD),
        ("m_dwFwVersionEx", DWORD),
        ("m_dwProductCode", DWORD),
        ("m_adwUniqueId", DWORD * 4),
        ("m_dwFlags", DWORD),
    ]


_FUNCTYPE: Any = (
    ctypes.WINFUNCTYPE  # type: ignore[attr-defined,unused-ignore]
    if platform_key() == "win32"
    else ctypes.CFUNCTYPE
)
#: void PUBLIC tCallbackFktEx(tUcanHandle, DWORD dwEvent, BYTE bChannel, void* pArg)
CallbackFktEx = _FUNCTYPE(None, BYTE, DWORD, BYTE, ctypes.c_void_p)
#: void PUBLIC tUcanEnumCallback(DWORD index, BOOL used, tUcanHardwareInfoEx*, init info*, void*)
EnumCallback = _FUNCTYPE(
    None, DWORD, BOOL, ctypes.POINTER(HardwareInfoEx), ctypes.c_void_p, ctypes.c_void_p
)


class UcanException(CanOperationError):
    """A function of the USB-CANmodul library failed.

    :param function: the library function.
    :param error_code: its return code (``USBCAN_ERR_*``, ``USBCAN_ERRCMD_*``).
    """

    def __init__(self, function: str, error_code: int) -> None:
        self.function = function
        text = RETURN_TEXTS.get(error_code, f"return code 0x{error_code:02X}")
        super().__init__(f"{function} failed: {text}", error_code)

    def __reduce__(self) -> Any:
        return (type(self), (self.function, self.error_code))


class UcanError(UcanException):
    """An error in the library (``USBCAN_ERR_*``)."""


class UcanCmdError(UcanException):
    """An error the module reported (``USBCAN_ERRCMD_*``)."""


class UcanInitializationError(UcanError, CanInitializationError):
    """The module or its CAN channel could not be initialised."""


def error_for(function: str, code: int, initialising: bool = False) -> UcanException:
    """The exception for a failing return ``code`` (< ``USBCAN_WARNING``)."""
    if initialising:
        return UcanInitializationError(function, code)
    if 0x40 <= code < USBCAN_WARNING:
        return UcanCmdError(function, code)
    return UcanError(function, code)


LIBRARY = VendorLibrary(
    "SYS TEC USB-CANmodul",
    {
        "win32": ("usbcan64.dll",) if struct.calcsize("P") == 8 else ("usbcan32.dll",),
        "linux": ("libusbcan.so",),
        "darwin": ("libusbcan.dylib",),
    },
    "CAN_SYSTEC_LIBRARY",
    "install the USB-CANmodul driver from systec-electronic.com (on Linux the modules have a "
    "SocketCAN driver: use the socketcan interface)",
    stdcall=True,
)


def functions() -> dict[str, Any]:
    h = BYTE
    dword_p = ctypes.POINTER(DWORD)
    declared: dict[str, tuple[Any, list[Any]]] = {
        "UcanInitHardwareEx": (BYTE, [ctypes.POINTER(BYTE), BYTE, CallbackFktEx, ctypes.c_void_p]),
        "UcanInitCanEx2": (BYTE, [h, BYTE, ctypes.POINTER(InitCanParam)]),
        "UcanDeinitCanEx": (BYTE, [h, BYTE]),
        "UcanDeinitHardware": (BYTE, [h]),
        "UcanWriteCanMsgEx": (BYTE, [h, BYTE, ctypes.POINTER(CanMsg), dword_p]),
        "UcanReadCanMsgEx": (BYTE, [h, ctypes.POINTER(BYTE), ctypes.POINTER(CanMsg), dword_p]),
        "UcanGetStatusEx": (BYTE, [h, BYTE, ctypes.POINTER(Status)]),
        "UcanResetCanEx": (BYTE, [h, BYTE, DWORD]),
        "UcanSetTxTimeout": (BYTE, [h, BYTE, DWORD]),
        "UcanGetMsgPending": (BYTE, [h, BYTE, DWORD, dword_p]),
        "UcanGetHardwareInfoEx2": (
            BYTE,
            [h, ctypes.POINTER(HardwareInfoEx), ctypes.c_void_p, ctypes.c_void_p],
        ),
        "UcanEnumerateHardware": (
            DWORD,
            [EnumCallback, ctypes.c_void_p, BOOL, BYTE, BYTE, DWORD, DWORD, DWORD, DWORD],
        ),
    }
    return LIBRARY.declare(declared)
