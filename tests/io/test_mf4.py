"""MF4 (ASAM MDF 4) through asammdf: can.MF4Writer / can.MF4Reader.

Expected values are the messages given to the writer, python-can 4.x's reading of the same file
(the reference venv), and what asammdf itself sees in the file (the ASAM bus logging channel
names and values, read member by member).
"""

from __future__ import annotations

import io
import pathlib
import subprocess
import sys
import textwrap
from typing import Any, Callable

import pytest

import can
from can.io.mf4 import MF4NotAvailableError, MF4ParseError

from .conftest import ROW_FIELDS, to_row

asammdf = pytest.importorskip("asammdf")

T0 = 1_700_000_000.0


def traffic() -> list[can.Message]:
    """One of each kind, on two channels and both directions, in time order."""
    M = can.Message
    return [
        M(
            timestamp=T0 + 0.5,
            arbitration_id=0x123,
            is_extended_id=False,
            data=b"\x01\x02",
            channel=0,
        ),
        M(
            timestamp=T0 + 0.625,
            arbitration_id=0x1ABCDEF,
            data=bytes(range(8)),
            channel=1,
            is_rx=False,
        ),
        M(
            timestamp=T0 + 0.75,
            arbitration_id=0x55,
            is_extended_id=False,
            is_remote_frame=True,
            dlc=3,
            channel=1,
        ),
        M(
            timestamp=T0 + 1.0,
            arbitration_id=0x18DAF110,
            data=bytes(range(12)),
            is_fd=True,
            bitrate_switch=True,
            error_state_indicator=True,
            channel=0,
        ),
        M(
            timestamp=T0 + 1.25,
            arbitration_id=0x4,
            is_error_frame=True,
            data=b"\x00\x11\x22",
            channel=1,
        ),
        M(
            timestamp=T0 + 1.5,
            arbitration_id=0x7FF,
            is_extended_id=False,
            data=bytes(64),
            is_fd=True,
            channel=0,
            is_rx=False,
        ),
        M(
            timestamp=T0 + 1.75,
            arbitration_id=0x1FFFFFFF,
            is_remote_frame=True,
            dlc=8,
            channel=0,
            is_rx=False,
        ),
        M(timestamp=T0 + 2.0, arbitration_id=0x0, is_extended_id=False, channel=1),
    ]


def write(path: Any, msgs: list[can.Message], **kwargs: Any) -> None:
    with can.MF4Writer(path, **kwargs) as writer:
        for m in msgs:
            writer(m)


def rows(msgs: Any) -> list[list[Any]]:
    return [to_row(m) for m in msgs]


@pytest.mark.parametrize("level", [0, 1, 2])
def test_round_trip_keeps_every_field(tmp_path: pathlib.Path, level: int) -> None:
    sent = traffic()
    write(tmp_path / "t.mf4", sent, compression_level=level)
    with can.MF4Reader(tmp_path / "t.mf4") as reader:
        got = list(reader)
    # remote frames carry no data; every other field comes back exactly, timestamps included
    assert rows(got) == rows(sent)
    assert all(isinstance(m.data, bytearray) for m in got)


def test_kinds_are_merged_by_time_as_python_can_reads_them(
    tmp_path: pathlib.Path, ref_read: Callable[[pathlib.Path], list[list[Any]]]
) -> None:
    # Each kind keeps its written order (4 was written after 1, with an earlier time); the kinds
    # are merged by timestamp, equal ones as data, error, remote frames.
    M = can.Message
    sent = [
        M(timestamp=5.0, arbitration_id=1, is_remote_frame=True),
        M(timestamp=5.0, arbitration_id=2, is_error_frame=True),
        M(timestamp=5.0, arbitration_id=3, data=b"a"),
        M(timestamp=4.0, arbitration_id=4, is_remote_frame=True),
        M(timestamp=6.0, arbitration_id=5, data=b"b"),
    ]
    write(tmp_path / "t.mf4", sent)
    got = list(can.MF4Reader(tmp_path / "t.mf4"))
    assert [m.arbitration_id for m in got] == [3, 2, 1, 4, 5]
    assert rows(got) == ref_read(tmp_path / "t.mf4")


def test_asammdf_sees_the_bus_logging_layout(tmp_path: pathlib.Path) -> None:
    sent = traffic()
    write(tmp_path / "t.mf4", sent)
    mdf = asammdf.MDF(tmp_path / "t.mf4")
    try:
        groups = {}
        for index, group in enumerate(mdf.groups):
            names = [c.name for c in group.channels]
            kind = names[1]
            groups[kind] = index
            assert names[0] == "time"
            members = ["BusChannel", "ID", "IDE", "DLC", "DataLength"]
            members += (
                ["Dir"] if kind == "CAN_RemoteFrame" else ["DataBytes", "Dir", "EDL", "BRS", "ESI"]
            )
            assert names[1:] == [kind] + [f"{kind}.{m}" for m in members]
            cg = group.channel_group
            assert cg.flags & 0x6 == 0x6  # bus event, plain bus event
            assert (cg.acq_source.source_type, cg.acq_source.bus_type) == (2, 2)  # bus, CAN
        assert sorted(groups) == ["CAN_DataFrame", "CAN_ErrorFrame", "CAN_RemoteFrame"]

        def values(name: str) -> list[Any]:
            kind = name.split(".")[0]
            return list(mdf.get(name, group=groups[kind], raw=True).samples.tolist())

        data = [m for m in sent if not m.is_remote_frame and not m.is_error_frame]
        assert values("CAN_DataFrame.ID") == [m.arbitration_id for m in data]
        assert values("CAN_DataFrame.IDE") == [int(m.is_extended_id) for m in data]
        assert values("CAN_DataFrame.DataLength") == [len(m.data) for m in data]
        assert values("CAN_DataFrame.DLC") == [2, 8, 9, 15, 0]  # 12 bytes: DLC 9, 64: DLC 15
        assert values("CAN_DataFrame.Dir") == [0, 1, 0, 1, 0]  # 0 received, 1 transmitted
        assert values("CAN_DataFrame.EDL") == [0, 0, 1, 1, 0]
        assert values("CAN_DataFrame.BRS") == [0, 0, 1, 0, 0]
        assert values("CAN_DataFrame.ESI") == [0, 0, 1, 0, 0]
        assert values("CAN_DataFrame.BusChannel") == [0, 1, 0, 0, 1]
        assert bytes(values("CAN_DataFrame.DataBytes")[2][:12]) == bytes(range(12))
        assert values("CAN_RemoteFrame.ID") == [0x55, 0x1FFFFFFF]
        assert values("CAN_RemoteFrame.DLC") == [3, 8]
        assert values("CAN_ErrorFrame.DataLength") == [3]
        # the header's start is the first timestamp; each time is relative to it
        assert mdf.header.start_time.timestamp() == T0 + 0.5
        assert mdf.get("time", group=groups["CAN_DataFrame"]).samples.tolist() == [
            0.0,
            0.125,
            0.5,
            1.0,
            1.5,
        ]
    finally:
        mdf.close()


def test_python_can_reads_our_file(
    tmp_path: pathlib.Path, ref_read: Callable[[pathlib.Path], list[list[Any]]]
) -> None:
    sent = traffic()
    write(tmp_path / "ours.mf4", sent)
    assert ref_read(tmp_path / "ours.mf4") == rows(sent)


def test_our_header_time_is_utc_so_other_time_zones_read_the_same(
    tmp_path: pathlib.Path,
    ref_read: Callable[[pathlib.Path], list[list[Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a start time in local time (as python-can writes it) would read hours off elsewhere
    sent = traffic()
    write(tmp_path / "ours.mf4", sent)
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # the reference interpreter's zone, UTC+5:30
    assert ref_read(tmp_path / "ours.mf4") == rows(sent)


def test_we_read_python_can_files_as_it_does(
    tmp_path: pathlib.Path,
    ref_write: Callable[[pathlib.Path, list[can.Message]], None],
    ref_read: Callable[[pathlib.Path], list[list[Any]]],
) -> None:
    sent = traffic()
    path = tmp_path / "theirs.mf4"
    ref_write(path, sent)
    got = list(can.MF4Reader(path))
    assert rows(got) == ref_read(path)
    # and that is what was written (python-can's file header is the time of writing, so the
    # timestamps are within float rounding of a time 1.7e9 s after the header's)
    for a, b in zip(rows(got), rows(sent)):
        assert a[0] == pytest.approx(b[0], abs=1e-6)
        assert a[1:] == b[1:]
    assert ROW_FIELDS[0] == "timestamp"


def test_file_objects_are_written_and_left_open(tmp_path: pathlib.Path) -> None:
    buf = io.BytesIO()
    write(buf, traffic())
    assert not buf.closed and buf.getvalue()[:3] == b"MDF"
    buf.seek(0)
    assert rows(can.MF4Reader(buf)) == rows(traffic())


def test_stop_writes_every_message_given_before_it(tmp_path: pathlib.Path) -> None:
    # more messages than one batch the writer buffers, and a tail that is only in the buffer
    path = tmp_path / "many.mf4"
    writer = can.MF4Writer(path, compression_level=0)
    n = 25_001
    for i in range(n):
        writer.on_message_received(
            can.Message(
                timestamp=T0 + i / 1000,
                arbitration_id=i & 0x7FF,
                is_extended_id=False,
                data=[i & 0xFF],
            )
        )
    writer.stop()
    writer.stop()  # a second stop does nothing
    got = list(can.MF4Reader(path))
    assert len(got) == n
    assert [m.data[0] for m in got[-3:]] == [(n - 3) & 0xFF, (n - 2) & 0xFF, (n - 1) & 0xFF]
    assert got[-1].timestamp == T0 + (n - 1) / 1000
    with pytest.raises(ValueError, match="stopped"):
        writer.on_message_received(can.Message())


def test_logger_and_logreader_dispatch_mf4(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "log.MF4"
    with can.Logger(path) as logger:
        assert isinstance(logger, can.MF4Writer)
        for m in traffic():
            logger(m)
    with can.LogReader(path) as reader:
        assert isinstance(reader, can.MF4Reader)
        assert rows(reader) == rows(traffic())
    with pytest.raises(ValueError, match="MF4 files cannot be gzip-compressed"):
        can.Logger(tmp_path / "log.mf4.gz")


def test_channel_names_and_none_become_numbers(tmp_path: pathlib.Path) -> None:
    channels = ["can1", "vcan12", None, "abc", 255]
    write(
        tmp_path / "c.mf4",
        [can.Message(timestamp=float(i), channel=c) for i, c in enumerate(channels)],
    )
    assert [m.channel for m in can.MF4Reader(tmp_path / "c.mf4")] == [1, 12, 0, 0, 255]


def test_what_mf4_cannot_hold_is_a_value_error(tmp_path: pathlib.Path) -> None:
    writer = can.MF4Writer(tmp_path / "bad.mf4")
    try:
        with pytest.raises(ValueError, match=r"bad\.mf4: message 0 .*channel 0\.\.255"):
            writer(can.Message(channel=300))
        with pytest.raises(ValueError, match="not finite"):
            writer(can.Message(timestamp=float("nan")))
        writer(can.Message(timestamp=1.0, arbitration_id=7))
    finally:
        writer.stop()
    assert [m.arbitration_id for m in can.MF4Reader(tmp_path / "bad.mf4")] == [7]
    with pytest.raises(ValueError, match="compression_level"):
        can.MF4Writer(tmp_path / "x.mf4", compression_level=3)
    with pytest.raises(ValueError, match="cannot be appended"):
        can.MF4Writer(tmp_path / "x.mf4", append=True)


def test_a_file_that_is_not_mdf_names_the_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "junk.mf4"
    path.write_bytes(b"this is not an MDF file at all" * 10)
    with pytest.raises(MF4ParseError, match=r"junk\.mf4: not an MDF file"):
        can.MF4Reader(path)


def test_database_is_embedded_as_an_attachment(tmp_path: pathlib.Path) -> None:
    dbc = tmp_path / "bus.dbc"
    dbc.write_text('VERSION ""\n')
    write(tmp_path / "d.mf4", traffic()[:1], database=dbc)
    mdf = asammdf.MDF(tmp_path / "d.mf4")
    try:
        data, name, _ = mdf.extract_attachment(0)
        assert (data, pathlib.Path(name).name) == (b'VERSION ""\n', "bus.dbc")
    finally:
        mdf.close()


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )


def test_without_asammdf_a_typed_error_names_the_extra(tmp_path: pathlib.Path) -> None:
    proc = run_python(
        f"""
        import sys
        sys.modules["asammdf"] = None  # as if it were not installed
        import can
        from can.io.mf4 import MF4NotAvailableError
        for make in (lambda: can.MF4Writer({str(tmp_path / "a.mf4")!r}),
                     lambda: can.MF4Reader({str(tmp_path / "a.mf4")!r}),
                     lambda: can.Logger({str(tmp_path / "b.mf4")!r})):
            try:
                make()
            except MF4NotAvailableError as e:
                assert isinstance(e, can.CanError) and isinstance(e, NotImplementedError)
                assert isinstance(e.__cause__, ImportError)
                print(e)
        """
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3 and all("pip install can[mf4]" in line for line in lines)
    assert not (tmp_path / "a.mf4").exists()
    assert MF4NotAvailableError.__mro__[1] is can.CanInterfaceNotImplementedError


def test_import_can_does_not_import_asammdf() -> None:
    proc = run_python(
        """
        import sys, can
        can.MF4Writer, can.MF4Reader, can.io.MF4Writer
        print(sorted(m for m in ("asammdf", "numpy") if m in sys.modules))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
