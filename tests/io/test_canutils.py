"""can.CanutilsLogReader / can.CanutilsLogWriter (manual section 3.4.8).

Expected frames of shared/data/candump_vcan.log come from its README (the frames sent by hand
with cansend) and from the file's text read by a small independent parser here. Upstream
python-can 4.x, when its interpreter is installed, must read the same frames, except where the
README names an upstream error. The can-utils round trips (log2asc, asc2log) are in
test_asc.py.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import subprocess
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import can
from can.io.canutils import CanutilsLogParseError, CanutilsLogReader, CanutilsLogWriter

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = pathlib.Path(os.environ.get("CAN_SHARED_DATA", ROOT.parent / "shared" / "data"))
# Upstream python-can in its own venv, made by `make ref-venv` (the test target makes it).
REF_PYTHON = pathlib.Path(
    os.environ.get("CAN_REF_PYTHON", ROOT / "build" / "ref-venv" / "bin" / "python")
)

needs_data = pytest.mark.skipif(
    not (DATA / "candump_vcan.log").exists(), reason=f"shared test data not found in {DATA}"
)
needs_ref = pytest.mark.skipif(
    not REF_PYTHON.exists(),
    reason=f"no reference python-can interpreter at {REF_PYTHON} (run `make ref-venv` or set CAN_REF_PYTHON)",
)

Row = tuple[Any, ...]
F, T = False, True


def row(m: can.Message) -> Row:
    """(timestamp, id, extended, remote, error, channel, dlc, data hex, fd, rx, brs, esi)"""
    return (
        m.timestamp,
        m.arbitration_id,
        m.is_extended_id,
        m.is_remote_frame,
        m.is_error_frame,
        m.channel,
        m.dlc,
        bytes(m.data).hex(),
        m.is_fd,
        m.is_rx,
        m.bitrate_switch,
        m.error_state_indicator,
    )


def read_rows(source: Any, **kwargs: Any) -> list[Row]:
    return [row(m) for m in CanutilsLogReader(source, **kwargs)]


# -- the real capture ---------------------------------------------------------------------------

# The README's hand-sent frames: cansend's input, the kernel's padding of FD payloads to a valid
# length, and the flags digit 4 (FDF) + BRS (1) + ESI (2) in the log.
HAND_SENT: list[Row] = [
    (1795715148.716977, 0x123, F, F, F, "vcan0", 4, "deadbeef", F, T, F, F),
    (1795715148.725789, 0x7FF, F, F, F, "vcan0", 0, "", F, T, F, F),
    (1795715148.734730, 0x000, F, F, F, "vcan0", 8, "0011223344556677", F, T, F, F),
    (1795715148.742299, 0x1FFFFFFF, T, F, F, "vcan0", 2, "0102", F, T, F, F),
    (1795715148.750640, 0x123, T, F, F, "vcan0", 1, "aa", F, T, F, F),
    (1795715148.759077, 0x12345678, T, T, F, "vcan0", 0, "", F, T, F, F),
    (1795715148.767018, 0x321, F, T, F, "vcan0", 3, "", F, T, F, F),
    (1795715148.775186, 0x123, F, F, F, "vcan1", 3, "112233", T, T, T, F),
    (1795715148.783059, 0x456, F, F, F, "vcan1", 0, "", T, T, F, F),
    (1795715148.790930, 0x1ABCDEF0, T, F, F, "vcan1", 64, "00112233445566778899aabbccddeeff" * 4,
     T, T, T, T),
    (1795715148.799170, 0x7AB, F, F, F, "vcan1", 12, "ffeeddccbbaa998877660000", T, T, F, T),
    # An error frame: CAN_ERR_FLAG | CAN_ERR_CRTL (4), data[1] = CAN_ERR_CRTL_TX_WARNING.
    (1795715148.808237, 0x4, T, F, T, "vcan0", 8, "0000080000000000", F, T, F, F),
]  # fmt: skip


def parse_candump_text(text: str) -> list[Row]:
    """An independent, minimal reading of `candump -L` lines (can-utils lib.c layout)."""
    rows = []
    for line in text.splitlines():
        ts, iface, frame = line.split()[:3]
        ident, data = frame.split("#", 1)
        value = int(ident, 16)
        fd = data.startswith("#")
        brs = esi = remote = False
        if fd:
            flags = int(data[1], 16)
            brs, esi, data = bool(flags & 1), bool(flags & 2), data[2:]
        if data.startswith("R"):
            remote, dlc, data = True, int(data[1:] or "0"), ""
        else:
            dlc = len(data) // 2
        rows.append(
            (
                float(ts[1:-1]),
                value & 0x1FFFFFFF,
                len(ident) == 8,
                remote,
                bool(value & 0x20000000),
                iface,
                dlc,
                data.lower(),
                fd,
                True,
                brs,
                esi,
            )
        )
    return rows


@needs_data
def test_candump_capture() -> None:
    got = read_rows(DATA / "candump_vcan.log")
    assert got[:12] == HAND_SENT
    assert got == parse_candump_text((DATA / "candump_vcan.log").read_text())
    # The cangen traffic the README lists: 200 extended classic, 200 FD with BRS, 50 remote,
    # 50 FD with ESI.
    rest = got[12:]
    assert len(rest) == 500
    assert sum(1 for r in rest if r[2] and not r[8] and not r[3]) == 200
    assert sum(1 for r in rest if r[8] and r[10]) == 200
    assert sum(1 for r in rest if r[3]) == 50
    assert sum(1 for r in rest if r[8] and r[11] and not r[10]) == 50


REF_SCRIPT = """
import json, sys, can
rows = [[m.timestamp, m.arbitration_id, m.is_extended_id, m.is_remote_frame, m.is_error_frame,
         m.channel, m.dlc, bytes(m.data).hex(), m.is_fd, m.is_rx, m.bitrate_switch,
         m.error_state_indicator] for m in can.CanutilsLogReader(sys.argv[1])]
json.dump(rows, sys.stdout)
"""


def ref_rows(path: pathlib.Path) -> list[Row]:
    proc = subprocess.run(
        [str(REF_PYTHON), "-c", REF_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [tuple(r) for r in json.loads(proc.stdout)]


def assert_same_as_upstream(ours: list[Row], theirs: list[Row]) -> None:
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        if o[4] and not t[4]:
            # README: python-can 4.6.1 takes only the bus-error class (0x80) for an error
            # frame and reads the others as data frames with the class as extended id.
            assert t[1] == o[1] and t[7] == o[7], (o, t)
            continue
        if o[4]:
            # python-can 4.6.1 keeps nothing of an error frame but its time.
            assert t[0] == o[0], (o, t)
            continue
        assert o == t, (o, t)


@needs_data
@needs_ref
def test_upstream_reads_the_same_frames() -> None:
    ours = read_rows(DATA / "candump_vcan.log")
    assert_same_as_upstream(ours, ref_rows(DATA / "candump_vcan.log"))


# -- what is read -------------------------------------------------------------------------------


def log(text: str) -> io.StringIO:
    return io.StringIO(text)


def test_manual_example_and_variants() -> None:
    got = read_rows(
        log(
            "(0.0) vcan0 001#8d00100100820100\n"
            "\n"
            "(1.5) can1 123#R T\n"
            "(2.0) 7 00000123#1122334455667788_F\n"
            "(2.5) vcan0 123#11.22.33 R\n"
            "(3.0) vcan0 20000080#\n"
        )
    )
    assert got == [
        (0.0, 0x001, F, F, F, "vcan0", 8, "8d00100100820100", F, T, F, F),
        (1.5, 0x123, F, T, F, "can1", 0, "", F, F, F, F),
        (2.0, 0x123, T, F, F, 7, 15, "1122334455667788", F, T, F, F),
        (2.5, 0x123, F, F, F, "vcan0", 3, "112233", F, T, F, F),
        (3.0, 0x80, T, F, T, "vcan0", 0, "", F, T, F, F),
    ]


def test_path_binary_file_and_closing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "x.log"
    path.write_text("(1.0) can0 123#\n")
    reader = CanutilsLogReader(path)
    assert len(list(reader)) == 1
    assert reader.file is not None and reader.file.closed
    assert len(read_rows(str(path))) == 1
    with path.open("rb") as f:
        assert len(read_rows(f)) == 1


MALFORMED = [
    "(1.0) can0 123#1\n",
    "(1.0) can0 123456789#11\n",
    "(1.0) can0 123#112233445566778899\n",
    "(1.0) can0 123\n",
    "1.0 can0 123#11\n",
    "(1.0) can0\n",
    "(x) can0 123#11\n",
    "(1.0) can0 123#11 X\n",
    "(1.0) can0 40000000#11\n",
    "(1.0) can0 123#R9\n",
    "(1.0) can0 123##\n",
    "(1.0) can0 123#GG\n",
]


@pytest.mark.parametrize("bad", MALFORMED)
def test_malformed_line_names_file_and_line(bad: str, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.log"
    path.write_text(f"(0.5) can0 001#\n{bad}(2.0) can0 002#\n")
    reader = iter(CanutilsLogReader(path))
    assert next(reader).arbitration_id == 1
    with pytest.raises(CanutilsLogParseError, match=r"bad\.log: line 2: ") as info:
        next(reader)
    assert isinstance(info.value, can.CanError) and isinstance(info.value, ValueError)

    lenient = CanutilsLogReader(path, strict=False)
    with pytest.warns(UserWarning, match=r"skipped 1 malformed line\(s\); the first: line 2"):
        assert [m.arbitration_id for m in lenient] == [1, 2]
    assert lenient.skipped_lines == 1


def test_long_line_is_a_typed_error() -> None:
    text = "(1.0) can0 001#\n(2.0) can0 123#" + "00" * (1 << 20) + "\n(3.0) can0 002#\n"
    reader = iter(CanutilsLogReader(log(text)))
    assert next(reader).arbitration_id == 1
    with pytest.raises(CanutilsLogParseError, match="line 2 is longer than 1048576 bytes"):
        next(reader)
    with pytest.warns(UserWarning, match="line 2 is longer"):
        assert [m.arbitration_id for m in CanutilsLogReader(log(text), strict=False)] == [1, 2]


# -- writing ------------------------------------------------------------------------------------


def msg(**kwargs: Any) -> can.Message:
    kwargs.setdefault("is_extended_id", False)
    return can.Message(**kwargs)


def test_writer_lines() -> None:
    out = io.StringIO()
    with CanutilsLogWriter(out) as w:
        w(msg(timestamp=1.5, arbitration_id=0x123, data=b"\xde\xad\xbe\xef"))
        w(msg(timestamp=1.6, arbitration_id=0x1FFFFFFF, is_extended_id=True, channel="vcan1"))
        w(msg(timestamp=1.7, arbitration_id=0x321, is_remote_frame=True, dlc=3, is_rx=False))
        w(msg(timestamp=1.8, arbitration_id=0x123, is_fd=True, bitrate_switch=True,
              error_state_indicator=True, data=b"\x11\x22\x33", channel=2))  # fmt: skip
        w(msg(timestamp=1.9, is_error_frame=True, channel="3"))
        w(msg(timestamp=2.0, arbitration_id=0x4, is_error_frame=True, data=bytes([0, 8])))
    assert out.getvalue().splitlines() == [
        "(1.500000) vcan0 123#DEADBEEF R",
        "(1.600000) vcan1 1FFFFFFF# R",
        "(1.700000) vcan0 321#R3 T",
        "(1.800000) can2 123##7112233 R",
        "(1.900000) can3 20000080#",
        "(2.000000) vcan0 20000004#0008",
    ]


def test_writer_timestamps_follow_the_manual() -> None:
    # A timestamp smaller than the previous one (or 0 or None) gets the one written last; the
    # first message without a timestamp gets zero.
    out = io.StringIO()
    with CanutilsLogWriter(out, channel="can9") as w:
        for t in (None, 5.0, 4.0, 0.0, None, 6.5):
            w(msg(timestamp=t, arbitration_id=1))
    times = [line.split()[0] for line in out.getvalue().splitlines()]
    assert times == ["(0.000000)", "(5.000000)", "(5.000000)", "(5.000000)", "(5.000000)",
                     "(6.500000)"]  # fmt: skip
    assert all(" can9 " in line for line in out.getvalue().splitlines())


def test_writer_append_and_binary(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "out.log"
    with CanutilsLogWriter(path) as w:
        w(msg(timestamp=1.0, arbitration_id=1))
    with CanutilsLogWriter(path, append=True) as w:
        w(msg(timestamp=2.0, arbitration_id=2))
    assert [m.arbitration_id for m in CanutilsLogReader(path)] == [1, 2]
    with CanutilsLogWriter(path) as w:
        w(msg(timestamp=3.0, arbitration_id=3))
    assert [m.arbitration_id for m in CanutilsLogReader(path)] == [3]
    out = io.BytesIO()
    with CanutilsLogWriter(out, channel=1) as w:  # type: ignore[arg-type]
        w(msg(timestamp=1.0, arbitration_id=1))
    assert out.getvalue() == b"(1.000000) can1 001# R\n"


def test_writer_rejects_bad_channel_names() -> None:
    w = CanutilsLogWriter(io.StringIO())
    with pytest.raises(ValueError, match="interface name"):
        w(msg(arbitration_id=1, channel="my can"))
    w.stop()


messages = st.builds(
    lambda ext, rid, fd, brs, esi, remote, err, data, ch, rx, dt: dict(
        is_extended_id=ext or err,
        arbitration_id=rid & (0x1FFFFFFF if ext or err else 0x7FF) or (0x80 if err else 0),
        is_fd=fd and not remote and not err,
        bitrate_switch=brs and fd and not remote and not err,
        error_state_indicator=esi and fd and not remote and not err,
        is_remote_frame=remote and not err,
        is_error_frame=err,
        data=b"" if remote else data[: 64 if fd and not err else 8],
        channel=ch,
        is_rx=rx or err,
        dt=dt,
    ),
    st.booleans(),
    st.integers(0, 0x1FFFFFFF),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.sampled_from([b"", b"\x01", bytes(range(8)), bytes(range(12)), bytes(range(64))]),
    st.sampled_from(["vcan0", "can1", "slcan12", "any_name"]),
    st.booleans(),
    st.integers(0, 5_000_000),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(messages, min_size=1, max_size=30))
def test_written_files_read_back(items: list[dict[str, Any]]) -> None:
    out = io.StringIO()
    t = 1_700_000_000.0
    sent = []
    with CanutilsLogWriter(out) as w:
        for d in items:
            d = dict(d)
            t += d.pop("dt") / 1e6
            m = can.Message(timestamp=t, **d)
            if m.is_remote_frame:
                m.dlc = d["arbitration_id"] % 9
            sent.append(m)
            w(m)
    got = read_rows(io.StringIO(out.getvalue()))
    assert len(got) == len(sent)
    for g, m in zip(got, sent):
        want = row(m)
        assert abs(g[0] - want[0]) < 1e-6
        assert g[1:] == want[1:], (g, want)


@needs_data
@needs_ref
def test_upstream_reads_what_we_write(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ours.log"
    sent = list(CanutilsLogReader(DATA / "candump_vcan.log"))
    with CanutilsLogWriter(path) as w:
        for m in sent:
            w(m)
    ours = read_rows(path)
    assert ours == [row(m) for m in sent]
    assert_same_as_upstream(ours, ref_rows(path))
