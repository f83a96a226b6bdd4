"""Log files as Arrow columns: :func:`read_table` and :func:`read_batches`.

The frames of a BLF, ASC, candump ``.log`` or PEAK TRC file (the formats the native module
reads, ``native`` in :mod:`can.io.formats`) are gathered into columns by the native module and
handed to pyarrow through the Arrow C stream interface (the PyCapsule protocol,
``__arrow_c_stream__``): no :class:`can.Message` is made per frame. The values are those the
format's :class:`can.LogReader` gives (see :doc:`/arrow`). pyarrow is an optional dependency:
``pip install can[arrow]``.
"""

from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Optional, Union

from can._core import ArrowLogStream
from can.io.formats import log_format, split_suffix
from can.io.generic import TruncatedLogWarning

__all__ = ["COLUMNS", "DEFAULT_BATCH_SIZE", "read_batches", "read_table"]

#: The columns, in the order a table holds them.
COLUMNS = (
    "timestamp",
    "timestamp_ns",
    "channel",
    "arbitration_id",
    "is_extended_id",
    "is_remote_frame",
    "is_error_frame",
    "is_fd",
    "bitrate_switch",
    "error_state_indicator",
    "is_rx",
    "dlc",
    "data",
)

#: Rows per record batch of :func:`read_batches` unless told.
DEFAULT_BATCH_SIZE = 65536

_Path = Union[str, "os.PathLike[str]"]


def _pyarrow() -> Any:
    try:
        pyarrow = importlib.import_module("pyarrow")
    except ImportError as exc:
        raise ImportError(
            "can.io.read_table and read_batches need pyarrow: pip install can[arrow]"
        ) from exc
    return pyarrow


def _stream(
    path: _Path,
    columns: Optional[Sequence[str]],
    can_filters: Optional[Iterable[Mapping[str, Any]]],
    channels: Optional[Iterable[Union[int, str]]],
    start: Optional[float],
    stop: Optional[float],
    batch_size: int,
) -> ArrowLogStream:
    suffix, compressed = split_suffix(path)
    fmt = log_format(suffix)
    if fmt is None or not fmt.native or compressed or suffix == ".csv":
        raise ValueError(
            f"{os.fspath(path)}: read_table reads .blf, .asc, .log and .trc files "
            "(not gzip-compressed); read other formats with can.LogReader"
        )
    if isinstance(columns, str):
        raise TypeError("columns must be a sequence of column names, not a single string")
    return ArrowLogStream(
        os.fspath(path),
        None if columns is None else list(columns),
        can_filters,
        channels,
        None if start is None else float(start),
        None if stop is None else float(stop),
        batch_size,
    )


def read_batches(
    path: _Path,
    *,
    columns: Optional[Sequence[str]] = None,
    can_filters: Optional[Iterable[Mapping[str, Any]]] = None,
    channels: Optional[Iterable[Union[int, str]]] = None,
    start: Optional[float] = None,
    stop: Optional[float] = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Any:
    """The frames of a log file as a :class:`pyarrow.RecordBatchReader`.

    The file is read as the batches are: at most ``batch_size`` frames are held at a time.

    :param path: a ``.blf``, ``.asc``, ``.log`` (candump) or ``.trc`` file.
    :param columns: the columns to read, in this order (default: all of :data:`COLUMNS`).
    :param can_filters: python-can filter dicts (``can_id``, ``can_mask``, optional
        ``extended``); only frames that pass are read (as :meth:`can.BusABC.set_filters`).
    :param channels: only frames on these channels (the ``channel`` column's values).
    :param start: only frames timestamped at or after this (seconds, as the ``timestamp``
        column).
    :param stop: only frames timestamped before this.
    :param batch_size: most rows per batch.
    :raises ImportError: pyarrow is not installed.
    :raises ValueError: a format this cannot read, an unknown column, bad filters.
    :raises OSError: the file cannot be opened.
    :rtype: pyarrow.RecordBatchReader

    A file that is not valid in its format raises the format reader's error
    (:class:`can.io.BLFParseError`, ...) when the batch that holds the bad record is read; a BLF
    file cut short gives a :class:`can.io.BLFTruncatedWarning` at the end, as
    :class:`can.io.BLFReader` does.
    """
    pa = _pyarrow()
    stream = _stream(path, columns, can_filters, channels, start, stop, batch_size)
    inner = pa.RecordBatchReader.from_stream(stream)
    name = os.fspath(path)

    def batches() -> Iterator[Any]:
        while True:
            try:
                batch = inner.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowException, OSError):
                error = stream.error()
                if error is None:
                    raise
                raise error from None
            yield batch
        truncation, notes = stream.end_notes()
        for note in notes:
            warnings.warn(f"{name}: {note}", UserWarning, stacklevel=3)
        if truncation is not None:
            category: type[Warning] = TruncatedLogWarning
            if split_suffix(path)[0] == ".blf":
                from can.io.blf import BLFTruncatedWarning

                category = BLFTruncatedWarning
            warnings.warn(f"{name}: {truncation}", category, stacklevel=3)

    return pa.RecordBatchReader.from_batches(inner.schema, batches())


def read_table(
    path: _Path,
    *,
    columns: Optional[Sequence[str]] = None,
    can_filters: Optional[Iterable[Mapping[str, Any]]] = None,
    channels: Optional[Iterable[Union[int, str]]] = None,
    start: Optional[float] = None,
    stop: Optional[float] = None,
) -> Any:
    """The frames of a log file as a :class:`pyarrow.Table`.

    Takes the arguments of :func:`read_batches` (but ``batch_size``) and reads the whole file.

    :rtype: pyarrow.Table
    """
    reader = read_batches(
        path, columns=columns, can_filters=can_filters, channels=channels, start=start, stop=stop
    )
    return reader.read_all()
