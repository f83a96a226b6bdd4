"""Common base of the log file readers and writers (manual section 3.7.2, "IO Utilities")."""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Optional, Protocol, TypeVar, Union

from can.listener import Listener

if TYPE_CHECKING:
    from can.message import Message

__all__ = [
    "BaseIOHandler",
    "FileIOMessageWriter",
    "FileLike",
    "MessageReader",
    "MessageWriter",
    "PathLike",
    "TruncatedLogWarning",
]

_Handler = TypeVar("_Handler", bound="BaseIOHandler")


class TruncatedLogWarning(UserWarning):
    """A log file ends inside a record (a writer killed mid-write, a copy cut short): every
    complete record before the cut was read. The message names the file and where it is cut."""


#: A path to open: a string, bytes or an :class:`os.PathLike`.
PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
#: An open file object.
FileLike = IO[Any]


class BaseIOHandler:
    """A generic file handler for reading and writing; usable as a context manager.

    :param file: a path-like object to open a file, a file-like object to be used as a file,
        or ``None`` to not use a file at all.
    :param mode: the mode to open a path with (see :func:`open`); ignored for file-like
        objects and ``None``.

    .. attribute:: file

        The file-like object that is kept internally, or ``None`` if none was opened.

    A path whose name ends in ``.gz`` is opened through :func:`gzip.open`, so every format can
    be read and written gzip-compressed (``log.asc.gz``); appending adds a gzip member.

    :meth:`stop` (also called when a ``with`` block ends) closes a file this handler opened
    itself; a file-like object passed in is flushed but left open, so that its content (say a
    :class:`io.BytesIO`) can still be read.

    >>> import io
    >>> with BaseIOHandler(io.BytesIO(b"abc")) as handler:
    ...     handler.file.read()
    b'abc'
    """

    file: Optional[FileLike]

    def __init__(
        self, file: Union[PathLike, FileLike, None], mode: str = "rt", **open_kwargs: Any
    ) -> None:
        self._owns_file = False
        if file is None or hasattr(file, "read") or hasattr(file, "write"):
            self.file = file  # type: ignore[assignment]
        elif os.fsdecode(file).lower().endswith(".gz"):
            import gzip

            if "+" in mode:
                raise ValueError(f"{os.fsdecode(file)}: a gzip-compressed file cannot be updated")
            if "b" not in mode and "t" not in mode:
                mode += "t"  # gzip.open's default is binary, open()'s text
            self.file = gzip.open(file, mode, **open_kwargs)  # type: ignore[assignment]
            self._owns_file = True
        else:
            self.file = open(file, mode, **open_kwargs)
            self._owns_file = True

    def __enter__(self: _Handler) -> _Handler:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Closes the file if this handler opened it, else flushes it. Safe to call twice."""
        file = self.file
        if file is None or getattr(file, "closed", False):
            return
        if self._owns_file:
            file.close()
        else:
            flush = getattr(file, "flush", None)
            if callable(flush):
                flush()


class MessageWriter(BaseIOHandler, Listener):
    """Base of the log writers (python-can 4.x): a file handler that is a :class:`Listener`.

    A subclass implements :meth:`on_message_received`; :meth:`stop` flushes and closes.
    """


class FileIOMessageWriter(MessageWriter):
    """A :class:`MessageWriter` that writes to a file (python-can 4.x)."""

    file: FileLike

    def file_size(self) -> int:
        """The size of the file written so far, in bytes (what size-based rotation checks).

        For a gzip-compressed file, the compressed bytes written so far: what the compressor
        still holds (tens of KiB at most) is not counted yet.
        """
        return _disk_size(self.file)


def _disk_size(file: Any) -> int:
    """Bytes written to ``file`` so far; for a :mod:`gzip` file (binary, or text over one) the
    compressed bytes, not the uncompressed position."""
    import gzip

    inner = getattr(file, "buffer", file)
    if isinstance(inner, gzip.GzipFile) and inner.fileobj is not None:
        return int(inner.fileobj.tell())  # type: ignore[union-attr]
    return int(file.tell())


def _stop_at_exit(writer: Any) -> weakref.finalize[..., Any]:
    """Calls ``writer.stop()`` when the interpreter exits (also after an exception or Ctrl-C)
    if nobody did before: for the writers that keep what they were given in Python objects or a
    thread of their own (SQLite, MF4) rather than in a native writer. The hook holds the
    writer, so a writer dropped without ``stop()`` is written at exit; ``stop()`` detaches it.
    """
    return weakref.finalize(writer, writer.stop)


class MessageReader(BaseIOHandler):
    """Base of the log readers (python-can 4.x): a file handler that iterates messages.

    A subclass implements :meth:`__iter__`.
    """

    def __iter__(self) -> Iterator[Message]:
        raise NotImplementedError(f"{type(self).__name__} does not implement __iter__()")


class _NativeWriter(Protocol):
    """What the native writers of ``can._core`` have in common."""

    def close(self) -> object: ...

    def discard(self) -> int: ...


def _close_unstopped(writer: _NativeWriter, file: Optional[FileLike], owned: bool) -> None:
    """The finaliser of a writer never stopped: writes what it buffered (see below)."""
    try:
        _close_native(file, writer)
    finally:
        if owned and file is not None:
            file.close()


def _close_native(file: Optional[FileLike], writer: _NativeWriter) -> object:
    """Closes a native writer: returns what its ``close()`` returned. If the file was closed
    already, nothing more can be written: a :class:`ValueError` says how much buffered data
    that lost, if any."""
    if file is not None and not getattr(file, "closed", False):
        return writer.close()
    lost = writer.discard()
    if lost:
        raise ValueError(
            f"{lost} buffered bytes could not be written: the file was closed before stop()"
        )
    return None


def _finalize_writer(
    handler: BaseIOHandler, writer: _NativeWriter
) -> weakref.finalize[..., BaseIOHandler]:
    """Closes the native `writer` of `handler` when `handler` is garbage-collected or the
    interpreter exits without :meth:`stop` having been called (a ``del``, an exception or
    Ctrl-C ending the script): what it buffered is written to the file, which is flushed,
    and closed if the handler opened it.

    The finaliser holds the native writer and the file, not the handler; it runs before the
    handler's file object is finalised (weak reference callbacks run before finalisers, also
    for objects in reference cycles), so the file is still open. ``stop()`` detaches it.
    """
    return weakref.finalize(handler, _close_unstopped, writer, handler.file, handler._owns_file)


def _stop_writer(
    file: Optional[FileLike], writer: _NativeWriter, finalizer: weakref.finalize[..., Any]
) -> object:
    """Closes the native writer for ``stop()`` (see :func:`_close_native`)."""
    finalizer.detach()
    return _close_native(file, writer)
