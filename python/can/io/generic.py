"""Common base of the log file readers and writers (manual section 3.7.2, "IO Utilities")."""

from __future__ import annotations

import os
from types import TracebackType
from typing import IO, Any, Optional, Union

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
