"""Controller Area Network (CAN and CAN FD) for Python.

The public API is the one the python-can 3.3.2 manual documents (plus the python-can 4.x
additions users rely on); the byte-level work is done by the native module ``can._core``.
"""

from __future__ import annotations

import logging
from typing import Any

# One version, kept in rust/Cargo.toml: maturin writes it into the wheel's metadata and the
# native module reports it. Its scheme is in docs/installation.rst ("Version numbers").
from can._core import __version__ as __version__

log = logging.getLogger("can")

#: Configuration set in code; see :func:`can.util.load_config`. ``can.rc['interface']`` etc.
rc: dict[str, Any] = {}

from can import interface, typechecking, util  # noqa: E402
from can.bit_timing import BitTiming, BitTimingFd  # noqa: E402
from can.broadcastmanager import (  # noqa: E402
    CyclicSendTaskABC,
    CyclicTask,
    LimitedDurationCyclicSendTaskABC,
    ModifiableCyclicTaskABC,
    MultiRateCyclicSendTaskABC,
    RestartableCyclicTaskABC,
)
from can.bus import BusABC, BusState, CanProtocol  # noqa: E402
from can.exceptions import (  # noqa: E402
    CanError,
    CanInitializationError,
    CanInterfaceNotImplementedError,
    CanOperationError,
    CanTimeoutError,
)
from can.interface import Bus, detect_available_configs  # noqa: E402
from can.io import (  # noqa: E402
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
from can.listener import (  # noqa: E402
    AsyncBufferedReader,
    BufferedReader,
    Listener,
    RedirectReader,
)
from can.message import Message  # noqa: E402
from can.notifier import Notifier  # noqa: E402
from can.thread_safe_bus import ThreadSafeBus  # noqa: E402
from can.util import set_logging_level  # noqa: E402

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
    if name in ("SqliteReader", "SqliteWriter"):
        # sqlite3 is imported when the SQLite classes are first used, not by ``import can``
        from can.io import sqlite

        return getattr(sqlite, name)
    if name in ("MF4Reader", "MF4Writer"):
        # can.io.mf4 imports asammdf only when a reader or writer is made (it is optional)
        from can.io import mf4

        return getattr(mf4, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
