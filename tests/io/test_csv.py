"""can.CSVWriter / can.CSVReader (manual section 3.4.5).

Expected lines come from the manual's table of columns (its example row is a test here); files
are also checked against upstream python-can in both directions.
"""

from __future__ import annotations

import base64
import io
import os
import pathlib
from typing import Any, Callable

import pytest

import can
from can.io.csv import CSVParseError, CSVReader, CSVWriter

HEADER = "timestamp,arbitration_id,extended,remote,error,dlc,data"


def test_manual_example_row() -> None:
    # manual 3.4.5: 1483389946.197, 0x00dadada, 1, 0, 0, 6, WzQyLCA5XQ== (6 bytes "[42, 9]"
    # is seven characters; the example's data decodes to b"[42, 9]", so its dlc is 7 here)
    data = base64.b64decode("WzQyLCA5XQ==")
    out = io.StringIO()
    with CSVWriter(out) as w:
        w(can.Message(timestamp=1483389946.197, arbitration_id=0x00DADADA, data=data))
    assert out.getvalue().splitlines() == [HEADER, "1483389946.197,0x00dadada,1,0,0,7,WzQyLCA5XQ=="]


def test_flags_and_standard_ids() -> None:
    out = io.StringIO()
    with CSVWriter(out) as w:
        w(can.Message(timestamp=0.5, arbitration_id=0x7FF, is_extended_id=False, data=b""))
        w(
            can.Message(
                timestamp=1.0,
                arbitration_id=0x12,
                is_extended_id=False,
                is_remote_frame=True,
                dlc=3,
            )
        )
        w(can.Message(timestamp=2.0, arbitration_id=0x4, is_error_frame=True, data=[0, 0x10]))
    assert out.getvalue().splitlines()[1:] == [
        "0.5,0x7ff,0,0,0,0,",
        "1.0,0x012,0,1,0,3,",
        "2.0,0x00000004,1,0,1,2,ABA=",
    ]


def test_append_writes_no_header(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "a.csv"
    for i in range(2):
        with CSVWriter(path, append=i > 0) as w:
            w(can.Message(timestamp=float(i), arbitration_id=i))
    lines = path.read_text().splitlines()
    assert lines[0] == HEADER and len(lines) == 3 and HEADER not in lines[1:]
    assert [m.timestamp for m in CSVReader(path)] == [0.0, 1.0]


def test_platform_line_separator(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "a.csv"
    with CSVWriter(path) as w:
        w(can.Message(timestamp=1.0))
    assert path.read_bytes().count(os.linesep.encode()) == 2


@pytest.mark.parametrize("sep", ["\n", "\r\n", "\r"])
def test_any_line_separator_is_read(sep: str) -> None:
    text = sep.join([HEADER, "1.0,0x001,0,0,0,1,AQ==", "2.0,0x002,0,0,0,0,", ""])
    got = list(CSVReader(io.StringIO(text, newline="")))
    assert [(m.timestamp, m.arbitration_id, bytes(m.data)) for m in got] == [
        (1.0, 1, b"\x01"),
        (2.0, 2, b""),
    ]


def test_timestamps_round_trip_exactly() -> None:
    stamps = [1700000000.123456789, 0.1, 1e-7, 2.5e9 + 1 / 3]
    out = io.StringIO()
    with CSVWriter(out) as w:
        for t in stamps:
            w(can.Message(timestamp=t))
    assert [m.timestamp for m in CSVReader(io.StringIO(out.getvalue()))] == stamps


def test_fd_flags_are_not_held() -> None:
    # the documented limitation: no FD columns; the frame's length and data survive
    out = io.StringIO()
    with CSVWriter(out) as w:
        w(can.Message(arbitration_id=1, is_fd=True, bitrate_switch=True, data=bytes(range(64))))
    (m,) = CSVReader(io.StringIO(out.getvalue()))
    assert (m.is_fd, m.bitrate_switch, m.dlc, bytes(m.data)) == (False, False, 64, bytes(range(64)))


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("1.0,0x001,0,0,0,1", "expected 7 comma separated fields"),
        ("x,0x001,0,0,0,1,AQ==", "timestamp column is not a number"),
        ("1.0,0xZZ,0,0,0,1,AQ==", "arbitration_id column is not a hexadecimal number"),
        ("1.0,0x001,2,0,0,1,AQ==", "extended column must be 0 or 1"),
        ("1.0,0x001,0,0,0,x,AQ==", "dlc column must be a whole number"),
        ("1.0,0x001,0,0,0,1,A", "not base64"),
        ("1.0,0x001,0,0,0,1,A*==", "not base64"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: pathlib.Path, line: str, what: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f"{HEADER}\n1.0,0x001,0,0,0,0,\n{line}\n2.0,0x002,0,0,0,0,\n")
    reader = CSVReader(path)
    got = []
    # the file and line as every text format names them: "<file>: line <n>: <what>"
    with pytest.raises(CSVParseError, match=rf"bad\.csv: line 3: .*({what})") as info:
        for m in reader:
            got.append(m)
    assert isinstance(info.value, ValueError) and isinstance(info.value, can.CanError)
    assert [m.arbitration_id for m in got] == [1]  # what came before is delivered
    lenient = CSVReader(path, strict=False)
    with pytest.warns(
        UserWarning, match=r"bad\.csv: skipped 1 malformed line\(s\); the first: line 3"
    ):
        assert [m.arbitration_id for m in lenient] == [1, 2]
    assert lenient.skipped_lines == 1


def test_writing_after_stop_is_an_error() -> None:
    out = io.StringIO()
    w = CSVWriter(out)
    w.stop()
    out.close()
    with pytest.raises(ValueError, match="closed"):
        w(can.Message())


def test_gzip(tmp_path: pathlib.Path) -> None:
    import gzip

    path = tmp_path / "a.csv.gz"
    with CSVWriter(path) as w:
        w(can.Message(timestamp=3.0, arbitration_id=0x99, data=[9]))
    with gzip.open(path, "rt") as f:
        assert f.read().splitlines()[0] == HEADER
    assert [m.arbitration_id for m in CSVReader(path)] == [0x99]


def sample() -> list[can.Message]:
    return [
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


def held(msg: can.Message) -> list[Any]:
    """What CSV holds, in the order of the conftest's ROW_FIELDS."""
    return [
        msg.timestamp,
        msg.arbitration_id,
        msg.is_extended_id,
        msg.is_remote_frame,
        msg.is_error_frame,
        msg.dlc,
        bytes(msg.data).hex(),
    ]


def held_row(row: list[Any]) -> list[Any]:
    return row[:5] + row[6:8]  # without the channel


def test_python_can_reads_ours(
    tmp_path: pathlib.Path, ref_read: Callable[[pathlib.Path], list[list[Any]]]
) -> None:
    path = tmp_path / "ours.csv"
    with CSVWriter(path) as w:
        for m in sample():
            w(m)
    assert [held_row(r) for r in ref_read(path)] == [held(m) for m in sample()]


def test_ours_reads_python_cans(
    tmp_path: pathlib.Path, ref_write: Callable[[pathlib.Path, list[can.Message]], None]
) -> None:
    path = tmp_path / "theirs.csv"
    ref_write(path, sample())
    assert [held(m) for m in CSVReader(path)] == [held(m) for m in sample()]


@pytest.mark.parametrize("strict", [True, False])
def test_a_file_cut_inside_its_last_line_warns_and_keeps_the_rest(
    tmp_path: pathlib.Path, strict: bool
) -> None:
    path = tmp_path / "cut.csv"
    with CSVWriter(path) as w:
        for i in range(3):
            w(can.Message(timestamp=float(i), arbitration_id=i, data=bytes(8)))
    text = path.read_bytes()
    path.write_bytes(text[: len(text) - 4])  # inside the base64 of the last line
    with pytest.warns(can.io.TruncatedLogWarning, match=r"cut\.csv: the file ends inside line 4"):
        got = [m.arbitration_id for m in CSVReader(path, strict=strict)]
    assert got == [0, 1]
    # a malformed line that is not the last still raises
    path.write_bytes(text.replace(b"0x00000001,", b"0xZZZ,"))
    with pytest.raises(CSVParseError, match="line 3"):
        list(CSVReader(path))


def test_binary_file_objects_are_read_and_written() -> None:
    out = io.BytesIO()
    with CSVWriter(out) as w:
        w(can.Message(timestamp=1.5, arbitration_id=0x1F, is_extended_id=False, data=b"\xff"))
    assert out.getvalue() == f"{HEADER}\n1.5,0x01f,0,0,0,1,/w==\n".encode()
    got = list(CSVReader(io.BytesIO(out.getvalue())))
    assert [(m.timestamp, m.arbitration_id, bytes(m.data)) for m in got] == [(1.5, 0x1F, b"\xff")]


def test_timestamps_are_written_as_repr_writes_them() -> None:
    import random

    rng = random.Random(7)
    stamps = [rng.uniform(0, 2e9) for _ in range(200)] + [
        rng.random() * 10.0 ** rng.randint(-12, 20) for _ in range(200)
    ]
    # exact ties between two shortest texts (repr picks the even last digit)
    stamps += [rng.randrange(2**46, 2**50) + rng.choice([0.25, 0.75]) for _ in range(200)]
    out = io.StringIO()
    with CSVWriter(out) as w:
        for t in stamps:
            w(can.Message(timestamp=t))
    assert [line.split(",")[0] for line in out.getvalue().splitlines()[1:]] == [
        repr(t) for t in stamps
    ]


def test_can_logconvert_converts_csv_natively(tmp_path: pathlib.Path) -> None:
    from can.logconvert import convert, is_native

    assert is_native("a.csv") and not is_native("a.csv.gz")
    src = tmp_path / "in.log"
    src.write_text(
        "(1700000000.500000) vcan0 123#DEADBEEF R\n(1700000001.000000) vcan1 1ABCDEF0#R T\n"
    )
    convert(src, tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text().splitlines() == [
        HEADER,
        "1700000000.5,0x123,0,0,0,4,3q2+7w==",
        "1700000001.0,0x1abcdef0,1,1,0,0,",
    ]
    convert(tmp_path / "out.csv", tmp_path / "back.log")
    assert (tmp_path / "back.log").read_text().splitlines() == [
        "(1700000000.500000) can0 123#DEADBEEF R",
        "(1700000001.000000) can0 1ABCDEF0#R R",
    ]
