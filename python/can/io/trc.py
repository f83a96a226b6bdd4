"""PEAK-System trace files (``.trc``), as PCAN-View, PCAN-Explorer and PEAK-Converter write them.

The parsing and formatting is done by the native module; see ``rust/src/trc/`` for the format
(PEAK's "PEAK CAN TRC File Format" document) and its sources. Files of versions 1.0 to 2.1 are
read; 2.1 (the default) and 1.1 are written.

Channels are python-can 4.x's: a message's ``channel`` is the file's bus number (1 for files
without a bus column).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Optional, Union

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

__all__ = ["TRCFileVersion", "TRCParseError", "TRCReader", "TRCWriter"]


class TRCParseError(CanError, ValueError):
    """A line of a TRC file cannot be read; the message names the file and the line."""


class TRCFileVersion(Enum):
    """The versions of the TRC format (python-can 4.x's names and values: 100 * major + minor).

    Members compare by version: ``TRCFileVersion.V2_1 >= TRCFileVersion.V2_0``.
    """

    UNKNOWN = 0
    V1_0 = 100
    V1_1 = 101
    V1_2 = 102
    V1_3 = 103
    V2_0 = 200
    V2_1 = 201

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, TRCFileVersion):
            return NotImplemented
        return int(self.value) >= int(other.value)

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, TRCFileVersion):
            return NotImplemented
        return int(self.value) > int(other.value)

    def __le__(self, other: object) -> bool:
        if not isinstance(other, TRCFileVersion):
            return NotImplemented
        return int(self.value) <= int(other.value)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, TRCFileVersion):
            return NotImplemented
        return int(self.value) < int(other.value)


class TRCReader(MessageReader):
    """Iterator of CAN messages from a PEAK TRC file (versions 1.0, 1.1, 1.2, 1.3, 2.0, 2.1).

    Data, remote, CAN FD (``FD``, ``FB``, ``FE``, ``BI``) and error records become
    :class:`can.Message` objects in file order. Records that are not frames (1.x ``Warng``
    records, 2.x ``ST`` status, ``EC`` error counter and ``EV`` event records) are skipped and
    counted in :attr:`skipped_records`. An error record becomes an error frame whose data are
    PEAK's five error bytes: error type, direction, position, rx and tx error counter.

    Timestamps are Unix times: the start of the recording (``$STARTTIME``, else the ``Start
    time:`` comment in European, US or ISO layout) plus the record's offset. PEAK tools write
    the PC's wall clock; it is read as UTC, as python-can 4.x reads it. A file without either
    gives seconds from the start of the recording.

    :param file: a path-like object or a file-like object to read from. A file-like object may
        be opened in text or binary read mode.
    :param strict: True (the default): a malformed line raises :class:`TRCParseError`
        naming the file and the line. False: it is skipped and counted in
        :attr:`skipped_lines`, and a warning at the end of the file says how many were.
    :param message_class: the class of the messages returned, :class:`can.Message` or a
        subclass (whose ``__init__`` is not called, as when unpickling).

    The header is read when the reader is made (:attr:`file_version`, :attr:`start_time` and
    :attr:`columns` are known at once). Lines longer than 1 MiB are malformed lines: they are
    never held in memory whole. The file is closed when the iteration ends.

    >>> import can, io
    >>> text = io.StringIO(
    ...     ";$FILEVERSION=2.1\\n"
    ...     ";$STARTTIME=45000.5\\n"
    ...     ";$COLUMNS=N,O,T,B,I,d,R,L,D\\n"
    ...     "      1         1.500 DT 1      0123 Rx -  2    01 02\\n"
    ...     "      2         2.000 FB 2  1ABCDEF0 Tx -  9    00 01 02 03 04 05 06 07 08 09 0A 0B\\n"
    ... )
    >>> reader = can.TRCReader(text)
    >>> reader.file_version, reader.start_time.isoformat()
    (<TRCFileVersion.V2_1: 201>, '2023-03-15T12:00:00+00:00')
    >>> for m in reader:
    ...     print(m.timestamp, hex(m.arbitration_id), m.channel, m.is_fd, m.dlc, m.is_rx)
    1678881600.0015 0x123 1 False 2 True
    1678881600.002 0x1abcdef0 2 True 12 False
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
            raise ValueError("TRCReader needs a file to read from, not None")
        #: Whether a malformed line raises (else it is skipped).
        self.strict = strict
        try:
            self._reader = _core.TrcReader(
                self.file, message_class, _file_name(file, self.file), strict, self.stop
            )
        except BaseException:
            self.stop()
            raise
        #: The file's version (1.0 if it does not say).
        self.file_version = TRCFileVersion(self._reader.file_version)
        #: The columns of the records: letter (``$COLUMNS``) -> position.
        self.columns = {c: i for i, c in enumerate(self._reader.columns)}

    def __iter__(self) -> Iterator[Message]:
        return self._reader

    @property
    def start_time(self) -> Optional[datetime]:
        """The start of the recording (UTC), or None if the file does not give it."""
        t = self._reader.start_time
        return None if t is None else datetime.fromtimestamp(t, timezone.utc)

    @property
    def skipped_lines(self) -> int:
        """Malformed lines skipped so far (only with ``strict=False``)."""
        return self._reader.skipped_lines

    @property
    def skipped_records(self) -> int:
        """Records skipped so far because they are not frames (warnings, status, events)."""
        return self._reader.skipped_records


class TRCWriter(FileIOMessageWriter):
    """Logs CAN messages to a PEAK TRC file, version 2.1 (the default) or 1.1.

    The file starts with the header PCAN-View writes (``$FILEVERSION``, ``$STARTTIME``,
    ``$COLUMNS``, the start time and column legend comments); the recording starts at the
    first message's timestamp, and every record's time is its offset from it in milliseconds
    (three decimals in 2.1, one in 1.1). Record numbers count from 1; lines end in CR LF.

    Version 2.1 writes data (``DT``), remote (``RR``), CAN FD (``FD``, ``FB``, ``FE``, ``BI``
    by bit rate switch and error state indicator) and error (``ER``) records with the bus and
    direction. Version 1.1 has no bus or CAN FD: CAN FD messages are not written (a warning
    says so at the first; :attr:`skipped_messages` counts them). An error frame's five data
    bytes are written as PEAK's error record (a message read from a TRC file keeps them); other
    error frames are written as "other error" (type 8).

    :param file: a path-like object or a file-like object to write to. A file-like object may
        be opened in text or binary write mode.
    :param channel: the bus of messages whose ``channel`` is None or has no number; a message's
        channel ``n`` (or ``"can<n>"``, ``"PCAN_USBBUS<n>"``) is written as bus ``n``.
    :param file_version: :attr:`TRCFileVersion.V2_1` or :attr:`TRCFileVersion.V1_1`; it may
        also be set as the :attr:`file_version` attribute before the first message, as in
        python-can 4.x.

    >>> import can, io
    >>> out = io.StringIO()
    >>> with can.TRCWriter(out) as writer:
    ...     writer(can.Message(timestamp=1678881600.0015, arbitration_id=0x123,
    ...                        is_extended_id=False, data=b"\\x01\\x02", channel=1))
    ...     writer(can.Message(timestamp=1678881600.002, arbitration_id=0x1ABCDEF0,
    ...                        is_fd=True, bitrate_switch=True, data=bytes(12), channel=2))
    >>> print(out.getvalue().splitlines()[-2])
          1         0.000 DT 1      0123 Rx -  2    01 02
    >>> print(out.getvalue().splitlines()[-1])
          2         0.500 FB 2  1ABCDEF0 Rx -  9    00 00 00 00 00 00 00 00 00 00 00 00
    """

    def __init__(
        self,
        file: Union[PathLike, FileLike],
        channel: int = 1,
        *,
        file_version: TRCFileVersion = TRCFileVersion.V2_1,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("append", False):
            raise ValueError("TRCWriter cannot append to an existing file (one header per file)")
        version = TRCFileVersion(file_version)
        super().__init__(file, mode="wb")
        if self.file is None:
            raise ValueError("TRCWriter needs a file to write to, not None")
        #: Default bus (see above).
        self.channel = channel
        try:
            self._writer = _core.TrcWriter(
                self.file, _is_text(self.file), int(channel), version.value, lend=self._owns_file
            )
        except BaseException:
            super().stop()
            raise
        self._finalizer = _finalize_writer(self, self._writer)
        self._stopped = False
        if type(self).on_message_received is TRCWriter.on_message_received:
            # The hot path: each message goes straight to the native writer.
            self.on_message_received = self._writer.message_sink()  # type: ignore[method-assign,assignment]

    @property
    def file_version(self) -> TRCFileVersion:
        """The version written; may be changed (to 2.1 or 1.1) until the first message."""
        return TRCFileVersion(self._writer.version)

    @file_version.setter
    def file_version(self, version: TRCFileVersion) -> None:
        self._writer.set_version(TRCFileVersion(version).value)

    @property
    def header_written(self) -> bool:
        """Whether the header (written with the first message) is written."""
        return self._writer.header_written

    @property
    def skipped_messages(self) -> int:
        """Messages not written because the version cannot hold them (CAN FD in 1.1)."""
        return self._writer.skipped_messages

    def on_message_received(self, msg: Message) -> None:
        """Writes one message to the file (buffered)."""
        self._writer.write_message(msg)

    def file_size(self) -> int:
        """Bytes in the file so far; the lines still buffered are flushed to it first."""
        self._writer.flush()
        return _disk_size(self.file)

    def stop(self) -> None:
        """Flushes and closes the file (a file-like object passed in is flushed and left
        open); a file without messages gets the header, starting now. Safe to call twice;
        writing afterwards raises :class:`ValueError`."""
        if self._stopped:
            return
        self._stopped = True
        try:
            _stop_writer(self.file, self._writer, self._finalizer)
        finally:
            super().stop()
