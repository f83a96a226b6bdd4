"""Readers and writers of CAN log files, one module per format.

The byte-level work of the binary formats is done by the native module ``can._core``; the
classes here hold the Python objects users see. :mod:`can.io.formats` is the registry that
maps file suffixes to these classes, for :class:`Logger` and :class:`LogReader`.
"""

from __future__ import annotations

from typing import Any

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
from can.io.player import LogReader, MessageSync
from can.io.printer import Printer
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

# Imported when first used: sqlite3 costs more to import than every other format together, and
# MF4 needs asammdf (heavy, and optional: it is imported only when a reader or writer is made).
_LAZY = {
    "SqliteReader": "can.io.sqlite",
    "SqliteWriter": "can.io.sqlite",
    "MF4Reader": "can.io.mf4",
    "MF4Writer": "can.io.mf4",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
