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
"""

from __future__ import annotations

import binascii
import os
import threading
import warnings
from collections.abc import Iterator
from typing import Any, Union

from can.exceptions import CanError
from can.io.generic import (
    FileIOMessageWriter,
    FileLike,
    MessageReader,
    PathLike,
    TruncatedLogWarning,
)
from can.message import Message

__all__ = ["CSVParseError", "CSVReader", "CSVWriter"]

_b64 = binascii.b2a_base64
_EXT_ID = "0x%08x"
_STD_ID = "0x%03x"

#: The header line (without its line break).
HEADER = "timestamp,arbitration_id,extended,remote,error,dlc,data"


class CSVParseError(CanError, ValueError):
    """A line of a CSV log cannot be read; the message names the file and the line."""


def _name(given: Any, file: Any) -> str:
    if isinstance(given, (str, bytes, os.PathLike)):
        return os.fsdecode(given)
    name = getattr(file, "name", None)
    return name if isinstance(name, str) else "<file>"


class CSVWriter(FileIOMessageWriter):
    """Writes a comma separated text file with a line for each message, after a header line.

    :param file: a path-like object or a file-like object to write to. A file-like object has
        to be opened in text write mode, not binary write mode.
    :param append: True: messages are appended to the file and no header line is written;
        False (the default): the file is truncated and starts with the header line.

    Each line ends with the platform's line separator (a path is opened in text mode).
    Extended ids are written with 8 hex digits, standard ids with 3 (``0x00dadada``,
    ``0x123``); timestamps with as many digits as it takes to read back the same float.

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
        super().__init__(file, mode="a" if append else "w")
        if self.file is None:
            raise ValueError("CSVWriter needs a file to write to, not None")
        if not append:
            self.file.write(HEADER + "\n")
        # Python's text files are not safe to write from several threads at once
        self._lock = threading.Lock()

    def on_message_received(self, msg: Message) -> None:
        """Writes one line for ``msg``."""
        file = self.file
        if file.closed:
            raise ValueError(f"{_name(None, file)}: the CSV writer's file is closed")
        ext = msg.is_extended_id
        line = (
            f"{msg.timestamp!r},{(_EXT_ID if ext else _STD_ID) % msg.arbitration_id},"
            f"{'1' if ext else '0'},{'1' if msg.is_remote_frame else '0'},"
            f"{'1' if msg.is_error_frame else '0'},{msg.dlc},"
            f"{_b64(msg.data or b'', newline=False).decode('ascii')}\n"
        )
        lock = self._lock
        lock.acquire()
        try:
            file.write(line)
        finally:
            lock.release()


class CSVReader(MessageReader):
    """Iterator over the messages of a CSV file that :class:`CSVWriter` wrote, or that uses the
    same columns. The first line is the header and is skipped; any line separator is accepted;
    empty lines are skipped.

    :param file: a path-like object or a file-like object to read from. A file-like object has
        to be opened in text read mode, not binary read mode.
    :param strict: True (the default): a malformed line raises :class:`CSVParseError` naming
        the file and the line. False: it is skipped and counted in :attr:`skipped_lines`.

    A last line without its line break that does not read (a file cut while it was written)
    is left out with a :class:`can.io.TruncatedLogWarning`, in either mode.

    >>> import can, io
    >>> text = io.StringIO("timestamp,arbitration_id,extended,remote,error,dlc,data\\n"
    ...                    "1483389946.197,0x00dadada,1,0,0,7,WzQyLCA5XQ==\\n")
    >>> [(m.timestamp, hex(m.arbitration_id), m.is_extended_id, bytes(m.data))
    ...  for m in can.CSVReader(text)]
    [(1483389946.197, '0xdadada', True, b'[42, 9]')]
    """

    def __init__(
        self, file: Union[PathLike, FileLike], *, strict: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(file, mode="r", newline=None)
        if self.file is None:
            raise ValueError("CSVReader needs a file to read from, not None")
        self._name = _name(file, self.file)
        #: Whether a malformed line raises (else it is skipped).
        self.strict = strict
        #: Malformed lines skipped so far (only with ``strict=False``).
        self.skipped_lines = 0

    def _parse(self, line: str, line_no: int) -> Message:
        fields = line.split(",")
        if len(fields) != 7:
            raise CSVParseError(
                f"{self._name}, line {line_no}: expected 7 comma separated fields "
                f"(timestamp,arbitration_id,extended,remote,error,dlc,data), got {len(fields)}: "
                f"{line[:80]!r}"
            )
        ts, can_id, ext, rtr, err, dlc, data = fields
        try:
            flags = [_flag(ext, "extended"), _flag(rtr, "remote"), _flag(err, "error")]
            return Message(
                timestamp=float(ts),
                arbitration_id=int(can_id, 16),
                is_extended_id=flags[0],
                is_remote_frame=flags[1],
                is_error_frame=flags[2],
                dlc=int(dlc),
                data=binascii.a2b_base64(data.strip()),
            )
        except (ValueError, TypeError, binascii.Error) as e:
            raise CSVParseError(f"{self._name}, line {line_no}: {e}: {line[:80]!r}") from None

    def __iter__(self) -> Iterator[Message]:
        file = self.file
        assert file is not None
        try:
            for line_no, line in enumerate(file, 1):
                if line_no == 1:
                    continue
                cut = not line.endswith(("\n", "\r"))
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                try:
                    msg = self._parse(line, line_no)
                except CSVParseError as e:
                    if cut:
                        # the last line, without its line break: the file was cut there
                        warnings.warn(
                            f"{self._name}: the file ends inside line {line_no}, which is "
                            f"left out ({e})",
                            TruncatedLogWarning,
                            stacklevel=2,
                        )
                        return
                    if self.strict:
                        raise
                    self.skipped_lines += 1
                    continue
                yield msg
        finally:
            self.stop()


def _flag(text: str, name: str) -> bool:
    text = text.strip()
    if text == "1":
        return True
    if text == "0":
        return False
    raise ValueError(f"the {name} column must be 0 or 1, not {text!r}")
