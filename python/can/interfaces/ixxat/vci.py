"""IXXAT's VCI V3 C-API (``vcinpl.dll``) over ctypes: structures, constants and functions from
IXXAT's public headers (vcinpl.h, cantype.h, vcierr.h)."""

from __future__ import annotations

import ctypes
from typing import Any, Optional

from can.ctypesutil import VendorLibrary
from can.exceptions import CanError, CanInitializationError, CanOperationError

HRESULT = ctypes.c_int32
HANDLE = ctypes.c_void_p
BOOL = ctypes.c_int32
UINT8, UINT16, UINT32 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32

# vcierr.h: SEV_VCI_ERROR | code
SEV_VCI_ERROR = 0xE0010000
VCI_OK = 0
VCI_E_UNEXPECTED = SEV_VCI_ERROR | 0x0001
VCI_E_INVALIDARG = SEV_VCI_ERROR | 0x0004
VCI_E_ACCESSDENIED = SEV_VCI_ERROR | 0x000A
VCI_E_TIMEOUT = SEV_VCI_ERROR | 0x000B
VCI_E_NO_MORE_ITEMS = SEV_VCI_ERROR | 0x000F
VCI_E_RXQUEUE_EMPTY = SEV_VCI_ERROR | 0x0012
VCI_E_TXQUEUE_FULL = SEV_VCI_ERROR | 0x0013
# cantype.h: operating modes
CAN_OPMODE_STANDARD = 0x01
CAN_OPMODE_EXTENDED = 0x02
CAN_OPMODE_ERRFRAME = 0x04
CAN_OPMODE_LISTONLY = 0x08
# controller status bits
CAN_STATUS_TXPEND = 0x01
CAN_STATUS_OVRRUN = 0x02
CAN_STATUS_ERRLIM = 0x04
CAN_STATUS_BUSOFF = 0x08
CAN_STATUS_ININIT = 0x10
# acceptance filter: accept all / none
CAN_ACC_MASK_ALL = 0x00000000
CAN_ACC_CODE_ALL = 0x00000000
CAN_ACC_MASK_NONE = 0xFFFFFFFF
CAN_ACC_CODE_NONE = 0x80000000
# message types and flags
CAN_MSGTYPE_DATA = 0
CAN_MSGTYPE_INFO = 1
CAN_MSGTYPE_ERROR = 2
CAN_MSGTYPE_STATUS = 3
CAN_MSGTYPE_WAKEUP = 4
CAN_MSGTYPE_TIMEOVR = 5
CAN_MSGTYPE_TIMERST = 6
CAN_MSGFLAGS_DLC = 0x0F
CAN_MSGFLAGS_OVR = 0x10
CAN_MSGFLAGS_SRR = 0x20
CAN_MSGFLAGS_RTR = 0x40
CAN_MSGFLAGS_EXT = 0x80
INFINITE = 0xFFFFFFFF

#: bit/s -> (BT0, BT1): the predefined CiA bit rates of cantype.h (CAN_BT0_*/CAN_BT1_*).
BITRATES: dict[int, tuple[int, int]] = {
    10000: (0x31, 0x1C),
    20000: (0x18, 0x1C),
    50000: (0x09, 0x1C),
    100000: (0x04, 0x1C),
    125000: (0x03, 0x1C),
    250000: (0x01, 0x1C),
    500000: (0x00, 0x1C),
    800000: (0x00, 0x16),
    1000000: (0x00, 0x14),
}


class VCIID(ctypes.Union):
    _fields_ = [("AsInt64", ctypes.c_int64)]


class GUID(ctypes.Structure):
    _fields_ = [("bytes", UINT8 * 16)]


class UniqueHardwareId(ctypes.Union):
    _fields_ = [("AsGuid", GUID), ("AsChar", ctypes.c_char * 16)]


class DeviceInfo(ctypes.Structure):
    """``VCIDEVICEINFO``."""

    _fields_ = [
        ("VciObjectId", VCIID),
        ("DeviceClass", GUID),
        ("DriverMajorVersion", UINT16),
        ("DriverMinorVersion", UINT16),
        ("HardwareMajorVersion", UINT16),
        ("HardwareMinorVersion", UINT16),
        ("UniqueHardwareId", UniqueHardwareId),
        ("Description", ctypes.c_char * 128),
        ("Manufacturer", ctypes.c_char * 128),
    ]


class Capabilities(ctypes.Structure):
    """``CANCAPABILITIES``."""

    _fields_ = [
        ("wCtrlType", UINT16),
        ("wBusCoupling", UINT16),
        ("dwFeatures", UINT32),
        ("dwClockFreq", UINT32),
        ("dwTscDivisor", UINT32),
        ("dwCmsDivisor", UINT32),
        ("dwCmsMaxTicks", UINT32),
        ("dwDtxDivisor", UINT32),
        ("dwDtxMaxTicks", UINT32),
    ]


class LineStatus(ctypes.Structure):
    """``CANLINESTATUS``."""

    _fields_ = [
        ("bOpMode", UINT8),
        ("bBtReg0", UINT8),
        ("bBtReg1", UINT8),
        ("bBusLoad", UINT8),
        ("dwStatus", UINT32),
    ]


class MsgInfo(ctypes.Structure):
    """``CANMSGINFO`` (its ``Bytes`` view)."""

    _fields_ = [("bType", UINT8), ("bRes", UINT8), ("bFlags", UINT8), ("bAccept", UINT8)]


class CanMsg(ctypes.Structure):
    """``CANMSG``."""

    _fields_ = [
        ("dwTime", UINT32),
        ("dwMsgId", UINT32),
        ("uMsgInfo", MsgInfo),
        ("abData", UINT8 * 8),
    ]


class CyclicTxMsg(ctypes.Structure):
    """``CANCYCLICTXMSG``."""

    _fields_ = [
        ("wCycleTime", UINT16),
        ("bIncrMode", UINT8),
        ("bByteIndex", UINT8),
        ("dwMsgId", UINT32),
        ("uMsgInfo", MsgInfo),
        ("abData", UINT8 * 8),
    ]


class VCIError(CanOperationError):
    """A VCI function failed (the manual's ``VCIError``); ``error_code`` is its HRESULT."""


class VCITimeout(VCIError):
    """A VCI call timed out."""


class VCIRxQueueEmptyError(VCIError):
    """The receive queue is empty."""


class VCIBusOffError(VCIError):
    """The controller is bus off."""


class VCIDeviceNotFoundError(VCIError, CanInitializationError):
    """No IXXAT device (with the unique hardware id asked for) was found."""


LIBRARY = VendorLibrary(
    "IXXAT VCI",
    {"win32": ("vcinpl.dll",), "linux": ("libvcinpl.so",), "darwin": ("libvcinpl.dylib",)},
    "CAN_IXXAT_LIBRARY",
    "install the IXXAT VCI V3 or V4 driver from ixxat.com (HMS); on Linux use SocketCAN",
    stdcall=True,
)


def format_error(hresult: int) -> str:
    """The VCI's text for an HRESULT (vciFormatError)."""
    try:
        func = LIBRARY.function("vciFormatError", None, [HRESULT, ctypes.c_char_p, UINT32])
    except CanError:
        return f"VCI error 0x{hresult & 0xFFFFFFFF:08X}"
    text = ctypes.create_string_buffer(256)
    func(ctypes.c_int32(hresult).value, text, len(text))
    return text.value.decode("ascii", "replace")


def check(function: str, hresult: int, initialising: bool = False) -> None:
    """Raise the right :class:`VCIError` for a failing HRESULT."""
    code = hresult & 0xFFFFFFFF
    if code == VCI_OK:
        return
    message = f"{function} failed: {format_error(code)}"
    cls: type[VCIError] = VCIError
    if initialising:
        raise VCIInitializationError(message, error_code=code)
    if code == VCI_E_TIMEOUT:
        cls = VCITimeout
    elif code == VCI_E_RXQUEUE_EMPTY:
        cls = VCIRxQueueEmptyError
    raise cls(message, error_code=code)


class VCIInitializationError(VCIError, CanInitializationError):
    """The device, controller or channel could not be set up."""


def functions() -> dict[str, Any]:
    h = HANDLE
    p = ctypes.POINTER
    declared: dict[str, tuple[Any, list[Any]]] = {
        "vciInitialize": (HRESULT, []),
        "vciEnumDeviceOpen": (HRESULT, [p(HANDLE)]),
        "vciEnumDeviceNext": (HRESULT, [h, p(DeviceInfo)]),
        "vciEnumDeviceClose": (HRESULT, [h]),
        "vciDeviceOpen": (HRESULT, [p(VCIID), p(HANDLE)]),
        "vciDeviceClose": (HRESULT, [h]),
        "canControlOpen": (HRESULT, [h, UINT32, p(HANDLE)]),
        "canControlClose": (HRESULT, [h]),
        "canControlGetCaps": (HRESULT, [h, p(Capabilities)]),
        "canControlGetStatus": (HRESULT, [h, p(LineStatus)]),
        "canControlInitialize": (HRESULT, [h, UINT8, UINT8, UINT8]),
        "canControlReset": (HRESULT, [h]),
        "canControlStart": (HRESULT, [h, BOOL]),
        "canControlSetAccFilter": (HRESULT, [h, BOOL, UINT32, UINT32]),
        "canControlAddFilterIds": (HRESULT, [h, BOOL, UINT32, UINT32]),
        "canChannelOpen": (HRESULT, [h, UINT32, BOOL, p(HANDLE)]),
        "canChannelClose": (HRESULT, [h]),
        "canChannelInitialize": (HRESULT, [h, UINT16, UINT16, UINT16, UINT16]),
        "canChannelActivate": (HRESULT, [h, BOOL]),
        "canChannelReadMessage": (HRESULT, [h, UINT32, p(CanMsg)]),
        "canChannelPostMessage": (HRESULT, [h, p(CanMsg)]),
        "canChannelSendMessage": (HRESULT, [h, UINT32, p(CanMsg)]),
        "canSchedulerOpen": (HRESULT, [h, UINT32, p(HANDLE)]),
        "canSchedulerClose": (HRESULT, [h]),
        "canSchedulerActivate": (HRESULT, [h, BOOL]),
        "canSchedulerAddMessage": (HRESULT, [h, p(CyclicTxMsg), p(UINT32)]),
        "canSchedulerStartMessage": (HRESULT, [h, UINT32, UINT16]),
        "canSchedulerStopMessage": (HRESULT, [h, UINT32]),
        "canSchedulerRemMessage": (HRESULT, [h, UINT32]),
    }
    return LIBRARY.declare(declared)


def enumerate_devices() -> list[DeviceInfo]:
    """Every device the VCI lists."""
    f = functions()
    check("vciInitialize", f["vciInitialize"]())
    enum = HANDLE()
    check("vciEnumDeviceOpen", f["vciEnumDeviceOpen"](ctypes.byref(enum)))
    found: list[DeviceInfo] = []
    try:
        while True:
            info = DeviceInfo()
            hr = f["vciEnumDeviceNext"](enum, ctypes.byref(info)) & 0xFFFFFFFF
            if hr == VCI_E_NO_MORE_ITEMS:
                return found
            check("vciEnumDeviceNext", hr)
            found.append(info)
    finally:
        f["vciEnumDeviceClose"](enum)


def hardware_id(info: DeviceInfo) -> str:
    raw: Optional[bytes] = info.UniqueHardwareId.AsChar
    return (raw or b"").decode("ascii", "replace")
