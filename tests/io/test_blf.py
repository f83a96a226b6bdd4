"""can.BLFReader / can.BLFWriter (manual section 3.4.9).

Expected frames of the Vector-written files in shared/data come from upstream python-can 4.x
reading them (tests/io/data/blf_expected.json, made by data/make_blf_expected.py with the
reference interpreter), re-checked live against that interpreter when it is installed, and from
the facts the files' README and the vector_blf test data state. Files we write are checked by
reading them back with upstream python-can when it is available.
"""

from __future__ import annotations

import gc
import io
import json
import os
import pathlib
import re
import struct
import subprocess
import sys
import warnings
import zlib
from typing import Any, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import can
from can.io.blf import BLFParseError, BLFReader, BLFTruncatedWarning, BLFWriter

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = pathlib.Path(os.environ.get("CAN_SHARED_DATA", ROOT.parent / "shared" / "data"))
EXPECTED = json.loads((HERE / "data" / "blf_expected.json").read_text())
# Upstream python-can in its own venv, made by `make ref-venv` (the test target makes it).
REF_PYTHON = pathlib.Path(
    os.environ.get("CAN_REF_PYTHON", ROOT / "build" / "ref-venv" / "bin" / "python")
)

needs_data = pytest.mark.skipif(
    not (DATA / "logfile.blf").exists(), reason=f"shared test data not found in {DATA}"
)
needs_ref = pytest.mark.skipif(
    not REF_PYTHON.exists(),
    reason=f"no reference python-can interpreter at {REF_PYTHON} (run `make ref-venv` or set CAN_REF_PYTHON)",
)

FIELDS = EXPECTED["fields"]


def as_row(m: can.Message) -> list[Any]:
    return [
        m.timestamp,
        m.arbitration_id,
        m.is_extended_id,
        m.is_remote_frame,
        m.is_error_frame,
        m.is_fd,
        m.bitrate_switch,
        m.error_state_indicator,
        m.is_rx,
        m.channel,
        m.dlc,
        bytes(m.data).hex(),
    ]


def assert_rows_equal(got: list[list[Any]], want: list[list[Any]]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert abs(float(g[0]) - float(w[0])) <= 1e-6, (g, w)
        assert g[1:] == w[1:], (FIELDS, g, w)


# -- real files ---------------------------------------------------------------------------------


@needs_data
@pytest.mark.parametrize("name", sorted(EXPECTED["files"]))
def test_vector_files_read_as_upstream_reads_them(name: str) -> None:
    with BLFReader(DATA / name) as reader:
        got = [as_row(m) for m in reader]
    assert_rows_equal(got, EXPECTED["files"][name])


@needs_data
@needs_ref
def test_expected_data_matches_a_live_upstream_read() -> None:
    out = subprocess.run(
        [str(REF_PYTHON), str(HERE / "data" / "make_blf_expected.py"), "-", str(DATA)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    live = json.loads(out)["files"]
    assert set(live) == set(EXPECTED["files"])
    for name, rows in live.items():
        with BLFReader(DATA / name) as reader:
            assert_rows_equal([as_row(m) for m in reader], rows)


@needs_data
def test_documented_content_of_vector_files() -> None:
    # vector_blf's test files use fill patterns: channel 0x1111, id 0x4444444 ...
    (fd64_a, _fd64_b) = list(BLFReader(DATA / "test_CanFdMessage64.blf"))
    assert fd64_a.is_fd and fd64_a.is_remote_frame and fd64_a.channel == 0x11 - 1
    assert fd64_a.arbitration_id == 0x15555555 and fd64_a.dlc == 64 and not fd64_a.is_rx
    (ext, _) = list(BLFReader(DATA / "test_CanErrorFrameExt.blf"))
    assert ext.is_error_frame and ext.channel == 0x1111 - 1
    (msg, msg2) = list(BLFReader(DATA / "test_CanMessage.blf"))
    assert msg.arbitration_id == msg2.arbitration_id == 0x4444444
    # logfile.blf holds 17 objects of many types; the CAN frame and the error frame are the
    # two frames among them, the other 15 are skipped and counted.
    reader = BLFReader(DATA / "logfile.blf")
    frames = list(reader)
    assert reader.object_count == 17
    assert len(frames) == 2 and sum(reader.skipped.values()) == 15
    assert bytes(frames[0].data) == bytes(range(1, 9))
    assert frames[1].is_error_frame


@needs_data
def test_reader_accepts_file_objects_and_closes_its_own_files() -> None:
    path = DATA / "test_CanMessage.blf"
    with open(path, "rb") as f:
        reader = BLFReader(f)
        assert len(list(reader)) == 2
        assert not f.closed  # not ours to close
    reader = BLFReader(str(path))
    assert reader.file is not None
    list(reader)
    assert reader.file.closed


def test_text_mode_file_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "x.blf"
    write([can.Message(arbitration_id=1)], p)
    with open(p, encoding="latin-1") as f, pytest.raises(TypeError, match="binary mode"):
        BLFReader(f)


# -- helpers ------------------------------------------------------------------------------------


def write(msgs: list[can.Message], target: Any, **kwargs: Any) -> Any:
    with BLFWriter(target, **kwargs) as writer:
        for m in msgs:
            writer.on_message_received(m)
    return target


def to_bytes(msgs: list[can.Message], **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    write(msgs, buf, **kwargs)
    return buf.getvalue()


def sample_messages(n: int = 300, t0: float = 1_700_000_000.0) -> list[can.Message]:
    out = []
    for i in range(n):
        kind = i % 5
        ts = t0 + i * 0.000_731
        if kind == 0:
            out.append(
                can.Message(
                    timestamp=ts,
                    arbitration_id=i & 0x7FF,
                    is_extended_id=False,
                    data=bytes([i & 0xFF] * (i % 9)),
                    channel=i % 3,
                    is_rx=bool(i % 2),
                )
            )
        elif kind == 1:
            out.append(
                can.Message(
                    timestamp=ts,
                    arbitration_id=(i * 104729) & 0x1FFFFFFF,
                    data=b"\x01\x02",
                    channel=1,
                )
            )
        elif kind == 2:
            size = [0, 12, 20, 48, 64][i // 5 % 5]
            out.append(
                can.Message(
                    timestamp=ts,
                    arbitration_id=0x1AB,
                    is_extended_id=False,
                    is_fd=True,
                    bitrate_switch=bool(i % 3),
                    error_state_indicator=i % 4 == 1,
                    data=bytes((i + k) & 0xFF for k in range(size)),
                    channel=0,
                    is_rx=False,
                )
            )
        elif kind == 3:
            out.append(
                can.Message(
                    timestamp=ts,
                    arbitration_id=0x7FF,
                    is_extended_id=False,
                    is_remote_frame=True,
                    dlc=i % 9,
                    channel=2,
                )
            )
        else:
            out.append(
                can.Message(
                    timestamp=ts,
                    arbitration_id=0x4,
                    is_error_frame=True,
                    data=b"\x00\x08\x00\x00\x00\x00\x00\x00",
                    channel=0,
                )
            )
    return out


def expected_rows(msgs: list[can.Message], default_channel: int = 1) -> list[list[Any]]:
    """What a BLF reader returns for messages written by BLFWriter (independent of both)."""
    rows = []
    for m in msgs:
        row = as_row(m)
        if m.channel is None:
            row[9] = default_channel - 1
        if m.is_remote_frame:
            row[11] = ""  # remote frames carry no data
        if m.is_error_frame:
            row[8] = True  # CAN_ERROR_EXT has no direction; readers report received
        rows.append(row)
    return rows


# -- writing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("threaded", [True, False])
def test_round_trip_and_header(threaded: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BLFWriter, "THREADED", threaded)
    monkeypatch.setattr(BLFReader, "THREADED", threaded)
    msgs = sample_messages(3000)
    data = to_bytes(msgs, max_container_size=4096)
    reader = BLFReader(io.BytesIO(data))
    assert_rows_equal([as_row(m) for m in reader], expected_rows(msgs))
    assert reader.object_count == len(msgs)
    assert reader.file_size == len(data)
    assert reader.start_timestamp == 1_700_000_000.0
    assert reader.stop_timestamp == round(msgs[-1].timestamp, 3)


def upstream_rows(path: pathlib.Path) -> tuple[list[list[Any]], dict[str, Any]]:
    script = (
        "import can, json, sys\n"
        "r = can.BLFReader(sys.argv[1])\n"
        "rows = [[repr(m.timestamp), m.arbitration_id, m.is_extended_id, m.is_remote_frame,"
        " m.is_error_frame, m.is_fd, m.bitrate_switch, m.error_state_indicator, m.is_rx,"
        " m.channel, m.dlc, bytes(m.data).hex()] for m in r]\n"
        "print(json.dumps({'rows': rows, 'object_count': r.object_count,"
        " 'start': r.start_timestamp, 'stop': r.stop_timestamp, 'file_size': r.file_size}))\n"
    )
    out = subprocess.run(
        [str(REF_PYTHON), "-c", script, str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    result = json.loads(out)
    return result.pop("rows"), result


@needs_ref
@pytest.mark.parametrize("level", [None, -1, 0, 1])
def test_upstream_reads_what_we_write(tmp_path: pathlib.Path, level: Optional[int]) -> None:
    msgs = sample_messages(2000)
    path = tmp_path / "out.blf"
    write(msgs, path, compression_level=level, max_container_size=4096)
    rows, header = upstream_rows(path)
    assert_rows_equal(rows, expected_rows(msgs))
    assert header["object_count"] == len(msgs)
    assert header["file_size"] == path.stat().st_size
    assert header["start"] == 1_700_000_000.0
    assert abs(header["stop"] - msgs[-1].timestamp) < 0.001


@needs_ref
def test_upstream_reads_markers_and_relative_times(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "rel.blf"
    with BLFWriter(path) as writer:
        writer.on_message_received(can.Message(timestamp=0.5, arbitration_id=1, data=b"a"))
        writer.log_event("a marker")
        writer.on_message_received(can.Message(timestamp=2.25, arbitration_id=2, channel="can3"))
    rows, header = upstream_rows(path)
    assert [(float(r[0]), r[1], r[9]) for r in rows] == [(0.5, 1, 0), (2.25, 2, 3)]
    assert header["object_count"] == 3


def test_containers_hold_at_most_max_cache_size() -> None:
    assert BLFWriter.MAX_CACHE_SIZE == 131072 and BLFWriter.COMPRESSION_LEVEL == 9
    data = to_bytes(sample_messages(3000), compression_level=0)
    sizes = []
    pos = 144
    while pos < len(data):
        sig, _, _, size, obj_type = struct.unpack_from("<4sHHLL", data, pos)
        assert (sig, obj_type) == (b"LOBJ", 10)
        method, uncompressed = struct.unpack_from("<H6xL4x", data, pos + 16)
        assert method == 0
        sizes.append(uncompressed)
        pos += size + size % 4
    assert len(sizes) >= 2 and max(sizes) == BLFWriter.MAX_CACHE_SIZE


def test_compression_level_from_class_attribute_and_argument() -> None:
    class Stored(BLFWriter):
        COMPRESSION_LEVEL = 0

    msgs = sample_messages(500)
    raw = io.BytesIO()
    with Stored(raw) as w:
        for m in msgs:
            w.on_message_received(m)
    assert struct.unpack_from("<H", raw.getvalue(), 144 + 16)[0] == 0
    best = to_bytes(msgs, compression_level=9)
    assert struct.unpack_from("<H", best, 144 + 16)[0] == 2
    # zlib (an independent implementation) inflates what we deflated.
    size = struct.unpack_from("<L", best, 144 + 8)[0]
    inflated = zlib.decompress(best[144 + 32 : 144 + size])
    assert inflated[:4] == b"LOBJ"
    assert len(best) < len(raw.getvalue()) / 2
    with pytest.raises(ValueError, match="compression level"):
        BLFWriter(io.BytesIO(), compression_level=11)


def test_channels_are_converted_to_integers() -> None:
    msgs = [
        can.Message(timestamp=1.0, arbitration_id=1, channel=None),
        can.Message(timestamp=1.0, arbitration_id=2, channel=4),
        can.Message(timestamp=1.0, arbitration_id=3, channel="vcan7"),
        can.Message(timestamp=1.0, arbitration_id=4, channel="no digits"),
    ]
    got = [m.channel for m in BLFReader(io.BytesIO(to_bytes(msgs, channel=3)))]
    assert got == [2, 4, 7, 2]


def test_channel_kinds_follow_channel2int() -> None:
    # python-can's channel2int: ints as they are (bool and int subclasses too), the number a
    # string ends in, the default channel for None or a string without one.
    import enum

    class Port(enum.IntEnum):
        B = 5

    msgs = [
        can.Message(timestamp=1.0, arbitration_id=1, channel=True),
        can.Message(timestamp=1.0, arbitration_id=2, channel=Port.B),
        can.Message(timestamp=1.0, arbitration_id=3, channel="can0"),
        can.Message(timestamp=1.0, arbitration_id=4, channel=254),
        can.Message(timestamp=1.0, arbitration_id=5, channel=300),
        can.Message(timestamp=1.0, arbitration_id=6, channel="vcan"),
    ]
    got = [m.channel for m in BLFReader(io.BytesIO(to_bytes(msgs, channel=9)))]
    assert got == [1, 5, 0, 254, 300, 8]


@pytest.mark.parametrize("channel", [2**31, 2**70, -5, "can99999999999", "x" + "9" * 30, 65535])
def test_channels_that_cannot_be_stored_are_value_errors(channel: Any) -> None:
    # BLF channels are u16 (u8 for CAN FD), stored counted from 1: 65535 is one too many.
    with BLFWriter(io.BytesIO()) as writer:
        with pytest.raises(ValueError, match="channel"):
            writer.on_message_received(can.Message(arbitration_id=1, channel=channel))
        writer.on_message_received(can.Message(timestamp=2.0, arbitration_id=1, channel=65534))


def test_timestamp_or_dlc_none_is_a_value_error() -> None:
    msg = can.Message(arbitration_id=1)
    msg.timestamp = None  # type: ignore[assignment]
    no_dlc = can.Message(arbitration_id=1, data=b"ab")
    no_dlc.dlc = None  # type: ignore[assignment]
    with BLFWriter(io.BytesIO()) as writer:
        with pytest.raises(ValueError, match="timestamp"):
            writer.on_message_received(msg)
        with pytest.raises(ValueError, match="dlc"):
            writer.on_message_received(no_dlc)
        assert writer.object_count == 0


class _Sink:
    """A file-like object that keeps what it is given (so nothing may be lent to it)."""

    def __init__(self, chunk: int) -> None:
        self.kept: list[Any] = []
        self.chunk = chunk

    def write(self, b: Any) -> int:
        self.kept.append(b)
        return len(b)

    def read(self, n: int = -1) -> bytes:
        data = b"".join(bytes(k) for k in self.kept)
        out, rest = data[: min(n, self.chunk)], data[min(n, self.chunk) :]
        self.kept = [rest]
        return out


class _Short(io.FileIO):
    """An unbuffered file that writes at most 1000 bytes per call, as raw files may."""

    def write(self, b: Any) -> int:
        return super().write(memoryview(b)[:1000])


@pytest.mark.parametrize("kind", ["path", "unbuffered", "short", "sink"])
def test_any_binary_file_gets_the_same_bytes(kind: str, tmp_path: pathlib.Path) -> None:
    # io's own files are lent our buffers; other file objects get bytes they may keep.
    msgs = sample_messages(400)
    want = to_bytes(msgs, compression_level=0, max_container_size=4096)
    path = tmp_path / "f.blf"
    if kind == "sink":
        sink = _Sink(chunk=999)
        with pytest.warns(RuntimeWarning, match="not seekable"):
            write(msgs, sink, compression_level=0, max_container_size=4096)
        assert all(isinstance(k, bytes) for k in sink.kept)
        # Only the header differs (it keeps its placeholder counts).
        assert b"".join(sink.kept)[144:] == want[144:]
        source = _Sink(chunk=999)
        source.kept = [want]
        assert_rows_equal([as_row(m) for m in BLFReader(source)], expected_rows(msgs))
        return
    if kind == "path":
        write(msgs, path, compression_level=0, max_container_size=4096)
        got = path.read_bytes()
    else:
        cls = io.FileIO if kind == "unbuffered" else _Short
        with cls(path, "w") as f:
            write(msgs, f, compression_level=0, max_container_size=4096)
        got = path.read_bytes()
    assert got == want
    with io.FileIO(path) as raw:
        assert_rows_equal([as_row(m) for m in BLFReader(raw)], expected_rows(msgs))


def test_messages_read_and_dropped_leave_no_references_behind() -> None:
    # The reader takes the bool and small-int field references in bulk and the message
    # releases them in bulk: counts must balance (a lost or extra reference per message would
    # move them by thousands here). On 3.12+ these objects are immortal and this is trivial.
    data = to_bytes(sample_messages(500))
    singletons = (True, False, 0, 1, 8)
    list(BLFReader(io.BytesIO(data)))
    gc.collect()
    before = [sys.getrefcount(o) for o in singletons]
    for _ in range(3):
        msgs = list(BLFReader(io.BytesIO(data)))
        assert sum(m.is_rx for m in msgs) > 0 and sum(not m.is_fd for m in msgs) > 0
        del msgs
    gc.collect()
    after = [sys.getrefcount(o) for o in singletons]
    assert [a - b for a, b in zip(after, before)] == [0] * len(singletons)


def test_reentrant_call_from_the_file_is_a_runtime_error() -> None:
    # A file whose write() calls back into the writer that is writing to it.
    class Echo(io.BytesIO):
        writer: Optional[BLFWriter] = None

        def write(self, b: Any) -> int:
            w, self.writer = self.writer, None
            if w is not None:
                w.on_message_received(can.Message(timestamp=1.0, arbitration_id=2))
            return super().write(b)

    out = Echo()
    writer = BLFWriter(out, compression_level=0, max_container_size=64)
    out.writer = writer
    with pytest.raises(RuntimeError, match="already in use"):
        for _ in range(10):
            writer.on_message_received(can.Message(timestamp=1.0, arbitration_id=1))
    # The writer is usable again once the call that used it has returned.
    assert writer.object_count >= 1
    writer.stop()


def test_bad_messages_are_value_errors() -> None:
    with BLFWriter(io.BytesIO()) as writer:
        with pytest.raises(ValueError, match="arbitration_id"):
            writer.on_message_received(can.Message(arbitration_id=0x2000_0000))
        with pytest.raises(ValueError, match="data"):
            writer.on_message_received(can.Message(is_fd=True, data=bytes(65)))
        with pytest.raises(ValueError, match="channel"):
            writer.on_message_received(can.Message(channel=70000))


def test_log_event_is_a_global_marker() -> None:
    buf = io.BytesIO()
    with BLFWriter(buf, compression_level=0) as writer:
        writer.on_message_received(can.Message(timestamp=1_600_000_000.0, arbitration_id=5))
        writer.log_event("Trigger", 1_600_000_001.5)
    data = buf.getvalue()
    assert b"Trigger" in data
    reader = BLFReader(io.BytesIO(data))
    assert len(list(reader)) == 1 and reader._reader.markers == 1
    assert reader.object_count == 2
    assert reader.stop_timestamp == 1_600_000_001.5


def test_writer_is_a_listener_and_context_manager(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "l.blf"
    writer = BLFWriter(path)
    assert isinstance(writer, can.Listener)
    writer(can.Message(timestamp=1.0, arbitration_id=9))
    writer.stop()
    writer.stop()
    assert writer.file is not None and writer.file.closed
    assert [m.arbitration_id for m in BLFReader(path)] == [9]


def test_append(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "a.blf"
    first = sample_messages(100)
    second = sample_messages(50, t0=1_700_000_100.0)
    write(first, path)
    write(second, path, append=True)
    reader = BLFReader(path)
    rows = [as_row(m) for m in reader]
    assert reader.object_count == 150
    assert_rows_equal(rows, expected_rows(first + second))


def test_message_subclass() -> None:
    class Mine(can.Message):
        __slots__ = ()

    data = to_bytes([can.Message(timestamp=2.0, arbitration_id=7, data=b"x")])
    (m,) = list(BLFReader(io.BytesIO(data), message_class=Mine))
    assert type(m) is Mine and m.arbitration_id == 7
    with pytest.raises(TypeError):
        BLFReader(io.BytesIO(data), message_class=int)  # type: ignore[arg-type]


message_st = st.one_of(
    st.builds(
        lambda ext, id_, data, ch, rx: can.Message(
            arbitration_id=id_ & (0x1FFFFFFF if ext else 0x7FF),
            is_extended_id=ext,
            data=data,
            channel=ch,
            is_rx=rx,
        ),
        st.booleans(),
        st.integers(0, 0x1FFFFFFF),
        st.binary(max_size=8),
        st.one_of(st.none(), st.integers(0, 200)),
        st.booleans(),
    ),
    st.builds(
        lambda id_, dlc, ch: can.Message(
            arbitration_id=id_, is_extended_id=False, is_remote_frame=True, dlc=dlc, channel=ch
        ),
        st.integers(0, 0x7FF),
        st.integers(0, 8),
        st.integers(0, 3),
    ),
    st.builds(
        lambda n, fill, brs, esi, rx: can.Message(
            arbitration_id=0x123,
            is_fd=True,
            bitrate_switch=brs,
            error_state_indicator=esi,
            data=bytes([fill]) * n,
            channel=1,
            is_rx=rx,
        ),
        st.sampled_from([0, 1, 7, 8, 12, 16, 20, 24, 32, 48, 64]),
        st.integers(0, 255),
        st.booleans(),
        st.booleans(),
        st.booleans(),
    ),
    st.builds(
        lambda id_, data: can.Message(arbitration_id=id_, is_error_frame=True, data=data),
        st.integers(0, 0x1FFFFFFF),
        st.binary(max_size=8),
    ),
)


@settings(max_examples=60, deadline=None)
@given(
    msgs=st.lists(message_st, max_size=60),
    start=st.one_of(st.floats(0, 1e6), st.floats(1e9, 4e9)),
    steps=st.lists(st.floats(0, 10), min_size=60, max_size=60),
    container=st.sampled_from([64, 1000, 131072]),
    level=st.sampled_from([0, 1, 6]),
)
def test_hypothesis_round_trip(
    msgs: list[can.Message], start: float, steps: list[float], container: int, level: int
) -> None:
    t = start
    for m, step in zip(msgs, steps):
        t += step
        m.timestamp = t
    data = to_bytes(msgs, max_container_size=container, compression_level=level)
    got = [as_row(m) for m in BLFReader(io.BytesIO(data))]
    assert_rows_equal(got, expected_rows(msgs))


# -- robustness ---------------------------------------------------------------------------------


def test_not_blf_is_an_error_at_open(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "x.blf"
    p.write_text("date Thu Nov 26 12:00:00 2026\n")
    with pytest.raises(BLFParseError, match="not a BLF file"):
        BLFReader(p)
    with pytest.raises(BLFParseError, match="not a BLF file"):
        BLFReader(io.BytesIO(b""))
    assert issubclass(BLFParseError, can.CanError) and issubclass(BLFParseError, ValueError)


def test_truncated_file_yields_complete_frames_then_warns() -> None:
    msgs = sample_messages(2000)
    data = to_bytes(msgs, max_container_size=8192)
    expected = expected_rows(msgs)
    # The end of the last object (LOG_CONTAINER), before the padding that may follow it: walk
    # the objects by their size fields (object header: "LOBJ", u16, u16, u32 size; the file
    # header's u32 at 4 is its size).
    pos = struct.unpack_from("<L", data, 4)[0]
    end = pos
    while pos + 16 <= len(data):
        size = struct.unpack_from("<L", data, pos + 8)[0]
        end = pos + size
        pos = end + size % 4
    last = 0
    for cut in [200, 5000, 9001, len(data) // 2, end - 3]:
        with pytest.warns(BLFTruncatedWarning, match=r"truncated at byte \d+") as record:
            got = [as_row(m) for m in BLFReader(io.BytesIO(data[:cut]))]
        assert len(got) >= last
        last = len(got)
        assert_rows_equal(got, expected[: len(got)])
        offset = int(str(record[0].message).split("truncated at byte ")[1].split(":")[0])
        assert offset < cut
    # Cutting only the zlib checksum of the last container loses no frame.
    assert last == len(msgs)


@needs_data
def test_truncated_vector_file_names_the_offset(tmp_path: pathlib.Path) -> None:
    data = (DATA / "test_CanMessage.blf").read_bytes()
    path = tmp_path / "cut.blf"
    path.write_bytes(data[: len(data) - 10])
    # The file holds two stored LOG_CONTAINERs, at bytes 144 and 272; the second is cut
    # short, after the CAN_MESSAGE2 it holds.
    with pytest.warns(BLFTruncatedWarning, match=r"cut\.blf: .*truncated at byte 272"):
        frames = list(BLFReader(path))
    assert [m.arbitration_id for m in frames] == [0x4444444, 0x4444444]
    path.write_bytes(data[:200])
    with pytest.warns(BLFTruncatedWarning, match=r"truncated at byte 144"):
        assert list(BLFReader(path)) == []


def test_corrupt_container_is_a_typed_error_naming_the_offset() -> None:
    data = bytearray(to_bytes(sample_messages(3000), max_container_size=8192))
    first = struct.unpack_from("<L", data, 144 + 8)[0]
    second = 144 + first + first % 4
    data[second + 60 : second + 80] = bytes(20)
    reader = BLFReader(io.BytesIO(bytes(data)))
    with pytest.raises(BLFParseError, match=f"byte {second}") as exc:
        list(reader)
    assert isinstance(exc.value, can.CanError)


def test_parse_errors_name_the_file_and_the_offset(tmp_path: pathlib.Path) -> None:
    data = bytearray(to_bytes(sample_messages(3000), max_container_size=8192))
    first = struct.unpack_from("<L", data, 144 + 8)[0]
    second = 144 + first + first % 4
    data[second : second + 4] = b"XXXX"
    path = tmp_path / "bad.blf"
    path.write_bytes(bytes(data))
    # A path, a file object with a name, and a header that is not BLF.
    where = re.escape(f"{path}: corrupt BLF file at byte {second}")
    with pytest.raises(BLFParseError, match=where):
        list(BLFReader(path))
    with open(path, "rb") as f, pytest.raises(BLFParseError, match=where):
        list(BLFReader(f))
    text = tmp_path / "text.blf"
    text.write_text("date Thu Nov 26 12:00:00 2026\n")
    with pytest.raises(BLFParseError, match=re.escape(f"{text}: not a BLF file")):
        BLFReader(text)


def test_container_declaring_more_than_64_mib_reads_what_it_holds(tmp_path: pathlib.Path) -> None:
    msgs = sample_messages(400)
    data = bytearray(to_bytes(msgs, max_container_size=8192))
    # The first LOG_CONTAINER (at byte 144; its own header follows the 16-byte object header:
    # u16 method, 6 reserved bytes, u32 uncompressed size) declares 100 MiB.
    assert struct.unpack_from("<L", data, 144 + 12)[0] == 10
    struct.pack_into("<L", data, 144 + 16 + 8, 100 << 20)
    path = tmp_path / "declared.blf"
    path.write_bytes(bytes(data))
    got = [as_row(m) for m in BLFReader(path)]
    assert_rows_equal(got, expected_rows(msgs))


def test_header_file_size_beyond_the_end_is_no_truncation(tmp_path: pathlib.Path) -> None:
    msgs = sample_messages(400)
    data = bytearray(to_bytes(msgs, max_container_size=8192))
    # The header's u64 file size (at byte 16) says 1 MB more than there is; every object is
    # whole, so nothing is reported (warnings are errors here).
    struct.pack_into("<Q", data, 16, len(data) + 1_000_000)
    reader = BLFReader(io.BytesIO(bytes(data)))
    got = [as_row(m) for m in reader]
    assert_rows_equal(got, expected_rows(msgs))
    assert reader.truncation is None


def test_huge_size_fields_do_not_allocate() -> None:
    header = bytearray(to_bytes([]))
    container = struct.pack("<4sHHLL", b"LOBJ", 16, 1, 0xFFFFFFF0, 10)
    container += struct.pack("<H6xL4x", 2, 0xFFFFFFFF) + zlib.compress(b"")
    with pytest.warns(BLFTruncatedWarning):
        assert list(BLFReader(io.BytesIO(bytes(header) + container))) == []
    obj = struct.pack("<4sHHLLLHHQ", b"LOBJ", 32, 1, 0xFFFFFFFF, 1, 2, 0, 0, 0) + bytes(16)
    stored = struct.pack("<4sHHLL", b"LOBJ", 16, 1, 32 + len(obj), 10)
    stored += struct.pack("<H6xL4x", 0, len(obj)) + obj
    with pytest.raises(BLFParseError, match="declares a size of 4294967295"):
        list(BLFReader(io.BytesIO(bytes(header) + stored)))


def test_non_seekable_output_warns() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.chunks: list[bytes] = []

        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            self.chunks.append(bytes(b))
            return len(b)

    pipe = Pipe()
    writer = BLFWriter(pipe)
    writer.on_message_received(can.Message(timestamp=1.0, arbitration_id=3))
    with pytest.warns(RuntimeWarning, match="not seekable"):
        writer.stop()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [m.arbitration_id for m in BLFReader(io.BytesIO(b"".join(pipe.chunks)))] == [3]


def test_reader_and_writer_work_from_other_threads() -> None:
    # A Notifier calls on_message_received from its own thread.
    import threading

    buf = io.BytesIO()
    writer = BLFWriter(buf)
    msgs = sample_messages(500)
    t = threading.Thread(target=lambda: [writer.on_message_received(m) for m in msgs])
    t.start()
    t.join()
    writer.stop()
    reader = BLFReader(io.BytesIO(buf.getvalue()))
    got: list[list[Any]] = []
    t = threading.Thread(target=lambda: got.extend(as_row(m) for m in reader))
    t.start()
    t.join()
    assert_rows_equal(got, expected_rows(msgs))


def repack_with_padding(blob: bytes, per_container: int, padding: int) -> tuple[bytes, int]:
    """``blob``'s objects repacked ``per_container`` to a zlib LOG_CONTAINER, each container's
    data followed by ``padding`` zero bytes that its declared size includes, as Vector's own
    converter leaves them; returns the file and its number of containers. Layout: the file
    header's size at byte 4; each object "LOBJ", header size (u16), version (u16), object
    size (u32), type (u32); a container's compression method (u16) and 6 reserved bytes after
    that 16-byte header, its uncompressed size (u32) at +24, 4 reserved, its data at +32."""
    header_size = struct.unpack_from("<I", blob, 4)[0]
    stream = bytearray()
    pos = header_size
    while pos + 16 <= len(blob):
        _, _, _, size, kind = struct.unpack_from("<4sHHII", blob, pos)
        assert kind == 10
        method = struct.unpack_from("<H", blob, pos + 16)[0]
        data = blob[pos + 32 : pos + size]
        stream += zlib.decompress(data) if method == 2 else data
        pos += size + size % 4
    objects = []
    pos = 0
    while pos < len(stream):
        size = struct.unpack_from("<I", stream, pos + 8)[0]
        size += size % 4
        objects.append(bytes(stream[pos : pos + size]))
        pos += size
    out = bytearray(blob[:header_size])
    count = 0
    for k in range(0, len(objects), per_container):
        raw = b"".join(objects[k : k + per_container]) + bytes(padding)
        data = zlib.compress(raw, 6)
        head = struct.pack("<4sHHIIHHIII", b"LOBJ", 16, 1, 32 + len(data), 10, 2, 0, 0, len(raw), 0)
        obj = head + data
        out += obj + bytes(len(obj) % 4)
        count += 1
    return bytes(out), count


@pytest.mark.parametrize("padding", [3, 8, 40])
def test_containers_with_zero_padding_after_their_last_object_read_cleanly(
    tmp_path: pathlib.Path, padding: int
) -> None:
    out = io.BytesIO()
    with can.BLFWriter(out) as writer:
        for i in range(40):
            writer(can.Message(timestamp=1.0 + i, arbitration_id=i, data=[i] * 8))
    padded, containers = repack_with_padding(out.getvalue(), 7, padding)
    assert containers == 6
    path = tmp_path / "padded.blf"
    path.write_bytes(padded)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = [m.arbitration_id for m in can.BLFReader(path)]
    assert got == list(range(40))
