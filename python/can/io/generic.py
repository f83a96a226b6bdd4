"""Common base of the log file readers and writers (manual section 3.7.2, "IO Utilities")."""

from __future__ import annotations

import os
import weakref
from types import TracebackType
from typing import IO, Any, Optional, Protocol, Union

__all__ = ["BaseIOHandler", "FileLike", "PathLike"]

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
        else:
            self.file = open(file, mode, **open_kwargs)
            self._owns_file = True

    def __enter__(self) -> BaseIOHandler:
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
