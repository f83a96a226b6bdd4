"""PEAK-System's PCAN-Basic API as ctypes sees it: the values, structures and functions of the
public header ``PCANBasic.h`` (shipped with the PCAN-Basic packages for Windows and Linux, and
as ``PCBUSB.h`` with the macOS library from mac-can.com), and the library itself, loaded
through :class:`can.ctypesutil.VendorLibrary`.

Only what the backend uses is here. The names are the header's, so they can be looked up in
PEAK's documentation.
"""

from __future__ import annotations

import ctypes
from typing import Any

from can.ctypesutil import VendorLibrary
from can.exceptions import CanError, CanInitializationError, CanOperationError

__all__ = [
    "LIBRARY",
    "PCAN_CHANNEL_NAMES",
    "PcanCanInitializationError",
    "PcanCanOperationError",
    "PcanError",
    "TPCANChannelInformation",
    "TPCANMsg",
    "TPCANMsgFD",
    "TPCANTimestamp",
    "describe",
    "functions",
]


class PcanError(CanError):
    """An error the PCAN-Basic library reported; :attr:`error_code` is its ``TPCANStatus``."""


class PcanCanOperationError(CanOperationError, PcanError):
    """A PCAN-Basic call on an open channel failed (python-can 4.x's name)."""


class PcanCanInitializationError(CanInitializationError, PcanError):
    """A PCAN channel could not be opened (python-can 4.x's name)."""


# -- types (PCANBasic.h "Type definitions") -------------------------------------------------
TPCANHandle = ctypes.c_uint16
TPCANStatus = ctypes.c_uint32
TPCANParameter = ctypes.c_uint8
TPCANMode = ctypes.c_uint8
TPCANBaudrate = ctypes.c_uint16

# -- channels (PCANBasic.h "Currently defined and supported PCAN channels"; the ISA, Dongle and
# PC Card handles are in the older headers the python-can 3.3.2 manual lists) ---------------
PCAN_NONEBUS = 0x00


def _channel_table() -> dict[str, int]:
    table: dict[str, int] = {}
    for i in range(8):
        table[f"PCAN_ISABUS{i + 1}"] = 0x21 + i
    table["PCAN_DNGBUS1"] = 0x31
    for kind, low, high in (("PCI", 0x41, 0x409), ("USB", 0x51, 0x509)):
        for i in range(16):
            table[f"PCAN_{kind}BUS{i + 1}"] = (low + i) if i < 8 else (high + i - 8)
    table["PCAN_PCCBUS1"] = 0x61
    table["PCAN_PCCBUS2"] = 0x62
    for i in range(16):
        table[f"PCAN_LANBUS{i + 1}"] = 0x801 + i
    return table


#: Channel name -> TPCANHandle.
PCAN_CHANNEL_NAMES: dict[str, int] = _channel_table()
#: TPCANHandle -> channel name.
PCAN_CHANNEL_OF_HANDLE: dict[int, str] = {v: k for k, v in PCAN_CHANNEL_NAMES.items()}

# -- status codes (PCANBasic.h "Represent the PCAN error and status codes") ------------------
PCAN_ERROR_OK = 0x00000
PCAN_ERROR_XMTFULL = 0x00001
PCAN_ERROR_OVERRUN = 0x00002
PCAN_ERROR_BUSLIGHT = 0x00004
PCAN_ERROR_BUSHEAVY = 0x00008
PCAN_ERROR_BUSWARNING = PCAN_ERROR_BUSHEAVY
PCAN_ERROR_BUSPASSIVE = 0x40000
PCAN_ERROR_BUSOFF = 0x00010
PCAN_ERROR_ANYBUSERR = (
    PCAN_ERROR_BUSWARNING
    | PCAN_ERROR_BUSLIGHT
    | PCAN_ERROR_BUSHEAVY
    | PCAN_ERROR_BUSOFF
    | PCAN_ERROR_BUSPASSIVE
)
PCAN_ERROR_QRCVEMPTY = 0x00020
PCAN_ERROR_QOVERRUN = 0x00040
PCAN_ERROR_QXMTFULL = 0x00080
PCAN_ERROR_REGTEST = 0x00100
PCAN_ERROR_NODRIVER = 0x00200
PCAN_ERROR_HWINUSE = 0x00400
PCAN_ERROR_NETINUSE = 0x00800
PCAN_ERROR_ILLHW = 0x01400
PCAN_ERROR_ILLNET = 0x01800
PCAN_ERROR_ILLCLIENT = 0x01C00
PCAN_ERROR_ILLHANDLE = PCAN_ERROR_ILLHW | PCAN_ERROR_ILLNET | PCAN_ERROR_ILLCLIENT
PCAN_ERROR_RESOURCE = 0x02000
PCAN_ERROR_ILLPARAMTYPE = 0x04000
PCAN_ERROR_ILLPARAMVAL = 0x08000
PCAN_ERROR_UNKNOWN = 0x10000
PCAN_ERROR_ILLDATA = 0x20000
PCAN_ERROR_ILLMODE = 0x80000
PCAN_ERROR_CAUTION = 0x2000000
PCAN_ERROR_INITIALIZE = 0x4000000
PCAN_ERROR_ILLOPERATION = 0x8000000

#: Every named status code -> its header name (the handle errors, which share bits, first).
PCAN_STATUS_NAMES: dict[int, str] = {
    value: name
    for name, value in sorted(
        ((n, v) for n, v in globals().items() if n.startswith("PCAN_ERROR_")),
        key=lambda item: -bin(item[1]).count("1"),
    )
    if name not in ("PCAN_ERROR_BUSWARNING", "PCAN_ERROR_ANYBUSERR", "PCAN_ERROR_ILLHANDLE")
}

# -- parameters (PCANBasic.h "PCAN parameters") ----------------------------------------------
PCAN_DEVICE_ID = 0x01
PCAN_DEVICE_NUMBER = PCAN_DEVICE_ID  # the older headers' name
PCAN_RECEIVE_EVENT = 0x03
PCAN_MESSAGE_FILTER = 0x04
PCAN_API_VERSION = 0x05
PCAN_BUSOFF_AUTORESET = 0x07
PCAN_LISTEN_ONLY = 0x08
PCAN_CHANNEL_CONDITION = 0x0D
PCAN_CHANNEL_IDENTIFYING = 0x15
PCAN_CHANNEL_FEATURES = 0x16
PCAN_ALLOW_STATUS_FRAMES = 0x1E
PCAN_ALLOW_ERROR_FRAMES = 0x20
PCAN_ATTACHED_CHANNELS_COUNT = 0x2A
PCAN_ATTACHED_CHANNELS = 0x2B
PCAN_ALLOW_ECHO_FRAMES = 0x2C

PCAN_PARAMETER_OFF = 0x00
PCAN_PARAMETER_ON = 0x01
PCAN_FILTER_CLOSE = 0x00
PCAN_FILTER_OPEN = 0x01
PCAN_CHANNEL_AVAILABLE = 0x01
FEATURE_FD_CAPABLE = 0x01

# -- message types (PCANBasic.h "PCAN message types") -----------------------------------------
PCAN_MESSAGE_STANDARD = 0x00
PCAN_MESSAGE_RTR = 0x01
PCAN_MESSAGE_EXTENDED = 0x02
PCAN_MESSAGE_FD = 0x04
PCAN_MESSAGE_BRS = 0x08
PCAN_MESSAGE_ESI = 0x10
PCAN_MESSAGE_ECHO = 0x20
PCAN_MESSAGE_ERRFRAME = 0x40
PCAN_MESSAGE_STATUS = 0x80
PCAN_MODE_STANDARD = PCAN_MESSAGE_STANDARD
PCAN_MODE_EXTENDED = PCAN_MESSAGE_EXTENDED

#: Bit rate in bit/s -> BTR0BTR1 code (PCANBasic.h "Baud rate codes", SJA1000 registers at
#: 8 MHz). The odd rates are also accepted rounded down to kbit/s, as python-can 4.x names
#: them (95000 for 95238 bit/s).
PCAN_BITRATES: dict[int, int] = {
    1000000: 0x0014,
    800000: 0x0016,
    500000: 0x001C,
    250000: 0x011C,
    125000: 0x031C,
    100000: 0x432F,
    95238: 0xC34E,
    95000: 0xC34E,
    83333: 0x852B,
    83000: 0x852B,
    50000: 0x472F,
    47619: 0x1414,
    47000: 0x1414,
    33333: 0x8B2F,
    33000: 0x8B2F,
    20000: 0x532F,
    10000: 0x672F,
    5000: 0x7F7F,
}

#: The CAN clocks CAN_InitializeFD accepts (the manual's ``f_clock``), in Hz.
PCAN_FD_CLOCKS = (20000000, 24000000, 30000000, 40000000, 60000000, 80000000)
#: The keys of the FD bit rate string besides the clock, in the header's order.
PCAN_FD_KEYS = (
    "nom_brp",
    "nom_tseg1",
    "nom_tseg2",
    "nom_sjw",
    "data_brp",
    "data_tseg1",
    "data_tseg2",
    "data_sjw",
)

MAX_LENGTH_HARDWARE_NAME = 33


# -- structures (PCANBasic.h "Structure definitions") ----------------------------------------
class TPCANMsg(ctypes.Structure):
    _fields_ = [
        ("ID", ctypes.c_uint32),
        ("MSGTYPE", ctypes.c_uint8),
        ("LEN", ctypes.c_uint8),
        ("DATA", ctypes.c_uint8 * 8),
    ]


class TPCANTimestamp(ctypes.Structure):
    # micros + 1000 * millis + 0x100000000 * 1000 * millis_overflow, in microseconds
    _fields_ = [
        ("millis", ctypes.c_uint32),
        ("millis_overflow", ctypes.c_uint16),
        ("micros", ctypes.c_uint16),
    ]


class TPCANMsgFD(ctypes.Structure):
    _fields_ = [
        ("ID", ctypes.c_uint32),
        ("MSGTYPE", ctypes.c_uint8),
        ("DLC", ctypes.c_uint8),  # a data length code (0..15), not a byte count
        ("DATA", ctypes.c_uint8 * 64),
    ]


class TPCANChannelInformation(ctypes.Structure):
    _fields_ = [
        ("channel_handle", TPCANHandle),
        ("device_type", ctypes.c_uint8),
        ("controller_number", ctypes.c_uint8),
        ("device_features", ctypes.c_uint32),
        ("device_name", ctypes.c_char * MAX_LENGTH_HARDWARE_NAME),
        ("device_id", ctypes.c_uint32),
        ("channel_condition", ctypes.c_uint32),
    ]


# -- the library ------------------------------------------------------------------------------
LIBRARY = VendorLibrary(
    "PEAK PCAN-Basic",
    {
        "win32": ("PCANBasic.dll",),
        "linux": ("libpcanbasic.so", "libpcanbasic.so.4"),
        "darwin": ("libPCBUSB.dylib",),
    },
    "CAN_PCAN_LIBRARY",
    "install PEAK-System's driver and the PCAN-Basic API (peak-system.com: PCAN-Basic for "
    "Windows, 'PCAN-Basic API (Linux)' with the pcan driver on Linux; the PCBUSB library from "
    "mac-can.com on macOS)",
    error=PcanCanOperationError,
)


def _vendor_text(status: int) -> str:
    """CAN_GetErrorText's English text for one code, or ''."""
    get_text = LIBRARY.function(
        "CAN_GetErrorText",
        TPCANStatus,
        [TPCANStatus, ctypes.c_uint16, ctypes.c_char_p],
        optional=True,
    )
    if get_text is None:
        return ""
    buffer = ctypes.create_string_buffer(256)
    if get_text(status, 0x09, buffer) != PCAN_ERROR_OK:  # 0x09: English
        return ""
    return buffer.value.decode("latin-1").strip()


def status_text(status: int) -> str:
    """``status`` as header names and the library's text: ``"PCAN_ERROR_BUSOFF: Bus error:
    the CAN controller is in bus-off state."``; a combination of codes lists each."""
    if status in PCAN_STATUS_NAMES:
        parts = [status]
    else:
        parts = []
        rest = status
        for code in PCAN_STATUS_NAMES:  # the multi-bit handle codes first
            if code and rest & code == code:
                parts.append(code)
                rest &= ~code
        if rest:
            parts.append(rest)
    texts = []
    for code in parts:
        name = PCAN_STATUS_NAMES.get(code, f"0x{code:X}")
        vendor = _vendor_text(code) if LIBRARY.loaded else ""
        texts.append(f"{name}: {vendor}" if vendor else name)
    return "; ".join(texts)


def describe(status: int) -> tuple[bool, str]:
    """How :class:`~can.ctypesutil.VendorLibrary` reads a ``TPCANStatus``."""
    return status != PCAN_ERROR_OK, status_text(status)


def functions() -> dict[str, Any]:
    """The PCAN-Basic functions the backend calls, declared once. The ones on the receive path
    and those whose statuses the caller reads itself (CAN_Read, CAN_GetStatus, ...) return the
    raw status; the others raise :class:`PcanCanOperationError` on a failing status."""
    handle, status, u32, void_p = TPCANHandle, TPCANStatus, ctypes.c_uint32, ctypes.c_void_p
    raw: dict[str, tuple[Any, list[Any]]] = {
        "CAN_Initialize": (
            status,
            [handle, TPCANBaudrate, ctypes.c_uint8, u32, ctypes.c_uint16],
        ),
        "CAN_InitializeFD": (status, [handle, ctypes.c_char_p]),
        "CAN_Uninitialize": (status, [handle]),
        "CAN_Reset": (status, [handle]),
        "CAN_GetStatus": (status, [handle]),
        # MessageBuffer and TimestampBuffer as addresses: the hot path passes ints.
        "CAN_Read": (status, [handle, void_p, void_p]),
        "CAN_ReadFD": (status, [handle, void_p, void_p]),
        "CAN_Write": (status, [handle, void_p]),
        "CAN_WriteFD": (status, [handle, void_p]),
        "CAN_GetValue": (status, [handle, TPCANParameter, void_p, u32]),
        "CAN_SetValue": (status, [handle, TPCANParameter, void_p, u32]),
    }
    checked: dict[str, tuple[Any, list[Any]]] = {
        "CAN_FilterMessages": (status, [handle, u32, u32, TPCANMode])
    }
    found = LIBRARY.declare(raw)
    found.update(LIBRARY.declare(checked, describe))
    # The per-frame calls once more as separate function objects without argtypes: ctypes
    # then converts nothing (the caller passes a ctypes buffer for each pointer, and the
    # channel handle as a C int, which every ABI PCAN-Basic runs on passes in the same
    # register or stack slot as a WORD), about half the cost of a declared call.
    dll = LIBRARY.load()
    for name in ("CAN_Read", "CAN_ReadFD", "CAN_Write", "CAN_WriteFD"):
        fast = dll[name]  # indexing makes a new function object, leaving the declared one
        fast.restype = TPCANStatus
        found[name + "/fast"] = fast
    return found
