"""ASC, the text log format of Vector Informatik's CANoe and CANalyzer (manual section 3.4.7).

The parsing and formatting is done by the native module; see ``rust/src/asc/`` for the format
and its sources. These classes hold the Python side: files, messages and the documented
arguments.

Channels are converted to integers: ASC files count them from 1, messages from 0
(``channel=0`` is ASC channel 1), as python-can does.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any, Optional, Union

from can import _core
from can.exceptions import CanError
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

__all__ = ["ASCParseError", "ASCReader", "ASCWriter"]


class ASCParseError(CanError, ValueError):
    """A line of an ASC file cannot be read, or the file is not an ASC file at all; the
    message names the file (and the line)."""


def _file_name(given: Any, file: Any) -> str:
    """A name for `file` in error messages: the path given, else the file object's name."""
    if isinstance(given, (str, bytes, os.PathLike)):
        return os.fsdecode(given)
    name = getattr(file, "name", None)
    return name if isinstance(name, str) else ""


def _is_text(file: Any) -> bool:
    """Whether `file` takes str (text mode) rather than bytes."""
    if isinstance(file, io.TextIOBase):
        return True
    if isinstance(file, (io.RawIOBase, io.BufferedIOBase)):
        return False
    return "b" not in str(getattr(file, "mode", ""))


class ASCReader(MessageReader):
    """Iterator of CAN messages from an ASC logging file.

    CAN and CAN FD frames, remote frames and error frames are returned as
    :class:`can.Message` objects in file order. Other events (statistics, chip status, J1939
    transport, comments, system variables, symbolic names and trailing attributes) are skipped.
    Channel ``n`` of the file is message channel ``n - 1``.

    :param file: a path-like object or a file-like object to read from. A file-like object may
        be opened in text or binary read mode.
    :param base: the number base of ids and data, ``"hex"`` or ``"dec"``, until the file's
        ``base`` header line says otherwise.
    :param relative_timestamp: True (the default): timestamps count from the start of the
        measurement, as written in the file. False: the start time from the file's ``date``
        (or ``Begin Triggerblock``) line, read as local time, is added, which gives Unix time.
        A date in a layout that cannot be read gives a :class:`UserWarning` and relative
        timestamps; no frame is lost.
    :param strict: True (the default): a malformed frame line raises :class:`ASCParseError`
        naming the file and the line. False: it is skipped and counted in
        :attr:`skipped_lines`, and a warning at the end of the file says how many were.
    :param message_class: the class of the messages returned, :class:`can.Message` or a
        subclass (whose ``__init__`` is not called, as when unpickling).

    Lines longer than 1 MiB are malformed lines: they are never held in memory whole.
    A file with content but no ASC line (no header line such as ``date``, ``base`` or ``Begin
    Triggerblock`` and no event line starting with a timestamp), or one in UTF-16, raises
    :class:`ASCParseError` whatever ``strict`` is; an empty file holds no messages. Lines end
    at ``\\n``, ``\\r\\n`` or a lone ``\\r``. A ``CANFD`` line whose flags field contradicts
    its BRS, ESI and length fields is read from those fields, with one :class:`UserWarning`
    per file naming the first such line.
    A file of ``timestamps relative`` (each event's time counts from the previous event) is
    turned into times from the start of the measurement. The file is closed when the
    iteration ends.

    >>> import can, io
    >>> text = io.StringIO(
    ...     "base hex  timestamps absolute\\n"
    ...     "   1.500000 1  123             Rx   d 2 01 02\\n"
    ...     "   1.750000 CANFD   2 Tx   1ABx  1 0 c 12 00 01 02 03 04 05 06 07 08 09 0A 0B\\n"
    ... )
    >>> for m in can.ASCReader(text):
    ...     print(m.timestamp, hex(m.arbitration_id), m.channel, m.is_fd, m.dlc)
    1.5 0x123 0 False 2
    1.75 0x1ab 1 True 12
    """

    def __init__(
        self,
        file: Union[PathLike, FileLike],
        base: str = "hex",
        relative_timestamp: bool = True,
        *,
        strict: bool = True,
        message_class: type[Message] = Message,
        **kwargs: Any,
    ) -> None:
        if base not in ("hex", "dec"):
            raise ValueError(f'base must be "hex" or "dec", not {base!r}')
        super().__init__(file, mode="rb")
        if self.file is None:
            raise ValueError("ASCReader needs a file to read from, not None")
        #: The number base assumed until the file's ``base`` line.
        self.base = base
        #: Whether timestamps are relative to the start of the measurement.
        self.relative_timestamp = relative_timestamp
        #: Whether a malformed line raises (else it is skipped).
        self.strict = strict
        try:
            self._reader = _core.AscReader(
                self.file,
                message_class,
                _file_name(file, self.file),
                base,
                relative_timestamp,
                strict,
                self.stop,
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


class ASCWriter(FileIOMessageWriter):
    """Logs CAN data to an ASCII log file (.asc) that Vector tools and can-utils read.

    The file starts with the header Vector tools expect (``date``, ``base hex  timestamps
    absolute``, ``internal events logged``, ``// version``, ``Begin Triggerblock``), dated at
    the first message (local time, English names). The measurement starts with the timestamp
    of the first registered message. If a message has a timestamp smaller than the previous
    one or None, it gets assigned the timestamp that was written for the last message. If the
    first message does not have a timestamp, it is set to zero.

    Classic frames are written as ``<time> <ch>  <id>  Rx|Tx  d <dlc> <data>`` lines, remote
    frames with ``r <dlc>``, CAN FD frames as ``CANFD`` lines (with the FDF, BRS and ESI bits
    in their flags field), error frames as ``<ch>  ErrorFrame`` lines. :meth:`stop` writes
    ``End TriggerBlock``.

    :param file: a path-like object or a file-like object to write to. A file-like object may
        be opened in text or binary write mode.
    :param channel: the ASC channel (counted from 1) of messages whose ``channel`` is None or
        has no number; a message's channel ``n`` (or ``"can<n>"``) is written as ``n + 1``.

    >>> import can, io
    >>> out = io.StringIO()
    >>> with can.ASCWriter(out) as writer:
    ...     writer(can.Message(timestamp=10.0, arbitration_id=0x123, is_extended_id=False,
    ...                        data=b"\\x01\\x02"))
    ...     writer.log_event("marker", timestamp=10.5)
    >>> print(out.getvalue().splitlines()[6])
       0.000000 1  123             Rx   d 2 01 02
    """

    def __init__(
        self,
        file: Union[PathLike, FileLike],
        channel: int = 1,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("append", False):
            raise ValueError("ASCWriter cannot append to an existing file")
        super().__init__(file, mode="wb")
        if self.file is None:
            raise ValueError("ASCWriter needs a file to write to, not None")
        #: Default channel (see above).
        self.channel = channel
        try:
            self._writer = _core.AscWriter(
                self.file, _is_text(self.file), channel, lend=self._owns_file
            )
        except BaseException:
            super().stop()
            raise
        self._finalizer = _finalize_writer(self, self._writer)
        self._stopped = False
        if type(self).on_message_received is ASCWriter.on_message_received:
            # The hot path: each message goes straight to the native writer.
            self.on_message_received = self._writer.message_sink()  # type: ignore[method-assign,assignment]

    def on_message_received(self, msg: Message) -> None:
        """Writes one message to the file (buffered)."""
        self._writer.write_message(msg)

    def log_event(self, message: Optional[str], timestamp: Optional[float] = None) -> None:
        """Adds an arbitrary message to the log file.

        :param message: an arbitrary message; empty messages (and None) are not written, line
            breaks become spaces.
        :param timestamp: the absolute timestamp of the event; None (or one before the
            previous event) uses the previous event's time.
        """
        if not message:
            return
        self._writer.log_event(str(message), timestamp)

    def file_size(self) -> int:
        """Bytes in the file so far; the lines still buffered are flushed to it first."""
        self._writer.flush()
        return _disk_size(self.file)

    def stop(self) -> None:
        """Writes ``End TriggerBlock``, flushes, and closes the file (a file-like object
        passed in is flushed and left open). Safe to call twice; writing afterwards raises
        :class:`ValueError`."""
        if self._stopped:
            return
        self._stopped = True
        try:
            _stop_writer(self.file, self._writer, self._finalizer)
        finally:
            super().stop()
