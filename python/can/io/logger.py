"""``can.Logger``, the writer chosen by file suffix, and loggers that rotate their files.

The suffix decides the format (manual section 3.4.3), as the registry in
:mod:`can.io.formats` says; ``<suffix>.gz`` writes the same format gzip-compressed.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional, Union

from can.io.formats import MESSAGE_WRITERS, UnknownFormatError, log_format, split_suffix
from can.io.generic import MessageWriter, PathLike
from can.message import Message

__all__ = ["BaseRotatingLogger", "Logger", "SizedRotatingLogger"]

StrPath = Union[str, "os.PathLike[str]"]


class Logger(MessageWriter):
    """Logs CAN messages to a file, in the format its suffix names.

    ``can.Logger(filename, ...)`` returns an instance of the writer class registered for the
    suffix (see :mod:`can.io.formats`); any other positional and keyword arguments are passed
    on to it:

    - ``.asc``: :class:`can.ASCWriter`
    - ``.blf``: :class:`can.BLFWriter`
    - ``.csv``: :class:`can.CSVWriter`
    - ``.db``: :class:`can.SqliteWriter`
    - ``.log``: :class:`can.CanutilsLogWriter`
    - ``.txt``, any other suffix, and ``None``: :class:`can.Printer` (``None`` prints to
      standard output)
    - formats of installed plug-ins (entry-point group ``can.io.message_writer``)

    ``<suffix>.gz`` (``log.asc.gz``) writes that format gzip-compressed. The log files may be
    incomplete until ``stop()`` is called, due to buffering.

    :param file: a path-like object, or None to print to standard output. (A file-like object
        has no suffix to choose a format by: create the writer class itself for one.)
    :param mode: accepted for compatibility (python-can 3.3.2's signature) and ignored: each
        writer opens its file in the mode its format needs.

    >>> import can, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "trace.asc")
    >>> with can.Logger(path) as logger:
    ...     type(logger).__name__
    ...     logger(can.Message(arbitration_id=0x123, is_extended_id=False))
    'ASCWriter'
    """

    def __new__(  # type: ignore[misc]
        cls, file: Optional[PathLike], *args: Any, **kwargs: Any
    ) -> MessageWriter:
        kwargs.pop("mode", None)
        if file is None:
            from can.io.printer import Printer

            return Printer(None, *args, **kwargs)
        if not isinstance(file, (str, bytes, os.PathLike)):
            raise TypeError(
                "can.Logger chooses the format by the file name's suffix, so it needs a path, "
                f"not {type(file).__name__}; for a file object, use the writer class itself "
                "(e.g. can.ASCWriter(file))"
            )
        try:
            writer_cls, _, _ = MESSAGE_WRITERS.find(os.fsdecode(file), kind="write")
        except UnknownFormatError:
            fmt = log_format(split_suffix(os.fsdecode(file))[0])
            if fmt is not None and not fmt.compressible:
                raise  # a known format that cannot be compressed (x.db.gz, x.mf4.gz)
            from can.io.printer import Printer

            writer_cls = Printer
        writer: MessageWriter = writer_cls(file, *args, **kwargs)
        return writer


class BaseRotatingLogger(MessageWriter):
    """Base of the loggers that move on to a new file now and then (python-can 4.x).

    Messages go to :attr:`writer`, a writer for the current file chosen by suffix as
    :class:`Logger` chooses it. Before each message :meth:`should_rollover` is asked; when it
    says so, :meth:`do_rollover` closes the current file, renames it with :meth:`rotate` to the
    name :meth:`rotation_filename` gives, and opens a new file under the base name. Nothing is
    lost or written twice across a rotation.

    :param kwargs: passed to every writer created (e.g. ``channel=`` or ``append=``).

    .. attribute:: namer

        None, or a callable taking the default rotated file name and returning the one to use.

    .. attribute:: rotator

        None, or a callable ``rotator(source, dest)`` that moves the closed file (the default
        renames it).

    .. attribute:: rollover_count

        How many times the logger has moved on to a new file.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(None)
        self.writer_kwargs = kwargs
        self.namer: Optional[Callable[[StrPath], StrPath]] = None
        self.rotator: Optional[Callable[[StrPath, StrPath], None]] = None
        self.rollover_count = 0
        self._writer: Optional[MessageWriter] = None

    @property
    def writer(self) -> MessageWriter:
        """The writer of the current file."""
        if self._writer is None:
            raise ValueError("the rotating logger has been stopped")
        return self._writer

    def _get_new_writer(self, filename: StrPath) -> MessageWriter:
        """A writer for ``filename``, chosen by its suffix (unknown suffixes are an error)."""
        writer_cls, _, _ = MESSAGE_WRITERS.find(os.fspath(filename), kind="write")
        writer: MessageWriter = writer_cls(filename, **self.writer_kwargs)
        return writer

    def rotation_filename(self, default_name: StrPath) -> StrPath:
        """The name a closed file is given: :attr:`namer`'s answer, or ``default_name``."""
        return default_name if self.namer is None else self.namer(default_name)

    def rotate(self, source: StrPath, dest: StrPath) -> None:
        """Moves the closed file ``source`` to ``dest`` (with :attr:`rotator` if set)."""
        if self.rotator is not None:
            self.rotator(source, dest)
        elif os.path.exists(source):
            os.replace(source, dest)

    def should_rollover(self, msg: Message) -> bool:
        """Whether the next message ``msg`` goes to a new file. Subclasses override this."""
        raise NotImplementedError

    def do_rollover(self) -> None:
        """Closes the current file, moves it aside and starts a new one."""
        raise NotImplementedError

    def on_message_received(self, msg: Message) -> None:
        """Writes ``msg``, after moving on to a new file if :meth:`should_rollover` says so."""
        if self.should_rollover(msg):
            self.do_rollover()
            self.rollover_count += 1
        self.writer.on_message_received(msg)

    def on_error(self, exc: Exception) -> None:
        """Passes ``exc`` on to the current writer if it handles errors."""
        on_error = getattr(self._writer, "on_error", None)
        if on_error is None:
            raise NotImplementedError
        on_error(exc)

    def stop(self) -> None:
        """Stops the current writer (flushing and closing its file)."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.stop()


class SizedRotatingLogger(BaseRotatingLogger):
    """Logs to ``base_filename``, moving on to a new file before it would exceed ``max_bytes``.

    The format follows the suffix, as for :class:`Logger` (any registered format except
    :class:`~can.Printer`'s). The file being written is always ``base_filename``; a full one is
    renamed to ``<stem>_<YYYY-MM-DDTHHMMSS>_#<n><suffixes>`` (``n`` counted from ``000``, the
    time the one of the rename), as python-can 4.x names them, and a new ``base_filename`` is
    started.

    A message goes to a new file when the current one already holds at least one message
    and the message's record (estimated by the size of the previous record) would take it
    past ``max_bytes``. For formats that buffer or compress (BLF, ``.gz``) the size is the
    writer's estimate. ``max_bytes=0`` never rotates.

    :param base_filename: the path of the file written.
    :param max_bytes: the size a file should not exceed.
    :param kwargs: passed to every writer created.

    >>> import can, os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with can.SizedRotatingLogger(os.path.join(folder, "run.log"), max_bytes=100) as log:
    ...     for i in range(10):
    ...         log(can.Message(timestamp=i, arbitration_id=i, data=[i] * 8))
    >>> log.rollover_count, len(os.listdir(folder))
    (4, 5)
    >>> all(os.path.getsize(os.path.join(folder, n)) <= 100 for n in os.listdir(folder))
    True
    """

    def __init__(self, base_filename: StrPath, max_bytes: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be 0 (no rotation) or positive, not {max_bytes}")
        self.base_filename = os.path.abspath(base_filename)
        self.max_bytes = max_bytes
        self._writer = self._get_new_writer(self.base_filename)
        self._check_size()
        self._messages = 0
        self._last_record = 0

    def _check_size(self) -> None:
        if not callable(getattr(self._writer, "file_size", None)):
            raise UnknownFormatError(
                f"{self.base_filename}: {type(self._writer).__name__} cannot tell the size of "
                "its file, so the file cannot be rotated by size"
            )

    def _size(self) -> int:
        size: int = self.writer.file_size()  # type: ignore[attr-defined]
        return size

    def should_rollover(self, msg: Message) -> bool:
        """Whether the current file holds messages and ``msg`` would take it past the limit."""
        return (
            self.max_bytes > 0
            and self._messages > 0
            and self._size() + self._last_record > self.max_bytes
        )

    def do_rollover(self) -> None:
        """Closes the current file, renames it with a number and opens a new base file."""
        import datetime
        import pathlib

        self.writer.stop()
        path = pathlib.Path(self.base_filename)
        suffixes = "".join(
            path.suffixes[-2:] if path.suffix.lower() == ".gz" else path.suffixes[-1:]
        )
        stem = path.name[: len(path.name) - len(suffixes)]
        stamp = datetime.datetime.now().strftime("%Y-%m-%dT%H%M%S")
        default = str(path.with_name(f"{stem}_{stamp}_#{self.rollover_count:03}{suffixes}"))
        self.rotate(self.base_filename, self.rotation_filename(default))
        self._writer = self._get_new_writer(self.base_filename)
        self._messages = 0

    def on_message_received(self, msg: Message) -> None:
        """Writes ``msg``, first moving on to a new file if it would not fit."""
        if self.should_rollover(msg):
            self.do_rollover()
            self.rollover_count += 1
        before = self._size()
        self.writer.on_message_received(msg)
        self._messages += 1
        self._last_record = max(self._size() - before, 0)
