"""Readers and writers of CAN log files, one module per format.

The byte-level work of the binary formats is done by the native module ``can._core``; the
classes here hold the Python objects users see.
"""

from __future__ import annotations

from can.io.blf import BLFParseError, BLFReader, BLFTruncatedWarning, BLFWriter
from can.io.generic import BaseIOHandler

__all__ = [
    "BLFParseError",
    "BLFReader",
    "BLFTruncatedWarning",
    "BLFWriter",
    "BaseIOHandler",
]
