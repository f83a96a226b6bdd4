"""The Printer listener: every message as one line of text (manual section 3.4.4)."""

from __future__ import annotations

import sys
import threading
from typing import Any, Union

from can import _core
from can.io.generic import FileLike, MessageWriter, PathLike
from can.message import Message

__all__ = ["Printer"]


class Printer(MessageWriter):
    """Prints every message it receives, one ``str(msg)`` line each, to standard output or a file.

    An error frame's line ends with what the error was, as SocketCAN's error classes and
    detail bytes (``linux/can/error.h``) say it:
    ``...    Error: controller problem (RX error passive)``.

    :param file: None (the default) prints to :data:`sys.stdout` (the stream current at each
        message, so redirecting stdout works); a path-like object opens that file, a file-like
        object is written to as is (opened in text write mode, not binary).
    :param append: with a path: add to the end of the file instead of replacing it.

    .. attribute:: write_to_file

        True iff this instance prints to a file instead of standard output.

    >>> import can
    >>> printer = can.Printer()
    >>> printer(can.Message(timestamp=1.5, arbitration_id=0x123, data=[1, 2],
    ...                     is_extended_id=False))
    Timestamp:        1.500000        ID: 0123    S                DLC:  2    01 02
    >>> error = can.Message(timestamp=2.0, is_error_frame=True, arbitration_id=0x4,
    ...                     data=[0, 0x10, 0, 0, 0, 0, 0, 0])
    >>> can.Printer.line(error).split("    ")[-1]
    'Error: controller problem (RX error passive)'
    """

    def __init__(
        self,
        file: Union[PathLike, FileLike, None] = None,
        append: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(file, mode="at" if append else "wt")
        self.write_to_file: bool = self.file is not None
        # Python's text files are not safe to write from several threads at once
        self._lock = threading.Lock()

    @staticmethod
    def line(msg: Message) -> str:
        """The line printed for ``msg`` (without the line break)."""
        text = str(msg)
        if msg.is_error_frame:
            what = _core.describe_error_frame(msg.arbitration_id, bytes(msg.data))
            if what:
                text = f"{text}    Error: {what}"
        return text

    def on_message_received(self, msg: Message) -> None:
        """Prints ``msg`` as one line."""
        out = sys.stdout if self.file is None else self.file
        line = self.line(msg) + "\n"
        with self._lock:
            out.write(line)

    def file_size(self) -> int:
        """Characters written to the file so far (0 when printing to standard output)."""
        return 0 if self.file is None else int(self.file.tell())
