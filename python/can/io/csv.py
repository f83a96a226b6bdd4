"""CSV, a comma separated text file with a line per message (manual section 3.4.5).

The columns, in this order, with their header names:

================  =====================  ==============
column            format                 example
================  =====================  ==============
timestamp         decimal float          1483389946.197
arbitration_id    hex                    0x00dadada
extended          1 == True, 0 == False  1
remote            1 == True, 0 == False  0
error             1 == True, 0 == False  0
dlc               int                    6
data              base64 encoded         WzQyLCA5XQ==
================  =====================  ==============

What CSV cannot hold: the channel, the direction (``is_rx``) and the CAN FD flags
(``is_fd``, ``bitrate_switch``, ``error_state_indicator``) are not among the columns. A CAN FD
frame is written with its dlc and all its data bytes and reads back as a frame with
``is_fd=False`` (its data intact); a remote frame's data is empty.

The parsing and formatting is done by the native module; see ``rust/src/csv.rs``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Union

from can import _core
from can.exceptions import CanError
from can.io.asc import _file_name, _is_text
from can.io.generic import (
    FileIOMessageWriter,
    FileLike,
    MessageReader,
    PathLike,
    _disk_size,
    _finalize_writer,
    _stop_writer,
)
from can.message import Message

__all__ = ["CSVParseError", "CSVReader", "CSVWriter"]

#: The header line (without its line break).
HEADER = "timestamp,arbitration_id,extended,remote,error,dlc,data"


class CSVParseError(CanError, ValueError):
    """A line of a CSV log cannot be read; the message names the file and the line."""


class CSVWriter(FileIOMessageWriter):
    """Writes a comma separated text file with a line for each message, after a header line.

    :param file: a path-like object or a file-like object to write to. A file-like object may
        be opened in text or binary write mode.
    :param append: True: messages are appended to the file and no header line is written;
        False (the default): the file is truncated and starts with the header line.

    Each line ends with the platform's line separator when a path is given (``\\n`` into a
    file-like object). Extended ids are written with 8 hex digits, standard ids with 3
    (``0x00dadada``, ``0x123``); timestamps as :func:`repr` writes a float, with as many
    digits as it takes to read back the same float. The writer may be called from several
    threads at once; lines are buffered and written in blocks to a file it opened itself, and
    handed to a file-like object passed in at every call.

    >>> import can, io
    >>> out = io.StringIO()
    >>> with can.CSVWriter(out) as writer:
    ...     writer(can.Message(timestamp=1483389946.197, arbitration_id=0x00DADADA,
    ...                        data=b"[42, 9]"))
    >>> print(out.getvalue(), end="")
    timestamp,arbitration_id,extended,remote,error,dlc,data
    1483389946.197,0x00dadada,1,0,0,7,WzQyLCA5XQ==
    """

    def __init__(
        self, file: Union[PathLike, FileLike], append: bool = False, **kwargs: Any
    ) -> None:
        # The platform's line separator: a path is opened in text mode where it is not "\n".
        mode = ("a" if append else "w") + ("b" if os.linesep == "\n" else "")
        super().__init__(file, mode=mode)
        if self.file is None:
            raise ValueError("CSVWriter needs a file to write to, not None")
        try:
            self._writer = _core.CsvWriter(
                self.file, _is_text(self.file), not append, lend=self._owns_file
            )
        except BaseException:
            super().stop()
            raise
        self._finalizer = _finalize_writer(self, self._writer)
        self._stopped = False
        if type(self).on_message_received is CSVWriter.on_message_received:
            # The hot path: each message goes straight to the native writer.
            self.on_message_received = self._writer.message_sink()  # type: ignore[method-assign,assignment]

    def on_message_received(self, msg: Message) -> None:
        """Writes one line for ``msg``."""
        self._writer.write_message(msg)

    def file_size(self) -> int:
        """Bytes in the file so far; the lines still buffered are flushed to it first."""
        self._writer.flush()
        return _disk_size(self.file)

    def stop(self) -> None:
        """Flushes and closes the file (a file-like object passed in is flushed and left
        open). Safe to call twice; writing afterwards raises :class:`ValueError`."""
        if self._stopped:
            return
        self._stopped = True
        try:
            _stop_writer(self.file, self._writer, self._finalizer)
        finally:
            super().stop()


class CSVReader(MessageReader):
    """Iterator over the messages of a CSV file that :class:`CSVWriter` wrote, or that uses the
    same columns. The first line is the header and is skipped; any line separator is accepted;
    empty lines are skipped; white space around a field is ignored.

    :param file: a path-like object or a file-like object to read from. A file-like object may
        be opened in text or binary read mode.
    :param strict: True (the default): a malformed line raises :class:`CSVParseError` naming
        the file and the line. False: it is skipped and counted in :attr:`skipped_lines`, and
        a warning at the end of the file says how many were.
    :param message_class: the class of the messages returned, :class:`can.Message` or a
        subclass (whose ``__init__`` is not called, as when unpickling).

    A last line without its line break that does not read (a file cut while it was written)
    is left out with a :class:`can.io.TruncatedLogWarning`, in either mode. Lines longer than
    1 MiB are malformed lines. The data column must be base64 with its ``=`` padding, of at
    most 64 bytes; the id at most 0x1FFFFFFF; the dlc 0 to 255. The file is closed when the
    iteration ends.

    >>> import can, io
    >>> text = io.StringIO("timestamp,arbitration_id,extended,remote,error,dlc,data\\n"
    ...                    "1483389946.197,0x00dadada,1,0,0,7,WzQyLCA5XQ==\\n")
    >>> [(m.timestamp, hex(m.arbitration_id), m.is_extended_id, bytes(m.data))
    ...  for m in can.CSVReader(text)]
    [(1483389946.197, '0xdadada', True, b'[42, 9]')]
    """

    def __init__(
        self,
        file: Union[PathLike, FileLike],
        *,
        strict: bool = True,
        message_class: type[Message] = Message,
        **kwargs: Any,
    ) -> None:
        super().__init__(file, mode="rb")
        if self.file is None:
            raise ValueError("CSVReader needs a file to read from, not None")
        #: Whether a malformed line raises (else it is skipped).
        self.strict = strict
        try:
            self._reader = _core.CsvReader(
                self.file, message_class, _file_name(file, self.file), strict, self.stop
            )
        except BaseException:
            self.stop()
            raise

    def __iter__(self) -> Iterator[Message]:
        return self._reader

    @property
    def skipped_lines(self) -> int:
        """Malformed lines skipped so far (only with ``strict=False``)."""
        return self._reader.skipped_lines
