"""BLF (Binary Logging Format), Vector Informatik's compressed binary CAN log format.

The byte work (file header, LOG_CONTAINER zlib codec, object decoding and encoding) is done by
the native module; see ``rust/src/blf/`` for the format and its sources. These classes hold
the Python side: files, messages and the documented attributes.

Channels are converted to integers: BLF stores them counted from 1, messages carry them
counted from 0 (``channel=0`` is BLF channel 1), as python-can does.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from typing import Any, Optional, Union

from can import _core
from can.exceptions import CanError
from can.io.asc import _file_name
from can.io.generic import (
    FileIOMessageWriter,
    FileLike,
    MessageReader,
    PathLike,
    TruncatedLogWarning,
    _finalize_writer,
    _stop_writer,
)
from can.message import Message

__all__ = ["BLFParseError", "BLFReader", "BLFTruncatedWarning", "BLFWriter"]


class BLFParseError(CanError, ValueError):
    """The file is not BLF, or its content is corrupt; the message names the file (the path
    given, or the file object's ``name``) and the byte offset."""


class BLFTruncatedWarning(TruncatedLogWarning):
    """A BLF file ended inside an object: every complete frame before it was read."""


class BLFReader(MessageReader):
    """Iterator of CAN messages from a Binary Logging File.

    CAN and CAN FD frames (object types CAN_MESSAGE, CAN_MESSAGE2, CAN_FD_MESSAGE,
    CAN_FD_MESSAGE_64) and error frames (CAN_ERROR, CAN_ERROR_EXT) are returned as
    :class:`can.Message` objects in file order, with absolute timestamps when the file header
    has a start time. Other object types are skipped; :attr:`skipped` counts them by type.

    :param file: a path-like object or a file-like object to read from. A file-like object
        has to be opened in binary read mode, not text read mode.
    :param message_class: the class of the messages returned, :class:`can.Message` or a
        subclass (whose ``__init__`` is not called, as when unpickling).
    :raises BLFParseError: if the file is not a BLF file; while iterating, if the file is
        corrupt (the message names the file and the byte offset).

    A file that ends inside an object (a logger killed mid-write) yields every complete frame
    and then emits a :class:`BLFTruncatedWarning` naming the file and the byte offset; a file
    whose objects are all whole gives none, even when its header declares a larger file size.
    A LOG_CONTAINER may declare any uncompressed size: what its data really inflates to is
    read (up to 64 MiB per container). The file is closed when the iteration ends.

    >>> import can, io
    >>> out = io.BytesIO()
    >>> with can.BLFWriter(out) as writer:
    ...     writer.on_message_received(can.Message(timestamp=1.5, arbitration_id=0x123,
    ...                                            is_extended_id=False, data=b"hi"))
    >>> reader = can.BLFReader(io.BytesIO(out.getvalue()))
    >>> [(m.timestamp, hex(m.arbitration_id), bytes(m.data)) for m in reader]
    [(1.5, '0x123', b'hi')]
    """

    #: Inflate the next containers on a second thread while the current one's messages are
    #: consumed (if the consumer gets to a container first, it inflates it itself). Measured
    #: on 2 vCPUs: 64-byte FD frames at 1.5x the single-thread rate with the second core free,
    #: still 1.1x with one other busy process; set False where every core is taken.
    THREADED: bool = True

    def __init__(
        self,
        file: Union[PathLike, FileLike],
        message_class: type[Message] = Message,
        **kwargs: Any,
    ) -> None:
        super().__init__(file, mode="rb")
        #: Names the file in error messages and warnings: the path given, else the file
        #: object's ``name`` (empty when it has none).
        self._name = _file_name(file, self.file)
        try:
            self._reader = _core.BlfReader(
                self.file, message_class, self.stop, self.THREADED, self._name
            )
        except BaseException:
            self.stop()
            raise
        header = self._reader.header()
        #: Size of the file in bytes, as its header says.
        self.file_size: int = header["file_size"]
        #: Size of the file with every container uncompressed, as its header says.
        self.uncompressed_size: int = header["uncompressed_size"]
        #: Number of objects, as the header says (all object types, not only frames).
        self.object_count: int = header["object_count"]
        #: Start of the measurement (Unix time, UTC), 0 if the file has none.
        self.start_timestamp: float = header["start_timestamp"]
        #: Time of the last object (Unix time, UTC), 0 if the file has none.
        self.stop_timestamp: float = header["stop_timestamp"]
        #: Id of the application that wrote the file.
        self.application_id: int = header["application_id"]

    def __iter__(self) -> Iterator[Message]:
        return self._reader

    @property
    def skipped(self) -> dict[int, int]:
        """Object types read so far that are neither frames nor markers: ``{type: count}``."""
        return self._reader.skipped

    @property
    def truncation(self) -> Optional[str]:
        """Once the iteration has ended: how the file was truncated, or None."""
        return self._reader.truncation


class BLFWriter(FileIOMessageWriter):
    """Logs CAN messages to a Binary Logging File compatible with Vector's tools.

    Classic frames are written as CAN_MESSAGE objects, CAN FD frames as CAN_FD_MESSAGE_64 and
    error frames as CAN_ERROR_EXT, in zlib-compressed LOG_CONTAINERs of at most
    :attr:`MAX_CACHE_SIZE` uncompressed bytes. The file header (counts, sizes, start and stop
    time) is complete after :meth:`stop`.

    :param file: a path-like object or a file-like object to write to. A file-like object has
        to be opened in binary write mode, not text write mode.
    :param channel: the BLF channel (counted from 1) of messages whose ``channel`` is None or
        has no number; a message's channel ``n`` is stored as BLF channel ``n + 1``.
    :param compression_level: zlib level, 0 (store) to 9 (smallest), -1 for zlib's default
        (6); None uses :attr:`COMPRESSION_LEVEL`.
    :param append: continue an existing BLF file instead of replacing it (python-can 4.x).
    :param max_container_size: uncompressed bytes per container; None uses
        :attr:`MAX_CACHE_SIZE`.
    """

    #: ZLIB compression level
    COMPRESSION_LEVEL: int = 9
    #: Max log container size of uncompressed data
    MAX_CACHE_SIZE: int = 131072
    #: Compress full containers on worker threads (one per core beside this one, up to four)
    #: while messages keep coming; when they are all busy the writing thread compresses the
    #: next container itself. Measured on 2 vCPUs: 1.8x the single-thread rate at level 6.
    THREADED: bool = True

    def __init__(
        self,
        file: Union[PathLike, FileLike],
        channel: int = 1,
        compression_level: Optional[int] = None,
        *,
        append: bool = False,
        max_container_size: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        if compression_level is None:
            compression_level = self.COMPRESSION_LEVEL
        if max_container_size is None:
            max_container_size = self.MAX_CACHE_SIZE
        if append and not hasattr(file, "write"):
            try:
                super().__init__(file, mode="r+b")
            except FileNotFoundError:
                append = False
                super().__init__(file, mode="wb")
        else:
            super().__init__(file, mode="wb")
        #: Default channel (see above).
        self.channel = channel
        #: The zlib compression level in use.
        self.compression_level = compression_level
        #: Uncompressed bytes per container.
        self.max_container_size = max_container_size
        try:
            self._writer = _core.BlfWriter(
                self.file,
                channel,
                compression_level,
                max_container_size,
                self.file if append else None,
                self.THREADED,
                owned=self._owns_file,
            )
        except BaseException:
            super().stop()
            raise
        self._finalizer = _finalize_writer(self, self._writer)
        self._stopped = False
        if type(self).on_message_received is BLFWriter.on_message_received:
            # The hot path: each message goes straight to the native writer.
            self.on_message_received = self._writer.message_sink()  # type: ignore[method-assign,assignment]

    def on_message_received(self, msg: Message) -> None:
        """Writes one message to the file (buffered until a container is full)."""
        self._writer.write_message(msg)

    def log_event(self, text: str, timestamp: Optional[float] = None) -> None:
        """Adds an arbitrary message to the log file as a global marker.

        :param text: the group name of the marker.
        :param timestamp: absolute timestamp in Unix timestamp format. If not given, the
            marker is placed along the last message.
        """
        if timestamp is None:
            last = self._writer.stop_timestamp
            timestamp = last if last is not None else time.time()
        self._writer.write_marker(timestamp, text, "can", "log_event")

    @property
    def object_count(self) -> int:
        """Objects (frames and markers) written so far."""
        return self._writer.object_count

    @property
    def start_timestamp(self) -> Optional[float]:
        """Start of the measurement as stored (the first object's time, in milliseconds)."""
        return self._writer.start_timestamp

    @property
    def stop_timestamp(self) -> Optional[float]:
        """Time of the last object written."""
        return self._writer.stop_timestamp

    @property
    def uncompressed_size(self) -> int:
        """Uncompressed size of the file so far, as the header counts it."""
        return self._writer.uncompressed_size

    def file_size(self) -> int:
        """An estimate of the file's size in bytes: written plus still buffered."""
        return self._writer.size_estimate()

    def stop(self) -> None:
        """Stops logging and closes the file (a file-like object passed in is flushed and
        left open). The header is rewritten with the final counts; on a file that cannot seek
        it keeps its placeholder values and a warning says so. Safe to call twice; writing
        afterwards raises :class:`ValueError`."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if _stop_writer(self.file, self._writer, self._finalizer) is False:
                warnings.warn(
                    "the BLF header could not be completed: the file is not seekable",
                    RuntimeWarning,
                    stacklevel=2,
                )
        finally:
            super().stop()
