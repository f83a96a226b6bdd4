"""Controller Area Network (CAN and CAN FD) for Python.

The public API is the one the python-can 3.3.2 manual documents (plus the python-can 4.x
additions users rely on); the byte-level work is done by the native module ``can._core``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# One version, kept in rust/Cargo.toml: maturin writes it into the wheel's metadata and the
# native module reports it. Its scheme is in docs/installation.rst ("Version numbers").
from can._core import __version__ as __version__

#: Configuration set in code; see :func:`can.util.load_config`. ``can.rc['interface']`` etc.
rc: dict[str, Any] = {}

from can.exceptions import (  # noqa: E402
    CanError,
    CanInitializationError,
    CanInterfaceNotImplementedError,
    CanOperationError,
    CanTimeoutError,
)
from can.message import Message  # noqa: E402

if TYPE_CHECKING:
    import logging

    from can import interface, typechecking, util
    from can.bit_timing import BitTiming, BitTimingFd
    from can.broadcastmanager import (
        CyclicSendTaskABC,
        CyclicTask,
        LimitedDurationCyclicSendTaskABC,
        ModifiableCyclicTaskABC,
        MultiRateCyclicSendTaskABC,
        RestartableCyclicTaskABC,
    )
    from can.bus import BusABC, BusState, CanProtocol
    from can.interface import Bus, detect_available_configs
    from can.io import (
        ASCReader,
        ASCWriter,
        BLFReader,
        BLFWriter,
        CanutilsLogReader,
        CanutilsLogWriter,
        CSVReader,
        CSVWriter,
        Logger,
        LogReader,
        MessageSync,
        Printer,
        SizedRotatingLogger,
        TRCFileVersion,
        TRCReader,
        TRCWriter,
    )
    from can.listener import AsyncBufferedReader, BufferedReader, Listener, RedirectReader
    from can.notifier import Notifier
    from can.thread_safe_bus import ThreadSafeBus
    from can.util import set_logging_level

    #: The package's logger, ``logging.getLogger("can")`` (logging is imported when it is used).
    log: logging.Logger

#: The submodules that are attributes of ``can`` as soon as they are used (python-can's
#: ``import can`` imports them all, so code may use ``can.util`` or ``can.bus`` without
#: importing them itself).
_SUBMODULES = frozenset(
    {
        "bit_timing",
        "broadcastmanager",
        "bus",
        "interface",
        "interfaces",
        "io",
        "listener",
        "notifier",
        "thread_safe_bus",
        "typechecking",
        "util",
    }
)

#: What ``import can`` leaves to first use, and the module each name comes from: ``import can``
#: imports only the messages and exceptions (a short script such as ``python -m can.logconvert``
#: should not pay for buses, notifiers and every log format).
_LAZY: dict[str, str] = {
    "BitTiming": "can.bit_timing",
    "BitTimingFd": "can.bit_timing",
    "CyclicSendTaskABC": "can.broadcastmanager",
    "CyclicTask": "can.broadcastmanager",
    "LimitedDurationCyclicSendTaskABC": "can.broadcastmanager",
    "ModifiableCyclicTaskABC": "can.broadcastmanager",
    "MultiRateCyclicSendTaskABC": "can.broadcastmanager",
    "RestartableCyclicTaskABC": "can.broadcastmanager",
    "BusABC": "can.bus",
    "BusState": "can.bus",
    "CanProtocol": "can.bus",
    "Bus": "can.interface",
    "detect_available_configs": "can.interface",
    "ASCReader": "can.io",
    "ASCWriter": "can.io",
    "BLFReader": "can.io",
    "BLFWriter": "can.io",
    "CanutilsLogReader": "can.io",
    "CanutilsLogWriter": "can.io",
    "CSVReader": "can.io",
    "CSVWriter": "can.io",
    "Logger": "can.io",
    "LogReader": "can.io",
    "MessageSync": "can.io",
    "Printer": "can.io",
    "SizedRotatingLogger": "can.io",
    "TRCFileVersion": "can.io",
    "TRCReader": "can.io",
    "TRCWriter": "can.io",
    # sqlite3 and asammdf (optional) are imported only when these are used
    "SqliteReader": "can.io.sqlite",
    "SqliteWriter": "can.io.sqlite",
    "MF4Reader": "can.io.mf4",
    "MF4Writer": "can.io.mf4",
    "AsyncBufferedReader": "can.listener",
    "BufferedReader": "can.listener",
    "Listener": "can.listener",
    "RedirectReader": "can.listener",
    "Notifier": "can.notifier",
    "ThreadSafeBus": "can.thread_safe_bus",
    "set_logging_level": "can.util",
}

__all__ = [
    "VALID_INTERFACES",
    "ASCReader",
    "ASCWriter",
    "AsyncBufferedReader",
    "BLFReader",
    "BLFWriter",
    "BitTiming",
    "BitTimingFd",
    "BufferedReader",
    "Bus",
    "BusABC",
    "BusState",
    "CSVReader",
    "CSVWriter",
    "CanError",
    "CanInitializationError",
    "CanInterfaceNotImplementedError",
    "CanOperationError",
    "CanProtocol",
    "CanTimeoutError",
    "CanutilsLogReader",
    "CanutilsLogWriter",
    "CyclicSendTaskABC",
    "CyclicTask",
    "LimitedDurationCyclicSendTaskABC",
    "Listener",
    "LogReader",
    "Logger",
    "MF4Reader",
    "MF4Writer",
    "Message",
    "MessageSync",
    "ModifiableCyclicTaskABC",
    "MultiRateCyclicSendTaskABC",
    "Notifier",
    "Printer",
    "RedirectReader",
    "RestartableCyclicTaskABC",
    "SizedRotatingLogger",
    "SqliteReader",
    "SqliteWriter",
    "TRCFileVersion",
    "TRCReader",
    "TRCWriter",
    "ThreadSafeBus",
    "detect_available_configs",
    "interface",
    "log",
    "rc",
    "set_logging_level",
    "typechecking",
    "util",
]


def __getattr__(name: str) -> Any:
    # can.VALID_INTERFACES is computed when used: it includes the plug-ins registered through
    # entry points, and reading those at import time would make ``import can`` much slower.
    if name == "VALID_INTERFACES":
        from can.interfaces import VALID_INTERFACES

        return VALID_INTERFACES
    if name == "log":
        import logging

        logger = logging.getLogger("can")
        globals()["log"] = logger
        return logger
    import importlib

    if name in _SUBMODULES:
        # importing it makes it an attribute of this package
        return importlib.import_module(f"{__name__}.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    if not module.endswith((".sqlite", ".mf4")):
        # Cached as a module attribute: the next use is an ordinary lookup. (The optional
        # formats are looked up each time, as their modules decide when to import.)
        globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
