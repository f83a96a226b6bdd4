"""The registry of log file formats: which suffix is read and written by which class.

This is the one place that knows a suffix. :class:`can.Logger`, :class:`can.LogReader`,
:class:`can.SizedRotatingLogger` and ``can-logconvert`` all ask it; nothing else maps a file
name to a format.

Every built-in format is one :class:`LogFormat` entry in :data:`FORMATS`. Formats of other
packages are found through two entry-point groups, as in python-can 4.x: ``can.io.message_reader``
and ``can.io.message_writer``, each entry named by its suffix (``.xyz = package.module:XyzReader``).
Classes are imported only when a suffix is first used, so ``import can`` stays light and an
optional dependency (asammdf for MF4) is needed only by those who use that format.

A suffix may be followed by ``.gz``: the file is then written and read through :mod:`gzip`,
transparently (``log.asc.gz``). Formats that need a file of their own (SQLite) or compress
already (BLF) cannot be compressed this way.

>>> from can.io.formats import split_suffix, MESSAGE_WRITERS
>>> split_suffix("drive/2024-05-01.ASC.gz")
('.asc', True)
>>> MESSAGE_WRITERS[".log"].__name__
'CanutilsLogWriter'
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from typing import Any, NamedTuple, Optional, Union

from can._registry import Registry, Target

__all__ = [
    "COMPRESSION_SUFFIX",
    "FORMATS",
    "MESSAGE_READERS",
    "MESSAGE_WRITERS",
    "READERS",
    "WRITERS",
    "LogFormat",
    "UnknownFormatError",
    "log_format",
    "split_suffix",
]

#: The suffix of a gzip-compressed log, after the format's own (``.asc.gz``).
COMPRESSION_SUFFIX = ".gz"


class UnknownFormatError(ValueError):
    """No format is registered for a file's suffix (for this direction)."""


class LogFormat(NamedTuple):
    """One log file format as the registry knows it.

    :param suffix: the file name suffix, lower case with its dot (``".asc"``).
    :param name: what the format is called in messages and docs.
    :param reader: where the reader class lives (``module``, ``Class``), or None.
    :param writer: where the writer class lives, or None.
    :param binary: whether the format is bytes (opened in binary mode when compressed).
    :param compressible: whether ``<suffix>.gz`` is supported (False for formats that need a
        file name of their own, such as SQLite databases).
    :param native: whether ``can-logconvert`` converts it in the native module, without a
        :class:`can.Message` per frame.
    :param extra: the ``pip install can[extra]`` the format needs, if any.
    :param holds: the message fields the format keeps besides timestamp, id, id type, remote
        and error flags, dlc and data: any of ``"channel"``, ``"fd"`` (``is_fd``,
        ``bitrate_switch``, ``error_state_indicator``), ``"direction"`` (``is_rx``),
        ``"error_data"`` (an error frame's id and data bytes) and ``"order"``: frames of
        every kind read back in the order written. A format without ``"order"`` (MF4, which
        keeps each kind of frame in a channel group of its own) reads them back by timestamp,
        frames of equal timestamps as data frames, then error frames, then remote frames.
    :param convert_options: reader arguments for a conversion, so that what is converted keeps
        absolute times (ASC: ``relative_timestamp=False``).
    """

    suffix: str
    name: str
    reader: Optional[Target]
    writer: Optional[Target]
    binary: bool
    compressible: bool = True
    native: bool = False
    extra: Optional[str] = None
    holds: frozenset[str] = frozenset()
    convert_options: tuple[tuple[str, Any], ...] = ()


_ALL = frozenset({"channel", "fd", "direction", "error_data", "order"})
#: The built-in formats, by suffix.
FORMATS: dict[str, LogFormat] = {
    f.suffix: f
    for f in (
        LogFormat(
            ".asc",
            "ASC",
            ("can.io.asc", "ASCReader"),
            ("can.io.asc", "ASCWriter"),
            binary=False,
            native=True,
            holds=frozenset({"channel", "fd", "direction", "order"}),
            convert_options=(("relative_timestamp", False),),
        ),
        LogFormat(
            ".blf",
            "BLF",
            ("can.io.blf", "BLFReader"),
            ("can.io.blf", "BLFWriter"),
            binary=True,
            compressible=False,  # compressed already, and its header is rewritten in place
            native=True,
            holds=_ALL,
        ),
        LogFormat(
            ".csv",
            "CSV",
            ("can.io.csv", "CSVReader"),
            ("can.io.csv", "CSVWriter"),
            binary=False,
            native=True,
            holds=frozenset({"error_data", "order"}),
        ),
        LogFormat(
            ".db",
            "SQLite",
            ("can.io.sqlite", "SqliteReader"),
            ("can.io.sqlite", "SqliteWriter"),
            binary=True,
            compressible=False,
            holds=frozenset({"error_data", "order"}),
        ),
        LogFormat(
            ".log",
            "candump log",
            ("can.io.canutils", "CanutilsLogReader"),
            ("can.io.canutils", "CanutilsLogWriter"),
            binary=False,
            native=True,
            holds=_ALL,
        ),
        LogFormat(
            ".mf4",
            "MF4",
            ("can.io.mf4", "MF4Reader"),
            ("can.io.mf4", "MF4Writer"),
            binary=True,
            compressible=False,  # a seekable file of its own, compressed by the format itself
            extra="mf4",
            holds=_ALL - {"order"},  # each kind of frame in a channel group of its own
        ),
        LogFormat(
            ".trc",
            "PEAK TRC",
            ("can.io.trc", "TRCReader"),
            ("can.io.trc", "TRCWriter"),
            binary=False,
            native=True,
            holds=frozenset({"channel", "fd", "direction", "order"}),
        ),
        LogFormat(".txt", "text (Printer)", None, ("can.io.printer", "Printer"), binary=False),
    )
}


def _unknown(text: str) -> Exception:
    return UnknownFormatError(text)


#: Suffix -> reader class, built-in and from the ``can.io.message_reader`` entry points.
READERS = Registry(
    "can.io.message_reader",
    {s: f.reader for s, f in FORMATS.items() if f.reader is not None},
    "log format to read",
    _unknown,
)
#: Suffix -> writer class, built-in and from the ``can.io.message_writer`` entry points.
WRITERS = Registry(
    "can.io.message_writer",
    {s: f.writer for s, f in FORMATS.items() if f.writer is not None},
    "log format to write",
    _unknown,
)


def split_suffix(filename: Union[str, os.PathLike[str]]) -> tuple[str, bool]:
    """The format suffix of a file name in lower case, and whether it ends in ``.gz``.

    >>> split_suffix("a/b.c/trace.BLF"), split_suffix("x.log.gz"), split_suffix("noext")
    (('.blf', False), ('.log', True), ('', False))
    """
    name = os.path.basename(os.fspath(filename)).lower()
    compressed = name.endswith(COMPRESSION_SUFFIX)
    if compressed:
        name = name[: -len(COMPRESSION_SUFFIX)]
    return os.path.splitext(name)[1], compressed


def log_format(suffix: str) -> Optional[LogFormat]:
    """The built-in format of ``suffix`` (``".asc"``), or None for plug-ins and unknowns."""
    return FORMATS.get(suffix.lower())


class _ClassMap(MutableMapping[str, type]):
    """A registry seen as python-can 4.x's ``MESSAGE_READERS`` / ``MESSAGE_WRITERS`` dict.

    Looking a suffix up imports its class; assigning one registers a class for this process
    (it takes precedence over the built-in and plug-in entries); deleting removes only such an
    assignment.
    """

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._assigned: dict[str, type] = {}

    def __getitem__(self, suffix: str) -> type:
        if suffix in self._assigned:
            return self._assigned[suffix]
        if self._registry.target(suffix) is None:
            raise KeyError(suffix)
        cls: type = self._registry.load(suffix)
        return cls

    def __setitem__(self, suffix: str, cls: type) -> None:
        self._assigned[suffix] = cls

    def __delitem__(self, suffix: str) -> None:
        del self._assigned[suffix]

    def __iter__(self) -> Iterator[str]:
        names = self._registry.names()
        return iter(names + sorted(set(self._assigned) - set(names)))

    def __len__(self) -> int:
        return len(set(self._registry.names()) | set(self._assigned))

    def __contains__(self, suffix: object) -> bool:
        return isinstance(suffix, str) and (
            suffix in self._assigned or self._registry.target(suffix) is not None
        )

    def __repr__(self) -> str:
        return f"<{self._registry.group} formats: {', '.join(self)}>"

    def find(self, filename: Any, *, kind: str) -> tuple[type, str, bool]:
        """The class for ``filename``'s suffix, the suffix and whether it is gzip-compressed.

        :raises UnknownFormatError: naming the file and the suffixes known.
        """
        suffix, compressed = split_suffix(filename)
        try:
            cls = self[suffix]
        except KeyError:
            known = ", ".join(sorted(self))
            what = f"suffix {suffix!r}" if suffix else "no suffix"
            raise UnknownFormatError(
                f"{os.fspath(filename)}: cannot {kind} a log file with {what}; "
                f"the formats known are {known} (the text formats also as <suffix>.gz)"
            ) from None
        fmt = log_format(suffix)
        if compressed and fmt is not None and not fmt.compressible:
            raise UnknownFormatError(
                f"{os.fspath(filename)}: {fmt.name} files cannot be gzip-compressed"
            )
        return cls, suffix, compressed


#: Suffix -> reader class (python-can 4.x's ``can.io.MESSAGE_READERS``).
MESSAGE_READERS = _ClassMap(READERS)
#: Suffix -> writer class (python-can 4.x's ``can.io.MESSAGE_WRITERS``).
MESSAGE_WRITERS = _ClassMap(WRITERS)
