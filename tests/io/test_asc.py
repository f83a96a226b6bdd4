"""can.ASCReader / can.ASCWriter (manual section 3.4.7).

Expected frames of the files in shared/data come from the files' own text and their README (the
Vector-written files: written out below line by line; can-utils' log2asc output: the candump log
it was made from, parsed by a small independent parser here). Upstream python-can 4.x, when its
interpreter is installed, must read the same frames, except where the README names an upstream
error. can-utils' log2asc/asc2log (Debian package can-utils) check the round trips.
"""

from __future__ import annotations

import io
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import warnings
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import can
from can.io.asc import ASCParseError, ASCReader, ASCWriter

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = pathlib.Path(os.environ.get("CAN_SHARED_DATA", ROOT.parent / "shared" / "data"))
# Upstream python-can in its own venv, made by `make ref-venv` (the test target makes it).
REF_PYTHON = pathlib.Path(
    os.environ.get("CAN_REF_PYTHON", ROOT / "build" / "ref-venv" / "bin" / "python")
)

needs_data = pytest.mark.skipif(
    not (DATA / "logfile.asc").exists(), reason=f"shared test data not found in {DATA}"
)
needs_ref = pytest.mark.skipif(
    not REF_PYTHON.exists(),
    reason=f"no reference python-can interpreter at {REF_PYTHON} (run `make ref-venv` or set CAN_REF_PYTHON)",
)
needs_can_utils = pytest.mark.skipif(
    shutil.which("log2asc") is None or shutil.which("asc2log") is None,
    reason="can-utils (log2asc, asc2log) not installed: apt-get install can-utils",
)

Row = tuple[Any, ...]


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
    return [row(m) for m in ASCReader(source, **kwargs)]


def assert_rows(got: list[Row], want: list[Row]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert abs(g[0] - w[0]) < 1e-9, (g, w)
        assert g[1:] == w[1:], (g, w)


# -- real files: expected values from their text ----------------------------------------------

F, T = False, True
ERR = (0, T, F, T)  # id, extended (python-can's default), remote, error
J1939 = [
    "01a00fa6603bd140",
    "021fde8025dfc02b",
    "03e1004bffff3c0f",
    "04004bffffffffff",
]

# Line by line from logfile.asc (channel n in the file is channel n - 1 here).
LOGFILE_ASC: list[Row] = [
    (2.501, *ERR, 0, 0, "", F, T, F, F),
    (2.50101, *ERR, 0, 0, "", F, T, F, F),
    (2.50102, *ERR, 1, 0, "", F, T, F, F),
    (2.510001, 0x100, F, T, F, 1, 0, "", F, F, F, F),
    (2.520002, 0x200, F, T, F, 2, 0, "", F, F, F, F),
    (2.584921, 0x300, F, T, F, 3, 8, "", F, F, F, F),
    (3.098426, 0x18EBFF00, T, F, F, 0, 8, J1939[0], F, T, F, F),
    (3.148421, 0x18EBFF00, T, F, F, 0, 8, J1939[1], F, T, F, F),
    (3.197693, 0x18EBFF00, T, F, F, 0, 8, J1939[2], F, T, F, F),
    (3.248765, 0x18EBFF00, T, F, F, 0, 8, J1939[3], F, T, F, F),
    (17.876708, 0x6F9, F, F, F, 0, 8, "050c000000000000", F, T, F, F),
    (17.876976, 0x6F8, F, F, F, 0, 8, "ff000cfe00000000", F, T, F, F),
    (20.105214, 0x18EBFF00, T, F, F, 1, 8, J1939[0], F, T, F, F),
    (20.155119, 0x18EBFF00, T, F, F, 1, 8, J1939[1], F, T, F, F),
    (20.204671, 0x18EBFF00, T, F, F, 1, 8, J1939[2], F, T, F, F),
    (20.248887, 0x18EBFF00, T, F, F, 1, 8, J1939[3], F, T, F, F),
    (30.005071, 0x300, F, F, F, 1, 8, "0102030405060708", T, T, T, F),
    # Flags 0x200050: RTR (0x10) without FDF (0x1000), a classic remote frame with DLC 5 in the
    # CANFD layout (upstream reads an FD remote frame, which CAN FD does not have).
    (30.300981, 0x50005, T, T, F, 2, 5, "", F, F, F, F),
    (30.506898, 0x4EE, F, F, F, 3, 64, "01020304" + "00" * 59 + "64", T, T, F, F),
    (30.806898, *ERR, 4, 0, "", T, F, F, F),
]

EXPECTED: dict[str, list[Row]] = {
    "logfile.asc": LOGFILE_ASC,
    "test_CanErrorFrames.asc": [
        (2.501, *ERR, 0, 0, "", F, T, F, F),
        (3.501, *ERR, 0, 0, "", F, T, F, F),
        (4.501, *ERR, 1, 0, "", F, T, F, F),
        (30.806898, *ERR, 4, 0, "", T, F, F, F),
    ],
    # German weekday in the date line, a symbolic name on the third line.
    "test_CanFdMessage.asc": [
        (30.005021, 0x300, F, F, F, 0, 8, "11c2030405060708", T, T, T, F),
        (30.005041, 0x1C4D80A7, T, F, F, 1, 8, "12c2030405060708", T, F, F, T),
        (30.005071, 0x30A, F, F, F, 2, 8, "0102030405060708", T, T, T, T),
    ],
    "test_CanFdMessage64.asc": [
        (30.506898, 0x4EE, F, F, F, 3, 64, "a1020304" + "00" * 59 + "64", T, T, F, T),
        (31.506898, 0x1C4D80A7, T, F, F, 3, 64, "b1020304" + "00" * 59 + "64", T, T, T, F),
    ],
    "test_CanMessage.asc": [
        (2.501, 0xC8, F, F, F, 1, 8, "0908070605040302", F, F, F, F),
        (17.876708, 0x6F9, F, F, F, 0, 8, "050c000000000000", F, T, F, F),
    ],
    "test_CanRemoteMessage.asc": [
        (2.510001, 0x100, F, T, F, 1, 0, "", F, T, F, F),
        (2.520002, 0x200, F, T, F, 2, 0, "", F, F, F, F),
        (2.584921, 0x300, F, T, F, 3, 8, "", F, T, F, F),
    ],
}


@needs_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_vector_files(name: str) -> None:
    assert_rows(read_rows(DATA / name), EXPECTED[name])


def parse_candump_text(text: str) -> list[dict[str, Any]]:
    """An independent, minimal reading of `candump -L` lines (can-utils lib.c layout)."""
    frames = []
    for line in text.splitlines():
        ts, iface, frame = line.split()[:3]
        ident, data = frame.split("#", 1)
        value = int(ident, 16)
        f: dict[str, Any] = {
            "ts": float(ts[1:-1]),
            "iface": iface,
            "id": value & 0x1FFFFFFF,
            "ext": len(ident) == 8,
            "err": bool(value & 0x20000000),
            "fd": data.startswith("#"),
            "brs": False,
            "esi": False,
            "remote": False,
        }
        if f["fd"]:
            flags = int(data[1], 16)
            f["brs"], f["esi"] = bool(flags & 1), bool(flags & 2)
            data = data[2:]
        if data.startswith("R"):
            f["remote"], f["dlc"], f["data"] = True, int(data[1:] or "0"), ""
        else:
            f["data"], f["dlc"] = data.lower(), len(data) // 2
        frames.append(f)
    return frames


@needs_data
def test_log2asc_output_holds_the_candump_frames() -> None:
    # log2asc_vcan.asc was made from candump_vcan.log with vcan0 = channel 1, vcan1 = channel 2:
    # times relative to the first frame, error frames without their class (ASC has none), and
    # zero-length CAN FD frames as data frames (CAN FD has no remote frames).
    frames = parse_candump_text((DATA / "candump_vcan.log").read_text())
    got = read_rows(DATA / "log2asc_vcan.asc")
    assert len(got) == len(frames) == 512
    t0 = frames[0]["ts"]
    for g, f in zip(got, frames):
        assert abs(g[0] - (f["ts"] - t0)) < 2e-6, (g, f)
        assert g[5] == {"vcan0": 0, "vcan1": 1}[f["iface"]]
        if f["err"]:
            assert g[4] and not g[8], (g, f)
            continue
        want = (f["id"], f["ext"], f["remote"], False, f["dlc"], f["data"], f["fd"], True)
        assert g[1:5] + g[6:10] == want, (g, f)
        assert (g[10], g[11]) == (f["brs"], f["esi"])
    # The zero-length CAN FD frame sent by hand ("456##0") is a data frame.
    assert got[8][1] == 0x456 and got[8][8] and not got[8][3] and got[8][6] == 0


@needs_data
def test_absolute_timestamps_from_the_date_line() -> None:
    # "date Thu Nov 26 17:45:48 2026" (local time, no milliseconds) plus the relative times.
    start = datetime(2026, 11, 26, 17, 45, 48).timestamp()
    rel = read_rows(DATA / "log2asc_vcan.asc")
    absolute = read_rows(DATA / "log2asc_vcan.asc", relative_timestamp=False)
    assert [r[0] + start for r in rel] == [a[0] for a in absolute]
    # The Begin Triggerblock date wins over the date line: "Sat Sep 30 10:06:13.191 PM 2017".
    start = datetime(2017, 9, 30, 22, 6, 13, 191000).timestamp()
    got = read_rows(DATA / "test_CanMessage.asc", relative_timestamp=False)
    assert [g[0] for g in got] == [2.501 + start, 17.876708 + start]
    # German weekday ("Sam"), 24-hour clock.
    start = datetime(2017, 9, 30, 15, 6, 13, 191000).timestamp()
    got = read_rows(DATA / "test_CanFdMessage.asc", relative_timestamp=False)
    assert got[0][0] == 30.005021 + start


@needs_data
@needs_ref
@pytest.mark.parametrize("name", sorted([*EXPECTED, "log2asc_vcan.asc"]))
def test_upstream_reads_the_same_frames(name: str) -> None:
    want = ref_rows(DATA / name)
    got = read_rows(DATA / name)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = list(g), list(w)
        # README: python-can 4.6.1 reads a zero-length CAN FD frame as a remote frame.
        if w[8] and w[3] and w[7] == "" and not g[3]:
            w[3] = False
        # The CANFD line with RTR and without FDF in its flags: a classic remote frame.
        if name == "logfile.asc" and w[1] == 0x50005:
            w[8] = False
        assert abs(g[0] - w[0]) < 1e-9 and g[1:] == w[1:], (g, w)


REF_SCRIPT = """
import json, sys, can
reader = can.ASCReader if sys.argv[1].endswith(".asc") else can.CanutilsLogReader
rows = [[m.timestamp, m.arbitration_id, m.is_extended_id, m.is_remote_frame, m.is_error_frame,
         m.channel, m.dlc, bytes(m.data).hex(), m.is_fd, m.is_rx, m.bitrate_switch,
         m.error_state_indicator] for m in reader(sys.argv[1])]
json.dump(rows, sys.stdout)
"""


def ref_rows(path: pathlib.Path) -> list[Row]:
    import json

    proc = subprocess.run(
        [str(REF_PYTHON), "-c", REF_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [tuple(r) for r in json.loads(proc.stdout)]


# -- what is read -------------------------------------------------------------------------------


def asc(text: str) -> io.StringIO:
    return io.StringIO(textwrap.dedent(text))


def test_events_other_than_frames_are_skipped() -> None:
    got = read_rows(
        asc(
            """\
            date Sam Sep 30 15:06:13.191 2017
            base hex  timestamps absolute
            internal events logged
            // version 9.0.0
            Begin Triggerblock Sam Sep 30 15:06:13.191 2017
               0.000000 Start of measurement
               0.015991 CAN 1 Status:chip status error passive - TxErr: 132 RxErr: 0
               1.015991 1  Statistic: D 0 R 0 XD 0 XR 0 E 0 O 0 B 0.00%
               3.297743 1  J1939TP FEE3p        6    0  0   -   Rx   d 23 A0 0F A6 60
               3.500000 1  123 TxRq d 1 00
               3.600000 SV: 1 0 1 ::Var = 1
               4.000000 1  7FF  Rx  d 1 AB
            End TriggerBlock
            """
        )
    )
    assert got == [(4.0, 0x7FF, F, F, F, 0, 1, "ab", F, T, F, F)]


def test_relative_timestamps_header_counts_from_the_previous_event() -> None:
    got = read_rows(
        asc(
            """\
            base hex  timestamps relative
             1.000000 1  1  Rx  d 0
             0.500000 1  Statistic: D 0
             0.250000 1  2  Rx  d 0
            """
        )
    )
    assert [g[0] for g in got] == [1.0, 1.75]


def test_decimal_base() -> None:
    got = read_rows(asc("base dec  timestamps absolute\n 1.0 1 291 Rx d 2 255 16\n"))
    assert got[0][1] == 0x123 and got[0][7] == "ff10"
    got = read_rows(asc(" 1.0 1 291 Rx d 2 255 16\n"), base="dec")
    assert got[0][1] == 0x123
    with pytest.raises(ValueError, match="base"):
        ASCReader(asc(""), base="oct")


def test_unreadable_date_warns_and_keeps_every_frame() -> None:
    text = "date 2017-09-30T15:06:13\n 1.0 1 1 Rx d 0\n 2.0 1 2 Rx d 0\n"
    with pytest.warns(UserWarning, match="2017-09-30T15:06:13"):
        got = read_rows(asc(text), relative_timestamp=False)
    assert [g[0] for g in got] == [1.0, 2.0]
    # Not needed, not parsed: no warning with relative timestamps.
    assert len(read_rows(asc(text))) == 2


def test_latin1_file_with_german_month() -> None:
    text = "date Mi M\xe4r 01 08:30:00.000 2023\n 1.0 1 1 Rx d 0\n".encode("latin-1")
    got = read_rows(io.BytesIO(text), relative_timestamp=False)
    assert got[0][0] == 1.0 + datetime(2023, 3, 1, 8, 30).timestamp()


def test_path_and_binary_file_and_closing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "x.asc"
    path.write_text(" 1.0 1 1 Rx d 0\n")
    reader = ASCReader(path)
    assert reader.file is not None and not reader.file.closed
    assert len(list(reader)) == 1
    assert reader.file.closed
    assert len(read_rows(str(path))) == 1
    with path.open("rb") as f:
        assert len(read_rows(f)) == 1


def test_message_class() -> None:
    class MyMessage(can.Message):
        __slots__ = ()

    msgs = list(ASCReader(asc(" 1.0 1 1 Rx d 0\n"), message_class=MyMessage))
    assert type(msgs[0]) is MyMessage


# -- malformed input ----------------------------------------------------------------------------

MALFORMED = [
    " 1.0 1 123 Rx d 8 01 02\n",
    " 1.0 1 123 Rx d 2 01 GG\n",
    " 1.0 1 20000000 Rx d 0\n",
    " 1.0 1 20000000x Rx d 0\n",
    " 1.0 1 123 Rx q 0\n",
    " 1.0.0 1 123 Rx d 0\n",
    " 1.0 CANFD 1 Rx 123 1 0 8 8 01 02\n",
    " 1.0 CANFD 1 Rx 123 1 0 8 65\n",
    "base oct\n",
]


@pytest.mark.parametrize("bad", MALFORMED)
def test_malformed_line_names_file_and_line(bad: str, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.asc"
    path.write_text(f" 0.5 1 1 Rx d 0\n{bad} 2.0 1 2 Rx d 0\n")
    reader = iter(ASCReader(path))
    assert next(reader).arbitration_id == 1
    with pytest.raises(ASCParseError, match=r"bad\.asc: line 2: ") as info:
        next(reader)
    assert isinstance(info.value, can.CanError) and isinstance(info.value, ValueError)

    reader2 = ASCReader(path, strict=False)
    with pytest.warns(UserWarning, match=r"skipped 1 malformed line\(s\); the first: line 2"):
        got = list(reader2)
    assert [m.arbitration_id for m in got] == [1, 2]
    assert reader2.skipped_lines == 1


def _blf_bytes() -> bytes:
    out = io.BytesIO()
    with can.BLFWriter(out) as writer:
        for i in range(50):
            writer(can.Message(timestamp=1.0 + i, arbitration_id=0x100 + i, data=[i] * 8))
        return out.getvalue()


NOT_ASC = {
    "binary": bytes(range(256)) * 10,
    "blf": _blf_bytes(),
    "candump": b"(1.000000) can0 123#0102\n(2.000000) can0 124#05\n",
    "text": b"hello world\nthis is not an ASC file\n",
    "utf16-le-bom": "base hex\n 1.0 1 123 Rx d 1 05\n".encode("utf-16"),
    "utf16-be-bom": b"\xfe\xff" + "base hex\n 1.0 1 123 Rx d 1 05\n".encode("utf-16-be"),
    "utf16-le": "base hex\n 1.0 1 123 Rx d 1 05\n".encode("utf-16-le"),
}


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("kind", sorted(NOT_ASC))
def test_file_without_any_asc_line_is_an_error_naming_it(
    kind: str, strict: bool, tmp_path: pathlib.Path
) -> None:
    # Issue 19: these read as an empty log before. Any ASCParseError naming the file will do
    # for the binary inputs (a line of them may be a malformed event line); the text ones
    # hold no ASC line at all.
    path = tmp_path / "x.asc"
    path.write_bytes(NOT_ASC[kind])
    got: list[can.Message] = []
    with pytest.raises(ASCParseError, match=r"x\.asc: ") as info:
        with warnings.catch_warnings():
            # strict=False: skipped lines are reported at the end, before the error.
            warnings.simplefilter("ignore")
            got.extend(ASCReader(path, strict=strict))
    assert got == []
    if kind.startswith("utf16-") and kind.endswith("bom"):
        assert "not an ASC file: it is UTF-16" in str(info.value)
    elif kind in ("candump", "text", "utf16-le"):
        assert "not an ASC file: none of its" in str(info.value)


def test_empty_and_header_only_files_hold_no_messages(tmp_path: pathlib.Path) -> None:
    # python-can 4.x reads an empty file as no messages; a header without events is ASC.
    for text in ["", "\n\n \t\n", "date Mon Jan 1 00:00:00 2024\nbase hex  timestamps absolute\n"]:
        path = tmp_path / "e.asc"
        path.write_text(text)
        assert list(ASCReader(path)) == []


@needs_data
@pytest.mark.parametrize("name", ["test_CanMessage.asc", "test_CanFdMessage.asc", "logfile.asc"])
def test_cr_only_line_endings_read_as_python_can_reads_them(
    name: str, tmp_path: pathlib.Path
) -> None:
    # Python's text files end a line at a lone "\r" too (universal newlines), so python-can
    # reads a file with classic Mac line endings frame by frame; so do we.
    text = (DATA / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    assert b"\n" not in text
    path = tmp_path / name
    path.write_bytes(text)
    assert_rows(read_rows(path), EXPECTED[name])


@needs_ref
def test_upstream_reads_cr_only_files_as_we_do(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "cr.asc"
    path.write_bytes(
        b"date Mon Jan 1 00:00:00 2024\rbase hex  timestamps absolute\rinternal events logged\r"
        b"Begin Triggerblock Mon Jan 1 00:00:00 2024\r   0.000000 Start of measurement\r"
        b"   1.500000 1  123             Rx   d 2 01 02\r"
        b"   2.000000 2  1ABx            Tx   d 1 05\rEnd TriggerBlock\r"
    )
    want = ref_rows(path)
    assert len(want) == 2
    assert_rows(read_rows(path), want)


def test_canfd_flags_contradicting_the_explicit_fields_lose_to_them_with_a_warning(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / "fd.asc"
    path.write_text(
        "base hex  timestamps absolute\n"
        # Flags 10: the RTR bit without FDF, but 8 data bytes on the line.
        "   1.0 CANFD 1 Rx 123 0 0 8 8 11 22 33 44 55 66 77 88 130000 130 10 0 0 0 0 0\n"
        # Flags 1 (a cut 3000): no FDF, but BRS 1.
        "   2.0 CANFD 1 Rx 124 1 0 8 8 11 22 33 44 55 66 77 88 130000 130 1\n"
        # Flags not a number.
        "   3.0 CANFD 1 Rx 125 0 1 9 12 01 02 03 04 05 06 07 08 09 0a 0b 0c 130000 130 zz\n"
    )
    with pytest.warns(UserWarning, match=r"fd\.asc: line 2: the Flags field 10 .*RTR") as record:
        msgs = list(ASCReader(path))
    assert len(record) == 1
    assert [bytes(m.data) for m in msgs] == [
        bytes.fromhex("1122334455667788"),
        bytes.fromhex("1122334455667788"),
        bytes(range(1, 13)),
    ]
    assert [m.is_remote_frame for m in msgs] == [False, False, False]
    assert [(m.is_fd, m.bitrate_switch, m.error_state_indicator) for m in msgs] == [
        (False, False, False),
        (True, True, False),
        (True, False, True),
    ]


def test_truncated_file_yields_every_complete_frame() -> None:
    # the input ends inside line 2 (a writer killed mid-line): no error, a warning (issue 11)
    reader = iter(ASCReader(asc(" 1.0 1 1 Rx d 2 01 02\n 2.0 1 2 Rx d 8 01 02 0")))
    assert next(reader).arbitration_id == 1
    with pytest.warns(
        can.io.TruncatedLogWarning,
        match="ends inside line 2, which is left out .*8 data bytes expected, found 3",
    ):
        assert next(reader, None) is None
    # the same line with its line break is a malformed line, an error
    reader = iter(ASCReader(asc(" 1.0 1 1 Rx d 2 01 02\n 2.0 1 2 Rx d 8 01 02 0\n")))
    assert next(reader).arbitration_id == 1
    with pytest.raises(ASCParseError, match="line 2: 8 data bytes expected, found 3"):
        next(reader)


ENDLESS_LINE = """
class EndlessLine(io.RawIOBase):
    # A binary stream of `size` bytes of 'x' without a newline, then one frame line.

    def __init__(self, size):
        self.left = size
        self.tail = b"\\n 2.0 1 2 Rx d 0\\n"
        self.chunk = b"x" * (1 << 20)

    def readable(self):
        return True

    def read(self, n=-1):
        if self.left > 0:
            k = min(self.left, n if n > 0 else len(self.chunk), len(self.chunk))
            self.left -= k
            return self.chunk if k == len(self.chunk) else self.chunk[:k]
        out, self.tail = self.tail, b""
        return out
"""


def endless_line(size: int) -> Any:
    namespace: dict[str, Any] = {"io": io}
    exec(ENDLESS_LINE, namespace)
    return namespace["EndlessLine"](size)


def test_long_line_is_a_typed_error() -> None:
    reader = iter(ASCReader(endless_line(5 << 20)))
    with pytest.raises(ASCParseError, match="line 1 is longer than 1048576 bytes"):
        next(reader)
    reader2 = ASCReader(endless_line(5 << 20), strict=False)
    with pytest.warns(UserWarning, match="line 1 is longer"):
        assert [m.arbitration_id for m in reader2] == [2]


def test_one_gigabyte_line_does_not_exhaust_memory() -> None:
    # In a child process, so that its peak resident size is this test's alone. On Linux the
    # peak is the child's own VmHWM: getrusage's ru_maxrss keeps the high-water mark of the
    # process image replaced by exec, the forked copy of pytest, whose size grows with the
    # suite (past 200 MiB under CPython 3.13) whatever the reader does.
    script = (
        "import io, resource, warnings\nimport can\n"
        + ENDLESS_LINE
        + textwrap.dedent(
            """
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            msgs = list(can.ASCReader(EndlessLine(1 << 30), strict=False))
        assert [m.arbitration_id for m in msgs] == [2], msgs
        try:
            with open("/proc/self/status") as status:
                hwm = [line.split()[1] for line in status if line.startswith("VmHWM:")]
        except OSError:
            hwm = []
        print(hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        """
        )
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    peak_kib = int(proc.stdout.split()[-1])
    assert peak_kib < 200 * 1024, f"peak RSS {peak_kib} KiB"


# -- writing ------------------------------------------------------------------------------------


def msg(**kwargs: Any) -> can.Message:
    kwargs.setdefault("is_extended_id", False)
    return can.Message(**kwargs)


def test_writer_layout() -> None:
    out = io.StringIO()
    t0 = datetime(2017, 9, 30, 15, 6, 13, 191000).timestamp()
    with ASCWriter(out) as w:
        w(msg(timestamp=t0, arbitration_id=0x123, data=b"\xde\xad\xbe\xef"))
        w(
            msg(
                timestamp=t0 + 1.5,
                arbitration_id=0x1C4D80A7,
                is_extended_id=True,
                is_fd=True,
                bitrate_switch=True,
                data=b"\x11\x22\x33",
                channel=1,
                is_rx=False,
            )
        )
        w(msg(timestamp=t0 + 2.0, arbitration_id=0x100, is_remote_frame=True, dlc=3))
        w(msg(timestamp=t0 + 2.5, is_error_frame=True, channel="can3"))
        w(msg(timestamp=t0 + 1.0, arbitration_id=0x7FF))  # earlier: the previous time
        w.log_event("hello", t0 + 3.0)
        w.log_event("", t0 + 4.0)  # empty messages are not written
        w.log_event(None, t0 + 4.0)
    lines = out.getvalue().splitlines()
    assert lines == [
        "date Sat Sep 30 15:06:13.191 2017",
        "base hex  timestamps absolute",
        "internal events logged",
        "// version 9.0.0",
        "Begin Triggerblock Sat Sep 30 15:06:13.191 2017",
        "   0.000000 Start of measurement",
        "   0.000000 1  123             Rx   d 4 DE AD BE EF",
        "   1.500000 CANFD   2 Tx   1C4D80A7x                                   1 0 3  3 11 22 33"
        "        0    0     3000        0        0        0        0        0",
        "   2.000000 1  100             Rx   r 3",
        "   2.500000 4  ErrorFrame",
        "   2.500000 1  7FF             Rx   d 0",
        "   3.000000 hello",
        "End TriggerBlock",
    ]


def test_writer_channel_and_timestamps_defaults(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "out.asc"
    with ASCWriter(path, channel=5) as w:
        w(msg(timestamp=None, arbitration_id=1))  # type: ignore[arg-type]
        w(msg(timestamp=7.0, arbitration_id=2, channel="vcan2"))
    lines = path.read_text().splitlines()
    assert lines[0] == f"date {datetime.fromtimestamp(0).strftime('%a %b %d %H:%M:%S.000 %Y')}"
    assert lines[6] == "   0.000000 5  1               Rx   d 0"
    assert lines[7] == "   7.000000 3  2               Rx   d 0"
    assert w.file is not None and w.file.closed


def test_writer_binary_file_and_empty_file() -> None:
    out = io.BytesIO()
    ASCWriter(out).stop()
    text = out.getvalue().decode()
    assert text.endswith("Start of measurement\nEnd TriggerBlock\n")
    assert read_rows(io.BytesIO(out.getvalue())) == []
    with pytest.raises(ValueError, match="append"):
        ASCWriter(io.StringIO(), append=True)


def test_writer_rejects_values_it_cannot_store() -> None:
    w = ASCWriter(io.StringIO())
    with pytest.raises(ValueError, match="arbitration_id"):
        w(msg(arbitration_id=-1))
    with pytest.raises(ValueError, match="data"):
        w(msg(arbitration_id=1, data=bytes(65), check=False))
    w.stop()


frames = st.builds(
    lambda ext, rid, fd, brs, esi, remote, err, data, ch, rx, dt: dict(
        is_extended_id=ext,
        arbitration_id=rid & (0x1FFFFFFF if ext else 0x7FF),
        is_fd=fd and not remote and not err,
        bitrate_switch=brs and fd and not remote and not err,
        error_state_indicator=esi and fd and not remote and not err,
        is_remote_frame=remote and not err,
        is_error_frame=err,
        data=b"" if remote or err else data[: 64 if fd else 8],
        channel=ch,
        is_rx=rx,
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
    st.integers(0, 7),
    st.booleans(),
    st.integers(0, 5_000_000),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(frames, min_size=1, max_size=30))
def test_written_files_read_back(items: list[dict[str, Any]]) -> None:
    out = io.StringIO()
    t = 1_700_000_000.0
    msgs = []
    with ASCWriter(out) as w:
        for d in items:
            d = dict(d)
            t += d.pop("dt") / 1e6
            m = can.Message(timestamp=t, **d)
            if m.is_remote_frame:
                m.dlc = d["arbitration_id"] % 9
            msgs.append(m)
            w(m)
    got = read_rows(io.StringIO(out.getvalue()))
    t0 = msgs[0].timestamp
    assert len(got) == len(msgs)
    for g, m in zip(got, msgs):
        want = row(m)
        assert abs(g[0] - (want[0] - t0)) < 1.5e-6
        if m.is_error_frame:
            assert g[4] and g[5] == m.channel
            continue
        assert g[1:] == want[1:], (g, want)


# -- other tools read what we write, we read what they write -----------------------------------


def sample_messages() -> list[can.Message]:
    t0 = 1_795_715_148.716977
    out = [
        msg(timestamp=t0, arbitration_id=0x123, data=b"\xde\xad\xbe\xef", channel=0),
        msg(timestamp=t0 + 0.01, arbitration_id=0x7FF, channel=0, is_rx=False),
        msg(timestamp=t0 + 0.02, arbitration_id=0x1FFFFFFF, is_extended_id=True, data=b"\1\2"),
        msg(timestamp=t0 + 0.03, arbitration_id=0x12345678, is_extended_id=True,
            is_remote_frame=True, channel=0),
        msg(timestamp=t0 + 0.04, arbitration_id=0x321, is_remote_frame=True, dlc=3, channel=0),
        msg(timestamp=t0 + 0.05, arbitration_id=0x123, is_fd=True, bitrate_switch=True,
            data=b"\x11\x22\x33", channel=1),
        msg(timestamp=t0 + 0.06, arbitration_id=0x456, is_fd=True, channel=1, is_rx=False),
        msg(timestamp=t0 + 0.07, arbitration_id=0x1ABCDEF0, is_extended_id=True, is_fd=True,
            bitrate_switch=True, error_state_indicator=True, data=bytes(range(64)), channel=1),
        msg(timestamp=t0 + 0.08, arbitration_id=0x7AB, is_fd=True, error_state_indicator=True,
            data=bytes(range(12)), channel=1),
        msg(timestamp=t0 + 0.09, is_error_frame=True, channel=0),
    ]  # fmt: skip
    for i in range(100):
        out.append(
            msg(
                timestamp=t0 + 0.1 + i * 0.001,
                arbitration_id=i * 0x10203 & 0x1FFFFFFF,
                is_extended_id=True,
                data=bytes((i + k) & 0xFF for k in range(i % 9)),
                channel=i % 2,
                is_rx=i % 3 != 0,
            )
        )
    return out


@needs_ref
def test_upstream_reads_what_we_write(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ours.asc"
    with ASCWriter(path) as w:
        for m in sample_messages():
            w(m)
    ours = read_rows(path)
    theirs = ref_rows(path)
    assert len(ours) == len(theirs) == 110
    for o, t in zip(ours, theirs):
        o, t = list(o), list(t)
        # README: python-can 4.6.1 reads a zero-length CAN FD frame as a remote frame.
        if t[8] and t[3] and o[7] == "":
            t[3] = False
        assert abs(o[0] - t[0]) < 1e-9 and o[1:] == t[1:], (o, t)


@needs_can_utils
def test_asc2log_reads_what_we_write(tmp_path: pathlib.Path) -> None:
    # asc2log output of our ASC reads back identically: the same frames, with the same times
    # relative to the first frame (asc2log takes the date in the de_DE locale, which may be
    # missing, and then starts at the current time), "can<n-1>" for ASC channel n, and error
    # frames as bus errors (ASC error frames carry no class).
    asc_path, log_path = tmp_path / "ours.asc", tmp_path / "a2l.log"
    sent = sample_messages()
    with ASCWriter(asc_path) as w:
        for m in sent:
            w(m)
    subprocess.run(
        ["asc2log", "-I", str(asc_path), "-O", str(log_path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    back = list(can.CanutilsLogReader(log_path))
    assert len(back) == len(sent)
    for s, b in zip(sent, back):
        assert abs((b.timestamp - back[0].timestamp) - (s.timestamp - sent[0].timestamp)) < 2e-6
        assert b.channel == f"can{s.channel or 0}"
        if s.is_error_frame:
            assert b.is_error_frame
            continue
        assert row(b)[1:5] + row(b)[6:] == row(s)[1:5] + row(s)[6:], (row(b), row(s))


@needs_data
@needs_can_utils
def test_we_read_log2asc_output_of_our_log(tmp_path: pathlib.Path) -> None:
    # Our .log converted by log2asc reads identically (times from the first frame, vcan<n> as
    # ASC channel n+1, error frames without their class).
    log_path, asc_path = tmp_path / "ours.log", tmp_path / "l2a.asc"
    sent = list(can.CanutilsLogReader(DATA / "candump_vcan.log"))
    with can.CanutilsLogWriter(log_path) as w:
        for m in sent:
            w(m)
    subprocess.run(
        ["log2asc", "-I", str(log_path), "-O", str(asc_path), "vcan0", "vcan1"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    back = list(ASCReader(asc_path))
    assert len(back) == len(sent) == 512
    for s, b in zip(sent, back):
        assert abs(b.timestamp - (s.timestamp - sent[0].timestamp)) < 2e-6
        assert b.channel == int(str(s.channel)[-1])
        if s.is_error_frame:
            assert b.is_error_frame
            continue
        assert row(b)[1:5] + row(b)[6:] == row(s)[1:5] + row(s)[6:], (row(b), row(s))


@pytest.mark.parametrize(("base", "length"), [("hex", "40"), ("hex", "0C"), ("dec", "64")])
def test_classic_line_with_an_fd_length_reads_every_byte(base: str, length: str) -> None:
    # "d 40" with 64 bytes (a CAN FD length where a DLC is expected, as some tools write FD
    # frames): every byte the line carries is read, and the frame is CAN FD
    n = int(length, 16 if base == "hex" else 10)
    data = " ".join(f"{i:02X}" if base == "hex" else str(i) for i in range(n))
    got = list(
        ASCReader(
            asc(
                f"""\
                base {base}  timestamps absolute
                   1.500000 1  123             Rx   d {length} {data}
                """
            )
        )
    )
    assert [(m.dlc, bytes(m.data), m.is_fd) for m in got] == [(n, bytes(range(n)), True)]
