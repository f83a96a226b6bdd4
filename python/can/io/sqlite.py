"""SQLite databases of messages (manual section 3.4.6): written through Python's :mod:`sqlite3`,
read natively (``can._core``, with the SQLite library built into it).

The messages are rows of one table (``messages`` by default), created if it does not exist:

==============  =========  ===========================================================
column          type       content
==============  =========  ===========================================================
ts              REAL       the timestamp of the message
arbitration_id  INTEGER    the arbitration id, might use the extended format
extended        INTEGER    1 if the arbitration id uses the extended format, else 0
remote          INTEGER    1 if the message is a remote frame, else 0
error           INTEGER    1 if the message is an error frame, else 0
dlc             INTEGER    the data length code (DLC)
data            BLOB       the content of the message
==============  =========  ===========================================================

As in CSV, the channel, the direction and the CAN FD flags are not stored.
"""

from __future__ import annotations

import os
import queue
import re
import sqlite3
import threading
import time
from collections.abc import Generator, Iterator
from typing import Any, Optional, Union

from can import _core
from can.exceptions import CanError
from can.io.generic import MessageReader, MessageWriter, _stop_at_exit
from can.listener import _STOPPED, BufferedReader, ReaderStoppedError
from can.message import Message

__all__ = ["SqliteParseError", "SqliteReader", "SqliteWriter"]

StrPath = Union[str, "os.PathLike[str]"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_COLUMNS = "ts, arbitration_id, extended, remote, error, dlc, data"


class SqliteParseError(CanError, ValueError):
    """The database has no such table, or a row that is not a message."""


def _table(name: str) -> str:
    """``name`` quoted as an SQL identifier, after checking it is one (nothing given as a table
    name runs as SQL)."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(
            f"table_name must be an SQL identifier (letters, digits and _, not starting with a "
            f"digit), not {name!r}"
        )
    return f'"{name}"'


def _path(file: Any, cls: str) -> str:
    if not isinstance(file, (str, os.PathLike)):
        raise TypeError(
            f"{cls} needs the path of a database file (str or os.PathLike), not "
            f"{type(file).__name__}: SQLite cannot use a file-like object"
        )
    return os.fspath(file)


class SqliteReader(MessageReader):
    """Reads the messages recorded in a table of an SQLite database, in row order.

    Iterate over it, or fetch every message with :meth:`read_all`; ``len()`` counts the rows
    (not in constant time). It does not accept file-like objects.

    The rows are read natively, in batches, with the SQLite library built into ``can._core``
    (not Python's :mod:`sqlite3`), and no lock is held on the database between batches: a
    writer still filling the table can go on committing while a reader is part-way through
    it, and the reader goes on to the rows committed since, up to the end of the table as it
    finds it there.

    :param file: the path of the database file.
    :param table_name: the table holding the messages.
    :raises SqliteParseError: naming the file and table, if the database has no such table, is
        no SQLite database, or the table lacks a column of the schema above; while iterating,
        naming the row (counted from 1) whose values are not of the types above (the rows
        before it are read).
    :raises OSError: naming the file, if SQLite cannot read it (or a writer holds its lock for
        more than five seconds).

    .. attribute:: table_name

        The name of the table read.

    >>> import can, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "log.db")
    >>> with can.SqliteWriter(path) as writer:
    ...     writer(can.Message(timestamp=1.0, arbitration_id=0x123, data=[1, 2]))
    >>> with can.SqliteReader(path) as reader:
    ...     print(len(reader), [(m.timestamp, hex(m.arbitration_id)) for m in reader])
    1 [(1.0, '0x123')]
    """

    def __init__(self, file: StrPath, table_name: str = "messages", **kwargs: Any) -> None:
        _table(table_name)
        self._file = _path(file, "SqliteReader")
        super().__init__(None)
        self.table_name = table_name
        if not os.path.exists(self._file):
            raise FileNotFoundError(2, "No such file or directory", self._file)
        self._db = _core.SqliteDatabase(self._file, self._file, table_name)

    def __iter__(self) -> Iterator[Message]:
        rows: Iterator[Message] = self._db.rows(Message)
        return rows

    def __len__(self) -> int:
        return len(self._db)

    def read_all(self) -> Generator[Message, None, None]:
        """Fetches all messages in the database."""
        yield from list(self)

    def stop(self) -> None:
        """Closes the connection to the database."""
        self._db.close()


class SqliteWriter(MessageWriter, BufferedReader):
    """Logs received messages to a table of an SQLite database, written on a background thread.

    The database (and the table) is created if it does not exist; rows are appended to an
    existing table. Messages are queued by :meth:`on_message_received` and inserted by a
    thread of the writer's own, in one transaction per batch: a batch is written when no
    message came for :attr:`GET_MESSAGE_TIMEOUT` seconds, when :attr:`MAX_BUFFER_SIZE_BEFORE_WRITES`
    messages are waiting, or :attr:`MAX_TIME_BETWEEN_WRITES` seconds after the last write on a
    saturated bus. :meth:`stop` returns only once every message given before it is committed,
    so it may take a while; a writer never stopped is stopped when the interpreter exits (after
    an exception or Ctrl-C too). It does not accept file-like objects.

    :param file: the path of the database file.
    :param table_name: the table to store messages in (an SQL identifier; anything else is a
        :class:`ValueError`).

    .. attribute:: table_name

        The name of the table written.

    .. attribute:: num_frames

        The number of frames committed to the database so far (not those still queued).

    .. attribute:: last_write

        When the writer last committed (or found nothing to commit), as :func:`time.time`
        gives it.

    Rows are inserted in batches of at most :attr:`MAX_BUFFER_SIZE_BEFORE_WRITES` and committed
    (one disk sync) when the writer has caught up with the queue, so a flood of messages costs
    one sync, not one per batch.
    """

    #: Seconds to wait for messages from the internal queue before writing what is buffered.
    GET_MESSAGE_TIMEOUT: float = 0.25
    #: Messages buffered at most before they are written.
    MAX_BUFFER_SIZE_BEFORE_WRITES: int = 500
    #: Seconds at most between writes on a saturated bus.
    MAX_TIME_BETWEEN_WRITES: float = 5.0

    def __init__(self, file: StrPath, table_name: str = "messages", **kwargs: Any) -> None:
        self._quoted = _table(table_name)
        self._file = _path(file, "SqliteWriter")
        MessageWriter.__init__(self, None)
        BufferedReader.__init__(self)
        self.table_name = table_name
        self.num_frames = 0
        self._uncommitted = 0
        self.last_write = time.time()
        self._lock = threading.Lock()
        self._error: Optional[BaseException] = None
        # The connection is made here so that a bad path fails at once; the thread uses it.
        self._conn = sqlite3.connect(self._file, check_same_thread=False)
        try:
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self._quoted} (ts REAL, arbitration_id INTEGER, "
                "extended INTEGER, remote INTEGER, error INTEGER, dlc INTEGER, data BLOB)"
            )
            self._conn.commit()
        except sqlite3.DatabaseError as e:
            self._conn.close()
            raise SqliteParseError(f"{self._file}: cannot create table {table_name!r}: {e}") from e
        self._thread = threading.Thread(
            target=self._run, name=f"SqliteWriter({self._file})", daemon=True
        )
        self._thread.start()
        self._exit_hook = _stop_at_exit(self)

    def on_message_received(self, msg: Message) -> None:
        """Queues ``msg`` for the database.

        :raises BufferError: after :meth:`stop` (see :class:`can.listener.ReaderStoppedError`).
        """
        with self._lock:
            if self.is_stopped:
                raise ReaderStoppedError(
                    f"{self._file}: the SqliteWriter has been stopped; it accepts no more messages"
                )
            if self._error is not None:
                raise CanError(
                    f"{self._file}: writing to the database failed: {self._error}"
                ) from self._error
            self._queue.put(msg)

    def _insert(self, batch: list[Message]) -> None:
        self._conn.executemany(
            f"INSERT INTO {self._quoted} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    m.timestamp,
                    m.arbitration_id,
                    m.is_extended_id,
                    m.is_remote_frame,
                    m.is_error_frame,
                    m.dlc,
                    bytes(m.data or b""),
                )
                for m in batch
            ],
        )
        self._uncommitted += len(batch)

    def _commit(self) -> None:
        if self._uncommitted:
            self._conn.commit()
            self.num_frames += self._uncommitted
            self._uncommitted = 0
        self.last_write = time.time()

    def _run(self) -> None:
        # Batches of at most MAX_BUFFER_SIZE_BEFORE_WRITES rows are inserted as they fill up;
        # they are committed (one disk sync) once the queue is drained, at the latest
        # MAX_TIME_BETWEEN_WRITES after the last commit, and at stop().
        q = self._queue
        batch: list[Message] = []
        try:
            while True:
                try:
                    msg = q.get(timeout=self.GET_MESSAGE_TIMEOUT)
                except queue.Empty:
                    msg = None
                if msg is not None and msg is not _STOPPED:
                    batch.append(msg)
                while len(batch) < self.MAX_BUFFER_SIZE_BEFORE_WRITES:
                    try:
                        msg = q.get_nowait()
                    except queue.Empty:
                        break
                    if msg is not _STOPPED:
                        batch.append(msg)
                if batch:
                    self._insert(batch)
                    batch = []
                stopping = self.is_stopped and q.empty()
                if (
                    stopping
                    or q.empty()
                    or time.time() - self.last_write >= self.MAX_TIME_BETWEEN_WRITES
                ):
                    self._commit()
                if stopping:
                    return
        except BaseException as e:  # kept and raised again by stop()
            self._error = e

    def stop(self) -> None:
        """Accepts no more messages, writes every queued message to the database and closes it.

        :raises CanError: if writing to the database failed (the cause is chained).
        """
        self._exit_hook.detach()
        with self._lock:
            if not self.is_stopped:
                BufferedReader.stop(self)
        self._thread.join()
        try:
            if self._error is not None:
                error, self._error = self._error, None
                raise CanError(f"{self._file}: writing to the database failed: {error}") from error
        finally:
            self._conn.close()
