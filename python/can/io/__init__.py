"""Readers and writers of CAN log files, one module per format.

The byte-level work of the binary formats is done by the native module ``can._core``; the
classes here hold the Python objects users see. :mod:`can.io.formats` is the registry that
maps file suffixes to these classes, for :class:`Logger` and :class:`LogReader`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from can.io.arrow import read_batches, read_table
    from can.io.asc import ASCParseError, ASCReader, ASCWriter
    from can.io.blf import BLFParseError, BLFReader, BLFTruncatedWarning, BLFWriter
    from can.io.canutils import CanutilsLogParseError, CanutilsLogReader, CanutilsLogWriter
    from can.io.csv import CSVParseError, CSVReader, CSVWriter
    from can.io.formats import MESSAGE_READERS, MESSAGE_WRITERS
    from can.io.generic import (
        BaseIOHandler,
        FileIOMessageWriter,
        MessageReader,
        MessageWriter,
        TruncatedLogWarning,
    )
    from can.io.logger import BaseRotatingLogger, Logger, SizedRotatingLogger
    from can.io.mf4 import MF4Reader, MF4Writer
    from can.io.player import LogReader, MessageSync
    from can.io.printer import Printer
    from can.io.sqlite import SqliteReader, SqliteWriter
    from can.io.trc import TRCFileVersion, TRCParseError, TRCReader, TRCWriter

__all__ = [
    "MESSAGE_READERS",
    "MESSAGE_WRITERS",
    "ASCParseError",
    "ASCReader",
    "ASCWriter",
    "BLFParseError",
    "BLFReader",
    "BLFTruncatedWarning",
    "BLFWriter",
    "BaseIOHandler",
    "BaseRotatingLogger",
    "CSVParseError",
    "CSVReader",
    "CSVWriter",
    "CanutilsLogParseError",
    "CanutilsLogReader",
    "CanutilsLogWriter",
    "FileIOMessageWriter",
    "LogReader",
    "Logger",
    "MF4Reader",
    "MF4Writer",
    "MessageReader",
    "MessageSync",
    "MessageWriter",
    "Printer",
    "SizedRotatingLogger",
    "SqliteReader",
    "SqliteWriter",
    "TRCFileVersion",
    "TRCParseError",
    "TRCReader",
    "TRCWriter",
    "TruncatedLogWarning",
    "read_batches",
    "read_table",
]

# Every name is imported when first used (``import can`` and ``import can.io.formats`` import
# no format): ``python -m can.logconvert`` needs none of the Python classes, and sqlite3 and
# asammdf (optional) cost more to import than everything else together.
_LAZY = {
    "read_batches": "can.io.arrow",
    "read_table": "can.io.arrow",
    "ASCParseError": "can.io.asc",
    "ASCReader": "can.io.asc",
    "ASCWriter": "can.io.asc",
    "BLFParseError": "can.io.blf",
    "BLFReader": "can.io.blf",
    "BLFTruncatedWarning": "can.io.blf",
    "BLFWriter": "can.io.blf",
    "CanutilsLogParseError": "can.io.canutils",
    "CanutilsLogReader": "can.io.canutils",
    "CanutilsLogWriter": "can.io.canutils",
    "CSVParseError": "can.io.csv",
    "CSVReader": "can.io.csv",
    "CSVWriter": "can.io.csv",
    "MESSAGE_READERS": "can.io.formats",
    "MESSAGE_WRITERS": "can.io.formats",
    "BaseIOHandler": "can.io.generic",
    "FileIOMessageWriter": "can.io.generic",
    "MessageReader": "can.io.generic",
    "MessageWriter": "can.io.generic",
    "TruncatedLogWarning": "can.io.generic",
    "BaseRotatingLogger": "can.io.logger",
    "Logger": "can.io.logger",
    "SizedRotatingLogger": "can.io.logger",
    "LogReader": "can.io.player",
    "MessageSync": "can.io.player",
    "Printer": "can.io.printer",
    "TRCFileVersion": "can.io.trc",
    "TRCParseError": "can.io.trc",
    "TRCReader": "can.io.trc",
    "TRCWriter": "can.io.trc",
    "SqliteReader": "can.io.sqlite",
    "SqliteWriter": "can.io.sqlite",
    "MF4Reader": "can.io.mf4",
    "MF4Writer": "can.io.mf4",
}


#: The format modules, attributes of ``can.io`` once used (importing one makes it one).
_SUBMODULES = frozenset(
    {"asc", "blf", "canutils", "csv", "formats", "generic", "logger", "player", "printer", "trc"}
)


def __getattr__(name: str) -> Any:
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    if not module.endswith((".sqlite", ".mf4")):
        globals()[name] = value  # the next use is an ordinary lookup
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
