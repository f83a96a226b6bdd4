"""Loading the Vector XL Driver Library and declaring its functions.

The library is ``vxlapi64.dll`` (64-bit Python) or ``vxlapi.dll`` (32-bit) on Windows, where
Vector's driver setup installs it. Vector publishes no Linux or macOS driver: on those systems
the only library this backend loads is a stand-in such as our simulated one
(tests/simlibs/vector), by the path in the ``CAN_VECTOR_LIBRARY`` environment variable or, on
Linux, by the file name ``libvxlapi64.so`` on the library search path (``LD_LIBRARY_PATH``).

Signatures are those of Vector's public ``vxlapi.h`` (github.com/vectorgrp/XCPlite, vxlapi.h).
Every function returning ``XLstatus`` is checked: a status other than ``XL_SUCCESS`` raises
:class:`~can.interfaces.vector.VectorError` with the library's text for it, except in the
receive and transmit functions, which :class:`~can.interfaces.vector.VectorBus` checks itself
(``XL_ERR_QUEUE_IS_EMPTY`` is no error there, and the hot path saves the extra call).
"""

from __future__ import annotations

import ctypes
import struct
import threading
from typing import Any, Optional

from can.ctypesutil import VendorLibrary, platform_key

from . import xlclass
from .exceptions import VectorError

__all__ = ["LIBRARY", "XLDriver", "driver", "error_string", "raw"]

_DLL = "vxlapi64.dll" if struct.calcsize("P") == 8 else "vxlapi.dll"

_HINT = {
    "win32": "install the Vector XL Driver Library with Vector's driver setup (vector.com: "
    "'Vector Driver Setup' / 'XL Driver Library')",
}.get(
    platform_key(),
    "the Vector XL Driver Library exists for Windows only; Vector publishes no driver for "
    "this system, so only a stand-in library can be loaded here (such as the simulated "
    "libvxlapi64.so built from tests/simlibs/vector), named by CAN_VECTOR_LIBRARY",
)

#: The library, loaded on first use.
LIBRARY = VendorLibrary(
    "Vector XL Driver",
    {
        "win32": (_DLL,),
        # No Vector driver exists for Linux; this is the simulated library's file name.
        "linux": ("libvxlapi64.so",),
    },
    "CAN_VECTOR_LIBRARY",
    _HINT,
    stdcall=True,
    error=VectorError,
)

_S = xlclass.XLstatus
_A = xlclass.XLaccess
_P = xlclass.XLportHandle
_U = ctypes.c_uint
_I = ctypes.c_int
_byref_uint = ctypes.POINTER(ctypes.c_uint)

#: name -> (restype, argtypes), as vxlapi.h declares them.
SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "xlOpenDriver": (_S, []),
    "xlCloseDriver": (_S, []),
    "xlGetDriverConfig": (_S, [ctypes.POINTER(xlclass.XLdriverConfig)]),
    "xlGetApplConfig": (
        _S,
        [ctypes.c_char_p, _U, _byref_uint, _byref_uint, _byref_uint, _U],
    ),
    "xlSetApplConfig": (_S, [ctypes.c_char_p, _U, _U, _U, _U, _U]),
    "xlGetChannelIndex": (_I, [_I, _I, _I]),
    "xlGetChannelMask": (_A, [_I, _I, _I]),
    "xlOpenPort": (
        _S,
        [ctypes.POINTER(_P), ctypes.c_char_p, _A, ctypes.POINTER(_A), _U, _U, _U],
    ),
    "xlClosePort": (_S, [_P]),
    "xlActivateChannel": (_S, [_P, _A, _U, _U]),
    "xlDeactivateChannel": (_S, [_P, _A]),
    "xlCanSetChannelBitrate": (_S, [_P, _A, xlclass.XLulong]),
    "xlCanSetChannelParams": (_S, [_P, _A, ctypes.POINTER(xlclass.XLchipParams)]),
    "xlCanFdSetConfiguration": (_S, [_P, _A, ctypes.POINTER(xlclass.XLcanFdConf)]),
    "xlCanSetChannelMode": (_S, [_P, _A, _I, _I]),
    "xlCanSetChannelOutput": (_S, [_P, _A, _I]),
    "xlCanSetChannelAcceptance": (_S, [_P, _A, xlclass.XLulong, xlclass.XLulong, _U]),
    "xlCanRequestChipState": (_S, [_P, _A]),
    "xlCanFlushTransmitQueue": (_S, [_P, _A]),
    "xlSetNotification": (_S, [_P, ctypes.POINTER(xlclass.XLhandle), _I]),
    "xlPopupHwConfig": (_S, [ctypes.c_char_p, _U]),
}

#: Checked by the bus itself (see the module text).
UNCHECKED: dict[str, tuple[Any, list[Any]]] = {
    "xlReceive": (_S, [_P, _byref_uint, ctypes.c_void_p]),
    "xlCanReceive": (_S, [_P, ctypes.c_void_p]),
    "xlCanTransmit": (_S, [_P, _A, _byref_uint, ctypes.c_void_p]),
    "xlCanTransmitEx": (_S, [_P, _A, _U, _byref_uint, ctypes.c_void_p]),
    "xlGetErrorString": (xlclass.XLstringType, [_S]),
}


def error_string(status: int) -> str:
    """The library's name for ``status`` (``xlGetErrorString``)."""
    text = driver().xlGetErrorString(status)
    return text.decode("ascii", "replace") if text else f"XLstatus {status}"


def _check(result: Any, func: Any, arguments: Any) -> Any:
    status = int(result)
    if status != 0:
        raise VectorError(status, error_string(status), func.__name__)
    return result


class XLDriver:
    """The declared functions of the loaded library, as attributes (``driver().xlOpenPort``)."""

    def __init__(self) -> None:
        for name, (restype, argtypes) in SIGNATURES.items():
            func = LIBRARY.function(name, restype, argtypes)
            if restype is _S:
                func.errcheck = _check
            setattr(self, name, func)
        for name, (restype, argtypes) in UNCHECKED.items():
            setattr(self, name, LIBRARY.function(name, restype, argtypes))

    def __getattr__(self, name: str) -> Any:  # pragma: no cover - for the type checker
        raise AttributeError(name)


def raw(name: str) -> Any:
    """A separate handle on the hot function ``name`` (``xlReceive``, ``xlCanReceive``,
    ``xlCanTransmit``, ``xlCanTransmitEx``) without ``argtypes``: callers pass ctypes objects
    of the exact C types (``XLportHandle``, ``XLaccess``, pointers), which saves converting
    every argument on every call (about 0.6 us a call). Returns the ``XLstatus``."""
    driver()  # loaded, and the checked declarations made
    func = LIBRARY.load()[name]
    func.restype = xlclass.XLstatus
    return func


_lock = threading.Lock()
_driver: Optional[XLDriver] = None


def driver() -> XLDriver:
    """The library's functions, loaded and declared on first use.

    :raises can.CanInitializationError: if the library cannot be loaded (on Linux and macOS
        the message says that the XL Driver Library is Windows-only).
    """
    global _driver
    with _lock:
        if _driver is None or not LIBRARY.loaded:
            _driver = XLDriver()
        return _driver


def reset() -> None:
    """Forget the loaded library (the next :func:`driver` loads again; for tests that change
    ``CAN_VECTOR_LIBRARY``)."""
    global _driver
    with _lock:
        LIBRARY.reset()
        _driver = None
