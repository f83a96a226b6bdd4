"""Readers and writers of CAN log files, one module per format.

The byte-level work of the binary formats is done by the native module ``can._core``; the
classes here hold the Python objects users see.
"""

from __future__ import annotations

from can.io.asc import ASCParseError, ASCReader, ASCWriter
from can.io.blf import BLFParseError, BLFReader, BLFTruncatedWarning, BLFWriter
from can.io.canutils import CanutilsLogParseError, CanutilsLogReader, CanutilsLogWriter
from can.io.generic import BaseIOHandler

__all__ = [
    "ASCParseError",
    "ASCReader",
    "ASCWriter",
    "BLFParseError",
    "BLFReader",
    "BLFTruncatedWarning",
    "BLFWriter",
    "BaseIOHandler",
    "CanutilsLogParseError",
    "CanutilsLogReader",
    "CanutilsLogWriter",
]
