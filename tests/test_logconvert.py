"""can-logconvert / python -m can.logconvert / can.logconvert.convert.

The converted files are checked by reading them back with the readers of both formats: every
frame must arrive with the same fields (times to the microsecond the text formats keep).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import warnings
from typing import Any

import pytest

import can
from can.logconvert import convert, parse_filter

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = pathlib.Path(os.environ.get("CAN_SHARED_DATA", ROOT.parent / "shared" / "data"))
needs_data = pytest.mark.skipif(
    not (DATA / "candump_vcan.log").exists(), reason=f"shared test data not found in {DATA}"
)


def frames(path: pathlib.Path) -> list[can.Message]:
    with can.LogReader(path) as reader:
        return list(reader)


def key(m: can.Message) -> dict[str, Any]:
    names = (
        "arbitration_id",
        "is_extended_id",
        "is_remote_frame",
        "is_error_frame",
        "dlc",
        "is_fd",
        "bitrate_switch",
        "error_state_indicator",
        "is_rx",
    )
    out = {n: getattr(m, n) for n in names}
    out["data"] = bytes(m.data)
    return out


def assert_same_frames(a: list[can.Message], b: list[can.Message], absolute: bool) -> None:
    assert len(a) == len(b)
    ta, tb = (0.0, 0.0) if absolute else (a[0].timestamp, b[0].timestamp)
    for x, y in zip(a, b):
        assert abs((x.timestamp - ta) - (y.timestamp - tb)) < 1.5e-6, (x, y)
        if x.is_error_frame:
            # ASC and BLF error frames carry no error class.
            assert y.is_error_frame
            continue
        kx, ky = key(x), key(y)
        if not y.is_extended_id and y.arbitration_id > 0xFFF:
            # A standard id above 0xFFF (not valid CAN; some Vector test files hold one) is
            # written with 8 digits in a candump log, which reads back as an extended id.
            del kx["is_extended_id"], ky["is_extended_id"]
        if y.is_fd and y.is_remote_frame and not x.is_fd:
            # A CAN FD remote frame (not valid CAN FD; one Vector test file holds one) becomes
            # a classic remote frame in a candump log, which has no FD remote syntax.
            for k in ("is_fd", "dlc", "bitrate_switch", "error_state_indicator"):
                del kx[k], ky[k]
        if not y.is_fd and y.dlc > 15:
            # Some Vector test files hold classic DLCs above 15, which text formats cannot
            # write (ASC keeps one hex digit, a candump log the byte count).
            del kx["dlc"], ky["dlc"]
        assert kx == ky, (x, y)


def run_cli(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.run(
        [sys.executable, "-m", "can.logconvert", *args],
        text=True,
        timeout=120,
        check=False,
        **kwargs,
    )


@needs_data
@pytest.mark.parametrize("via", [".asc", ".blf", ".log", ".log.gz", ".asc.gz"])
def test_candump_capture_through_every_format(via: str, tmp_path: pathlib.Path) -> None:
    src = DATA / "candump_vcan.log"
    mid, back = tmp_path / f"mid{via}", tmp_path / "back.log"
    assert run_cli(str(src), str(mid)).returncode == 0
    assert run_cli(str(mid), str(back)).returncode == 0
    original = frames(src)
    assert_same_frames(frames(mid), original, absolute=not via.startswith(".asc"))
    # ASC files count from their first frame; converted back their date (second
    # resolution) makes the times absolute again.
    assert_same_frames(frames(back), original, absolute=not via.startswith(".asc"))
    names = {m.channel for m in frames(back)}
    assert names == ({"vcan0", "vcan1"} if via.startswith(".log") else {"can0", "can1"})


@needs_data
def test_formats_outside_the_native_converter(tmp_path: pathlib.Path) -> None:
    # .csv (through can.LogReader / can.Logger): what CSV holds survives, filters apply
    src = DATA / "candump_vcan.log"
    csv = tmp_path / "mid.csv"
    proc = run_cli(str(src), str(csv), "--filter", "0:0", "1:0")  # every standard id
    assert proc.returncode == 0, proc.stderr
    original = [m for m in frames(src) if not m.is_extended_id]
    got = list(can.CSVReader(csv))
    assert len(got) == len(original) > 0
    for g, o in zip(got, original):
        assert (g.timestamp, g.arbitration_id, g.is_remote_frame, g.dlc, bytes(g.data)) == (
            o.timestamp,
            o.arbitration_id,
            o.is_remote_frame,
            o.dlc,
            bytes(o.data),
        )


@needs_data
@pytest.mark.parametrize(
    "name",
    ["test_CanFdMessage.blf", "test_CanFdMessage64.blf", "logfile.blf", "test_CanMessage.blf"],
)
def test_vector_blf_files_to_asc_and_log(name: str, tmp_path: pathlib.Path) -> None:
    src = DATA / name
    original = frames(src)
    for suffix in (".asc", ".log"):
        out = tmp_path / f"out{suffix}"
        stats = convert(src, out)
        assert stats["frames_read"] == stats["frames_written"] == len(original)
        assert_same_frames(frames(out), original, absolute=suffix == ".log")


@needs_data
def test_vector_asc_to_log_uses_the_date(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "out.log"
    convert(DATA / "test_CanFdMessage.asc", out)
    relative = frames(DATA / "test_CanFdMessage.asc")
    absolute = list(can.ASCReader(DATA / "test_CanFdMessage.asc", relative_timestamp=False))
    got = frames(out)
    assert [m.timestamp for m in got] == pytest.approx([m.timestamp for m in absolute], abs=1e-6)
    assert [key(m) for m in got] == [key(m) for m in relative]
    assert [m.channel for m in got] == ["can0", "can1", "can2"]


def write_log(path: pathlib.Path) -> None:
    path.write_text(
        "(1700000000.000000) vcan0 123#DEADBEEF R\n"
        "(1700000000.250000) vcan1 18DAF110##5AABB T\n"
        "(1700000000.500000) vcan0 7DF#0201 T\n"
        "(1700000000.750000) vcan0 20000004#0000080000000000\n"
    )


def test_filters(tmp_path: pathlib.Path) -> None:
    src, out = tmp_path / "in.log", tmp_path / "out.log"
    write_log(src)
    proc = run_cli("-f", "7DF:7FF", "18DAF110:1FFFFFFF", "--", str(src), str(out))
    assert proc.returncode == 0, proc.stderr
    assert [m.arbitration_id for m in frames(out)] == [0x18DAF110, 0x7DF]
    # 3 digits match standard ids only; a standard filter does not pass the extended 0x123.
    stats = convert(src, out, filters=[parse_filter("123:7FF")])
    assert stats["frames_written"] == 1
    assert parse_filter("18DAF110:1FFFFFFF")["extended"] is True
    assert parse_filter("7DFx:7FF") == {"can_id": 0x7DF, "can_mask": 0x7FF, "extended": True}
    bad = run_cli("-f", "12G:7FF", "--", str(src), str(out))
    assert bad.returncode != 0 and "is not a filter" in bad.stderr


def test_malformed_input(tmp_path: pathlib.Path) -> None:
    src, out = tmp_path / "bad.log", tmp_path / "out.asc"
    src.write_text("(1.0) can0 123#11\n(2.0) can0 12#1\n(3.0) can0 124#\n")
    proc = run_cli(str(src), str(out))
    assert proc.returncode == 1
    assert f"{src}: line 2: " in proc.stderr
    proc = run_cli("--skip-malformed", str(src), str(out))
    assert proc.returncode == 0
    assert "skipped 1 malformed line(s); the first: line 2" in proc.stderr
    assert [m.arbitration_id for m in frames(out)] == [0x123, 0x124]
    with pytest.raises(can.io.canutils.CanutilsLogParseError, match=r"bad\.log: line 2"):
        convert(src, out)


@pytest.mark.parametrize(
    "content",
    [
        b"(1.000000) can0 123#0102\n(2.000000) can0 124#05\n",
        bytes(range(256)) * 10,
        "base hex\n 1.0 1 123 Rx d 1 05\n".encode("utf-16"),
    ],
    ids=["candump", "binary", "utf16"],
)
@pytest.mark.parametrize("skip_malformed", [False, True])
def test_input_that_is_not_asc_fails_with_one_line(
    content: bytes, skip_malformed: bool, tmp_path: pathlib.Path
) -> None:
    # Issue 19: such inputs converted to an empty output with exit status 0 before.
    src, out = tmp_path / "in.asc", tmp_path / "out.log"
    src.write_bytes(content)
    args = ["--skip-malformed"] if skip_malformed else []
    proc = run_cli(*args, str(src), str(out))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"can-logconvert: error: {src}: "), lines
    with pytest.raises(can.io.asc.ASCParseError, match=r"in\.asc: "):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            convert(src, out, strict=not skip_malformed)


def test_errors_name_the_file(tmp_path: pathlib.Path) -> None:
    src = tmp_path / "in.log"
    write_log(src)
    with pytest.raises(FileNotFoundError) as info:
        convert(tmp_path / "missing.log", tmp_path / "out.asc")
    assert info.value.filename == str(tmp_path / "missing.log")
    with pytest.raises(ValueError, match="same file"):
        convert(src, src)
    with pytest.raises(ValueError, match=r"out\.xyz: cannot write a log file with suffix '\.xyz'"):
        convert(src, tmp_path / "out.xyz")
    with pytest.raises(ValueError, match=r"in\.xyz: cannot read"):
        convert(tmp_path / "in.xyz", tmp_path / "out.log")
    not_blf = tmp_path / "x.blf"
    not_blf.write_bytes(b"not a BLF file at all" * 10)
    with pytest.raises(can.io.blf.BLFParseError, match=r"x\.blf"):
        convert(not_blf, tmp_path / "out.log")
    proc = run_cli(str(src), str(tmp_path / "out.xyz"))
    assert proc.returncode == 1 and ".asc, .blf, .csv" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_progress_callback_and_interrupt(tmp_path: pathlib.Path) -> None:
    src, out = tmp_path / "in.log", tmp_path / "out.blf"
    src.write_text("".join(f"({i}.000000) can0 {i % 0x800:03X}#\n" for i in range(200_000)))
    calls: list[tuple[int, int]] = []
    stats = convert(src, out, progress=lambda b, n: calls.append((b, n)))
    assert calls[-1] == (src.stat().st_size, 200_000) == (stats["bytes_read"], 200_000)
    assert [n for _, n in calls[:-1]] == [65536, 131072, 196608]

    def stop(done: int, count: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        convert(src, out, progress=stop)


def test_blf_markers_become_asc_events(tmp_path: pathlib.Path) -> None:
    src, out = tmp_path / "in.blf", tmp_path / "out.asc"
    with can.BLFWriter(src) as w:
        w(can.Message(timestamp=1700000000.0, arbitration_id=1, is_extended_id=False))
        w.log_event("half time", 1700000000.5)
        w(can.Message(timestamp=1700000001.0, arbitration_id=2, is_extended_id=False))
    stats = convert(src, out)
    assert stats["markers"] == 1
    lines = out.read_text().splitlines()
    assert "   0.500000 half time" in lines
    assert [m.arbitration_id for m in frames(out)] == [1, 2]


def test_progress_bar_only_on_a_terminal(tmp_path: pathlib.Path) -> None:
    src, out = tmp_path / "in.log", tmp_path / "out.asc"
    write_log(src)
    proc = run_cli(str(src), str(out))
    assert proc.returncode == 0 and proc.stderr == ""
    pty = pytest.importorskip("pty")
    primary, secondary = pty.openpty()
    try:
        proc = run_cli(str(src), str(out), stderr=secondary)
        os.close(secondary)
        shown = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(primary)
    assert proc.returncode == 0
    assert b"100%" in shown and b"4 of 4 frames written" in shown


def test_console_script(tmp_path: pathlib.Path) -> None:
    script = pathlib.Path(sys.executable).parent / "can-logconvert"
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable} (not installed as a wheel)")
    src, out = tmp_path / "in.log", tmp_path / "out.blf"
    write_log(src)
    proc = subprocess.run(
        [str(script), str(src), str(out)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert [m.arbitration_id for m in frames(out)] == [0x123, 0x18DAF110, 0x7DF, 0x4]
