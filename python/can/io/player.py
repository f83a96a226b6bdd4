"""``can.LogReader``, the reader chosen by file suffix, and ``MessageSync``, which hands out
messages with their recorded timing (what ``can-player`` replays with)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

from can.io.formats import MESSAGE_READERS
from can.io.generic import MessageReader, PathLike
from can.message import Message

__all__ = ["LogReader", "MessageSync"]


class LogReader(MessageReader):
    """Reads the messages of a log file, in the format its suffix names.

    ``can.LogReader(filename, ...)`` returns an instance of the reader class registered for the
    suffix (see :mod:`can.io.formats`), given any other arguments:

    - ``.asc``: :class:`can.ASCReader`
    - ``.blf``: :class:`can.BLFReader`
    - ``.csv``: :class:`can.CSVReader`
    - ``.db``: :class:`can.SqliteReader`
    - ``.log``: :class:`can.CanutilsLogReader`
    - formats of installed plug-ins (entry-point group ``can.io.message_reader``)

    ``<suffix>.gz`` reads that format gzip-compressed.

    :param filename: the path of the log file.
    :raises can.io.formats.UnknownFormatError: (a :class:`ValueError`) for a suffix no reader
        is registered for, naming the file and the suffixes known.

    >>> import can, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "trace.log.gz")
    >>> with can.Logger(path) as logger:
    ...     logger(can.Message(timestamp=1.0, arbitration_id=0x123, is_extended_id=False))
    >>> [(m.timestamp, hex(m.arbitration_id)) for m in can.LogReader(path)]
    [(1.0, '0x123')]
    """

    def __new__(  # type: ignore[misc]
        cls, filename: PathLike, *args: Any, **kwargs: Any
    ) -> MessageReader:
        if not isinstance(filename, (str, bytes, os.PathLike)):
            raise TypeError(
                "can.LogReader chooses the format by the file name's suffix, so it needs a "
                f"path, not {type(filename).__name__}; for a file object, use the reader class "
                "itself (e.g. can.ASCReader(file))"
            )
        reader_cls, _, _ = MESSAGE_READERS.find(os.fsdecode(filename), kind="read")
        reader: MessageReader = reader_cls(filename, *args, **kwargs)
        return reader


class MessageSync:
    """Hands out the messages of ``messages`` in real time, as they were recorded.

    :param messages: the messages, in time order (e.g. a :class:`LogReader`).
    :param timestamps: True: each message is handed out when as much time has passed since the
        first one as its timestamp says. False: ``gap`` seconds after the previous one.
    :param gap: seconds between messages when ``timestamps`` is False.
    :param skip: the longest wait between two messages, in seconds: a longer pause in the
        recording is shortened to this, and the rest of the replay moves up by the difference
        (0 or less: never shortened).
    :param rate: replay speed (an addition to python-can's arguments): 2.0 replays twice as
        fast, 0.5 at half speed. Pauses are shortened to ``skip`` after scaling.

    A message with a timestamp earlier than the previous one is handed out at once. The
    clock is :func:`time.perf_counter`; the deadlines are absolute (counted from the start), so
    the timing does not drift, and the last millisecond before each is polled rather than
    slept, so an operating system that oversleeps does not make a message late.

    >>> import can, time
    >>> msgs = [can.Message(timestamp=t) for t in (100.0, 100.1, 100.2, 200.0)]
    >>> start = time.perf_counter()
    >>> sent = [round(time.perf_counter() - start, 1) for m in can.MessageSync(msgs, skip=0.1)]
    >>> sent
    [0.0, 0.1, 0.2, 0.3]
    """

    def __init__(
        self,
        messages: Iterable[Message],
        timestamps: bool = True,
        gap: float = 0.0001,
        skip: float = 60.0,
        *,
        rate: float = 1.0,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be a positive number, not {rate!r}")
        self.raw_messages = messages
        self.timestamps = timestamps
        self.gap = gap
        self.skip = skip
        self.rate = rate

    def __iter__(self) -> Iterator[Message]:
        clock = time.perf_counter
        started = clock()
        first_ts = None
        shift = 0.0  # seconds cut from long pauses so far
        due = started
        for msg in self.raw_messages:
            if self.timestamps:
                if first_ts is None:
                    # the clock starts with the first message, not with opening its source
                    first_ts = msg.timestamp
                    started = clock()
                due = started + (msg.timestamp - first_ts) / self.rate - shift
            else:
                due += self.gap
            wait = due - clock()
            if self.skip > 0 and wait > self.skip:
                shift += wait - self.skip
                due -= wait - self.skip
                wait = self.skip
            if wait > 0.002:
                time.sleep(wait - 0.001)  # the OS may oversleep: the last millisecond is polled
            while clock() < due:
                time.sleep(0)
            yield msg
