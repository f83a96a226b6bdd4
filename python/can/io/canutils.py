"""The can-utils log format, as ``candump -L`` writes it (manual section 3.4.8).

The parsing and formatting is done by the native module; see ``rust/src/candump.rs`` for the
format and its sources. ``log2asc`` and ``asc2log`` of can-utils convert between this format
and ASC.
"""

from __future__ import annotations

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

__all__ = ["CanutilsLogParseError", "CanutilsLogReader", "CanutilsLogWriter"]


class CanutilsLogParseError(CanError, ValueError):
    """A line of a candump log cannot be read; the message names the file and the line."""


class CanutilsLogReader(MessageReader):
    """Iterator over CAN messages from a .log Logging File (candump -L).

    .. note::
        .log-format looks for example like this:

        ``(0.0) vcan0 001#8d00100100820100``

    Every line is one frame: ``(seconds) interface ID#DATA``, with 3-digit standard or 8-digit
    extended ids, remote frames ``ID#R`` or ``ID#R<len>``, CAN FD frames ``ID##<flags><DATA>``
    (the flags digit: BRS = 1, ESI = 2, FDF = 4), error frames with ``CAN_ERR_FLAG``
    (0x20000000) in the id, and the optional direction ``R`` (received) or ``T`` (sent) at the
    end. An error frame keeps its error class (the id without the flag) as
    ``arbitration_id`` and its data. The interface name is kept as the message's ``channel``
    (a name of digits only becomes an int).

    :param file: a path-like object or a file-like object to read from. A file-like object may
        be opened in text or binary read mode.
    :param strict: True (the default): a malformed line raises :class:`CanutilsLogParseError`
        naming the file and the line. False: it is skipped and counted in
        :attr:`skipped_lines`, and a warning at the end of the file says how many were.
    :param message_class: the class of the messages returned, :class:`can.Message` or a
        subclass (whose ``__init__`` is not called, as when unpickling).

    Lines longer than 1 MiB are malformed lines: they are never held in memory whole. The file
    is closed when the iteration ends.

    >>> import can, io
    >>> log = io.StringIO("(0.0) vcan0 001#8d00100100820100\\n(0.5) vcan1 123##5AABB T\\n")
    >>> for m in can.CanutilsLogReader(log):
    ...     print(m.timestamp, m.channel, hex(m.arbitration_id), m.data.hex(), m.is_fd, m.is_rx)
    0.0 vcan0 0x1 8d00100100820100 False True
    0.5 vcan1 0x123 aabb True False
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
            raise ValueError("CanutilsLogReader needs a file to read from, not None")
        #: Whether a malformed line raises (else it is skipped).
        self.strict = strict
        try:
            self._reader = _core.CanutilsLogReader(
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


class CanutilsLogWriter(FileIOMessageWriter):
    """Logs CAN data to an ASCII log file (.log). This class is compatible with "candump -L".

    If a message has a timestamp smaller than the previous one (or 0 or None), it gets
    assigned the timestamp that was written for the last message. If the first message does
    not have a timestamp, it is set to zero.

    A message's ``channel`` is the interface name; an int (or a string of digits) ``n`` is
    written as ``can<n>``. Received messages end in ``R``, sent ones in ``T``. CAN FD frames
    get the flags digit ``4`` (FDF) plus BRS (1) and ESI (2), as ``candump`` writes them; an
    error frame keeps its error class and data (one without a class is written as a bus error,
    0x20000080, as can-utils' ``asc2log`` does).

    :param file: a path-like object or a file-like object to write to. A file-like object may
        be opened in text or binary write mode.
    :param channel: a default channel to use when the message does not have a channel set.
    :param append: if set to True messages are appended to the file, else the file is
        truncated.

    >>> import can, io
    >>> out = io.StringIO()
    >>> with can.CanutilsLogWriter(out) as writer:
    ...     writer(can.Message(timestamp=1.5, arbitration_id=0x123, is_extended_id=False,
    ...                        data=b"\\x01\\x02"))
    >>> out.getvalue()
    '(1.500000) vcan0 123#0102 R\\n'
    """

    def __init__(
        self,
        file: Union[PathLike, FileLike],
        channel: str = "vcan0",
        append: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(file, mode="ab" if append else "wb")
        if self.file is None:
            raise ValueError("CanutilsLogWriter needs a file to write to, not None")
        #: Default channel (see above).
        self.channel = channel
        try:
            default = str(channel)
            if default.isdigit():
                default = f"can{default}"
            self._writer = _core.CanutilsLogWriter(
                self.file, _is_text(self.file), default, lend=self._owns_file
            )
        except BaseException:
            super().stop()
            raise
        self._finalizer = _finalize_writer(self, self._writer)
        self._stopped = False
        if type(self).on_message_received is CanutilsLogWriter.on_message_received:
            # The hot path: each message goes straight to the native writer.
            self.on_message_received = self._writer.message_sink()  # type: ignore[method-assign,assignment]

    def on_message_received(self, msg: Message) -> None:
        """Writes one message to the file (buffered)."""
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
