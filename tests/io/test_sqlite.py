"""can.SqliteWriter / can.SqliteReader (manual section 3.4.6).

The schema is checked with sqlite3 itself, against the manual's table; files are also checked
against upstream python-can in both directions.
"""

from __future__ import annotations

import io
import pathlib
import sqlite3
import threading
import time
from typing import Any, Callable

import pytest

import can
from can.io.sqlite import SqliteParseError, SqliteReader, SqliteWriter


def sample(n: int = 4) -> list[can.Message]:
    base = [
        can.Message(
            timestamp=1700000000.25, arbitration_id=0x123, is_extended_id=False, data=[1, 2, 3]
        ),
        can.Message(timestamp=1700000000.5, arbitration_id=0x1ABCDE, data=b""),
        can.Message(
            timestamp=1700000000.75,
            arbitration_id=0x7FF,
            is_extended_id=False,
            is_remote_frame=True,
            dlc=8,
        ),
        can.Message(
            timestamp=1700000001.0,
            arbitration_id=0x4,
            is_error_frame=True,
            data=[0, 0x10, 0, 0, 0, 0, 0, 0],
        ),
    ]
    return [base[i % 4] for i in range(n)]


def held(msg: can.Message) -> list[Any]:
    return [
        msg.timestamp,
        msg.arbitration_id,
        msg.is_extended_id,
        msg.is_remote_frame,
        msg.is_error_frame,
        msg.dlc,
        bytes(msg.data).hex(),
    ]


def test_manual_schema_and_rows(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "log.db"
    with SqliteWriter(path) as w:
        for m in sample():
            w(m)
    conn = sqlite3.connect(path)
    try:
        columns = [(c[1], c[2]) for c in conn.execute("PRAGMA table_info(messages)")]
        assert columns == [
            ("ts", "REAL"),
            ("arbitration_id", "INTEGER"),
            ("extended", "INTEGER"),
            ("remote", "INTEGER"),
            ("error", "INTEGER"),
            ("dlc", "INTEGER"),
            ("data", "BLOB"),
        ]
        rows = conn.execute("SELECT * FROM messages").fetchall()
    finally:
        conn.close()
    assert rows[0] == (1700000000.25, 0x123, 0, 0, 0, 3, b"\x01\x02\x03")
    assert rows[2] == (1700000000.75, 0x7FF, 0, 1, 0, 8, b"")
    assert rows[3][4] == 1 and len(rows) == 4


def test_reader_iterates_len_and_read_all(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "log.db"
    with SqliteWriter(path, table_name="run_1") as w:
        for m in sample(10):
            w(m)
    with SqliteReader(path, table_name="run_1") as r:
        assert r.table_name == "run_1"
        assert len(r) == 10
        assert [held(m) for m in r] == [held(m) for m in sample(10)]
        assert [held(m) for m in r.read_all()] == [held(m) for m in sample(10)]


def test_writer_appends_to_an_existing_table(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "log.db"
    for _ in range(2):
        with SqliteWriter(path) as w:
            w(sample()[0])
    assert len(SqliteReader(path)) == 2


def test_stop_commits_everything_given_before_it(tmp_path: pathlib.Path) -> None:
    # python-can 4.x may leave the tail of its queue unwritten; every message must be there
    path = tmp_path / "log.db"
    w = SqliteWriter(path)
    w.MAX_BUFFER_SIZE_BEFORE_WRITES = 7
    n = 2_003
    msgs = [can.Message(timestamp=float(i), arbitration_id=i & 0x7FF) for i in range(n)]
    for m in msgs:
        w(m)
    w.stop()
    assert w.num_frames == n
    got = list(SqliteReader(path))
    assert [m.timestamp for m in got] == [float(i) for i in range(n)]


def test_stop_with_several_threads_writing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "log.db"
    w = SqliteWriter(path)
    accepted = []

    def produce(k: int) -> None:
        for i in range(3000):
            try:
                w(can.Message(timestamp=k * 10000 + i))
            except BufferError:
                return
            accepted.append(1)

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.01)
    w.stop()  # stops accepting; what was accepted is committed
    for t in threads:
        t.join()
    assert len(SqliteReader(path)) == len(accepted) == w.num_frames


def test_background_writes_before_stop(tmp_path: pathlib.Path) -> None:
    # GET_MESSAGE_TIMEOUT without a message: the buffer is committed without waiting for stop()
    path = tmp_path / "log.db"
    w = SqliteWriter(path)
    try:
        assert SqliteWriter.GET_MESSAGE_TIMEOUT == 0.25
        assert SqliteWriter.MAX_TIME_BETWEEN_WRITES == 5.0
        assert SqliteWriter.MAX_BUFFER_SIZE_BEFORE_WRITES == 500
        before = w.last_write
        w(sample()[0])
        deadline = time.monotonic() + 5
        while w.num_frames < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert w.num_frames == 1 and w.last_write > before
        assert len(SqliteReader(path)) == 1
    finally:
        w.stop()


def test_after_stop_messages_are_refused(tmp_path: pathlib.Path) -> None:
    w = SqliteWriter(tmp_path / "log.db")
    w.stop()
    with pytest.raises(BufferError, match="stopped"):
        w(sample()[0])


@pytest.mark.parametrize("name", ["messages; DROP TABLE x", "1abc", "", "a b", 'x"y', "messages--"])
def test_table_name_must_be_an_identifier(tmp_path: pathlib.Path, name: str) -> None:
    with pytest.raises(ValueError, match="SQL identifier"):
        SqliteWriter(tmp_path / "log.db", table_name=name)
    with pytest.raises(ValueError, match="SQL identifier"):
        SqliteReader(tmp_path / "log.db", table_name=name)


def test_missing_table_names_file_and_table(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "log.db"
    with SqliteWriter(path):
        pass
    with pytest.raises(SqliteParseError, match=r"log\.db: the database has no table 'other'"):
        SqliteReader(path, table_name="other")
    with pytest.raises(FileNotFoundError):
        SqliteReader(tmp_path / "missing.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SqliteParseError, match=r"junk\.db: not an SQLite database"):
        SqliteReader(junk)


def test_file_objects_are_refused(tmp_path: pathlib.Path) -> None:
    with pytest.raises(TypeError, match="file-like"):
        SqliteWriter(io.BytesIO())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="file-like"):
        SqliteReader(io.BytesIO())  # type: ignore[arg-type]


def test_bad_row_names_the_row_and_column_after_the_rows_before_it(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / "log.db"
    with SqliteWriter(path) as w:
        w(sample()[0])
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO messages VALUES (1.0, 'abc', 0, 0, 0, 0, x'')")
    conn.commit()
    conn.close()
    got: list[can.Message] = []
    with pytest.raises(
        SqliteParseError, match=r"log\.db, table 'messages', row 2: .*arbitration_id is TEXT 'abc'"
    ):
        got.extend(SqliteReader(path))
    assert [held(m) for m in got] == [held(sample()[0])]


@pytest.mark.parametrize(
    ("values", "column"),
    [
        ("(NULL, 1, 0, 0, 0, 0, x'')", "ts is NULL"),
        ("(1.0, 1, 0.5, 0, 0, 0, x'')", "extended is REAL 0.5"),
        ("(1.0, 1, 0, 'x', 0, 0, x'')", "remote is TEXT 'x'"),
        ("(1.0, 1, 0, 0, 0, 0, 'text')", "data is TEXT 'text'"),
    ],
)
def test_each_column_has_its_type(tmp_path: pathlib.Path, values: str, column: str) -> None:
    path = tmp_path / "log.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE messages (ts REAL, arbitration_id INTEGER, extended INTEGER, "
        "remote INTEGER, error INTEGER, dlc INTEGER, data BLOB)"
    )
    conn.execute(f"INSERT INTO messages VALUES {values}")
    conn.commit()
    conn.close()
    with pytest.raises(SqliteParseError, match=f"row 1: .*{column}$"):
        list(SqliteReader(path))


def test_values_are_read_as_stored(tmp_path: pathlib.Path) -> None:
    # what the schema holds but a frame would not (as python-can reads it): any integer id and
    # dlc, any payload length, NULL data, an INTEGER timestamp, flags other than 0 and 1
    path = tmp_path / "log.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE messages (ts REAL, arbitration_id INTEGER, extended INTEGER, "
        "remote INTEGER, error INTEGER, dlc INTEGER, data BLOB)"
    )
    conn.execute(
        "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)", (3, 2**40, 2, 0, -1, 99, None)
    )
    conn.execute(
        "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)", (0.5, 7, 0, 1, 0, 15, bytes(range(70)))
    )
    conn.commit()
    conn.close()
    first, second = SqliteReader(path)
    assert type(first.timestamp) is float and first.timestamp == 3.0
    assert first.arbitration_id == 2**40 and first.dlc == 99
    assert first.is_extended_id is True and first.is_remote_frame is False
    assert first.is_error_frame is True
    assert type(first.data) is bytearray and first.data == b""
    assert first.channel is None and first.is_fd is False and first.is_rx is True
    assert second.data == bytes(range(70)) and second.is_remote_frame is True


def test_table_without_the_columns_is_refused_at_once(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE messages (ts REAL, arbitration_id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(
        SqliteParseError,
        match=r"other\.db: the table 'messages' is not a table of messages .*no such column",
    ):
        SqliteReader(path)


def test_reading_after_stop_is_a_value_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "log.db"
    with SqliteWriter(path) as w:
        w(sample()[0])
    r = SqliteReader(path)
    r.stop()
    with pytest.raises(ValueError, match=r"log\.db: the database is closed"):
        list(r)
    with pytest.raises(ValueError, match="closed"):
        len(r)


def test_a_paused_reader_does_not_block_the_writer(tmp_path: pathlib.Path) -> None:
    # A reader part-way through a table holds no lock between batches: the writer filling it
    # goes on committing (before, its commit waited for the reader and failed after 5 s), and
    # the reader goes on to the rows committed meanwhile.
    path = tmp_path / "log.db"
    n = 6000  # more than one batch of the native reader
    w = SqliteWriter(path)
    try:
        for i in range(n):
            w(can.Message(timestamp=float(i), arbitration_id=i & 0x7FF))
        deadline = time.monotonic() + 10
        while w.num_frames < n and time.monotonic() < deadline:
            time.sleep(0.01)
        assert w.num_frames == n
        reader = SqliteReader(path)
        rows = iter(reader)
        assert next(rows).timestamp == 0.0
        for i in range(n, n + 5):
            w(can.Message(timestamp=float(i), arbitration_id=1))
        deadline = time.monotonic() + 3
        while w.num_frames < n + 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert w.num_frames == n + 5
        assert [m.timestamp for m in rows] == [float(i) for i in range(1, n + 5)]
        assert len(reader) == n + 5
        reader.stop()
    finally:
        w.stop()


def test_readers_in_several_threads(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "log.db"
    with SqliteWriter(path) as w:
        for i in range(9000):
            w(can.Message(timestamp=float(i), arbitration_id=i & 0x7FF, data=[i & 0xFF]))
    reader = SqliteReader(path)
    results: list[list[float]] = []

    def read() -> None:
        results.append([m.timestamp for m in reader])

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reader.stop()
    assert results == [[float(i) for i in range(9000)]] * 3


def test_python_can_reads_ours(
    tmp_path: pathlib.Path, ref_read: Callable[[pathlib.Path], list[list[Any]]]
) -> None:
    path = tmp_path / "ours.db"
    with SqliteWriter(path) as w:
        for m in sample():
            w(m)
    assert [r[:5] + r[6:8] for r in ref_read(path)] == [held(m) for m in sample()]


def test_ours_reads_python_cans(
    tmp_path: pathlib.Path, ref_write: Callable[[pathlib.Path, list[can.Message]], None]
) -> None:
    path = tmp_path / "theirs.db"
    ref_write(path, sample())
    assert [held(m) for m in SqliteReader(path)] == [held(m) for m in sample()]
