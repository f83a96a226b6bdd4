"""The log writers lose nothing and never fail silently (issue 19, items 1-5 and 9).

Every test runs over every writer format: buffered data reaches the file however the program
ends (a dropped writer, an exception, Ctrl-C, the interpreter exiting), writes after stop()
or to a closed file raise at once, short writes of raw files are completed, several threads
share one writer, an append to a BLF file cut short keeps every frame, and message fields the
readers could not read back are refused.
"""

from __future__ import annotations

import gc
import io
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import warnings
import zlib
from pathlib import Path
from typing import Any, Callable

import pytest

import can

FORMATS: dict[str, tuple[Any, Any]] = {
    "asc": (can.ASCWriter, can.ASCReader),
    "log": (can.CanutilsLogWriter, can.CanutilsLogReader),
    "blf": (can.BLFWriter, can.BLFReader),
    "trc": (can.TRCWriter, can.TRCReader),
}


def message(i: int, t0: float = 1_700_000_000.0) -> can.Message:
    return can.Message(
        timestamp=t0 + i * 0.001,
        arbitration_id=i & 0x1FFFFFFF,
        is_extended_id=True,
        channel=0,
        data=i.to_bytes(4, "little"),
    )


def read_ids(suffix: str, path: Path) -> list[int]:
    reader = FORMATS[suffix][1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return [m.arbitration_id for m in reader(path)]


# -- 1: buffered data survives every way a program ends without stop() ----------------------

N = 1000


@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_dropped_writer_writes_everything(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out.{suffix}"
    writer = FORMATS[suffix][0](path)
    for i in range(N):
        writer.on_message_received(message(i))
    del writer
    assert read_ids(suffix, path) == list(range(N))


@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_writer_in_a_reference_cycle_writes_everything(tmp_path: Path, suffix: str) -> None:
    # The collector finalises the file object of the cycle too; the writer's data must be
    # in it before that.
    path = tmp_path / f"out.{suffix}"
    writer = FORMATS[suffix][0](path)
    for i in range(N):
        writer.on_message_received(message(i))
    writer.cycle = writer  # type: ignore[attr-defined]
    del writer
    gc.collect()
    assert read_ids(suffix, path) == list(range(N))


CHILD = """
import os, signal, sys, time
import can
writer = {cls}(sys.argv[1])
for i in range({n}):
    writer.on_message_received(can.Message(timestamp=1.7e9 + i * 0.001, arbitration_id=i,
                                           is_extended_id=True, channel=0))
ending = sys.argv[2]
if ending == "exception":
    raise RuntimeError("the script fails")
if ending == "sigint":
    print("ready", flush=True)
    while True:
        time.sleep(0.01)
if ending == "sys_exit":
    sys.exit(3)
# "exit": the script just ends
"""

ENDINGS = {"exception": 1, "sigint": None, "sys_exit": 3, "exit": 0}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_script_ending_without_stop_writes_everything(
    tmp_path: Path, suffix: str, ending: str
) -> None:
    path = tmp_path / f"out.{suffix}"
    script = CHILD.format(cls=f"can.{FORMATS[suffix][0].__name__}", n=N)
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(path), ending],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if ending == "sigint":
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if ending == "sigint":
        assert "KeyboardInterrupt" in err
        assert proc.returncode != 0
    else:
        assert proc.returncode == ENDINGS[ending], err
    # The data was written without an error being reported on the way: the only traceback
    # is the one of the exception that ended the script.
    assert err.count("Traceback") == (1 if ending in ("exception", "sigint") else 0), err
    assert "Exception ignored" not in err
    assert read_ids(suffix, path) == list(range(N))


# -- 2: writing after stop() or to a closed file raises at once --------------------------------


@pytest.mark.parametrize("sink", ["on_message_received", "call"])
@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_write_after_stop_raises_at_once(tmp_path: Path, suffix: str, sink: str) -> None:
    path = tmp_path / f"out.{suffix}"
    writer = FORMATS[suffix][0](path)
    writer.on_message_received(message(0))
    writer.stop()
    write: Callable[[can.Message], None] = (
        writer.on_message_received if sink == "on_message_received" else writer
    )
    with pytest.raises(ValueError, match="stopped"):
        write(message(1))
    writer.stop()  # still safe
    assert read_ids(suffix, path) == [0]


@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_write_to_a_file_the_caller_closed_raises_at_once(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out.{suffix}"
    f = open(path, "wb")
    writer = FORMATS[suffix][0](f)
    writer.on_message_received(message(0))
    f.close()
    with pytest.raises(ValueError, match="closed file"):
        writer.on_message_received(message(1))
    if suffix == "blf":
        # The container being filled could not be written: stop() says so.
        with pytest.raises(ValueError, match="could not be written"):
            writer.stop()
    else:
        writer.stop()  # every line went to the file as it came


@pytest.mark.parametrize("suffix", ["asc", "log"])
def test_text_writer_on_a_callers_file_keeps_lines_when_the_caller_closes_it(
    tmp_path: Path, suffix: str
) -> None:
    # `with open(...) as f:` closes the file without stop(): every line is in it.
    path = tmp_path / f"out.{suffix}"
    with open(path, "w") as f:
        writer = FORMATS[suffix][0](f)
        for i in range(N):
            writer.on_message_received(message(i))
    assert read_ids(suffix, path) == list(range(N))
    writer.stop()  # nothing buffered was lost: no error


# -- 3: short and None writes of raw files -------------------------------------------------------


class Trickle(io.RawIOBase):
    """A raw file that takes at most 7 bytes per write()."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        chunk = bytes(b)[:7]
        self.data += chunk
        return len(chunk)


@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_short_writes_of_a_raw_file_are_completed(tmp_path: Path, suffix: str) -> None:
    out = Trickle()
    writer = FORMATS[suffix][0](out)
    for i in range(200):
        writer.on_message_received(message(i))
    with warnings.catch_warnings():
        # The BLF header of a file that cannot seek keeps its placeholder values.
        warnings.simplefilter("ignore", RuntimeWarning)
        writer.stop()
    path = tmp_path / f"out.{suffix}"
    path.write_bytes(bytes(out.data))
    assert read_ids(suffix, path) == list(range(200))


@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_a_full_non_blocking_pipe_is_an_error_not_a_drop(suffix: str) -> None:
    r, w = os.pipe()
    try:
        os.set_blocking(w, False)
        with open(w, "wb", buffering=0, closefd=False) as raw:
            writer = FORMATS[suffix][0](raw)
            with pytest.raises(BlockingIOError):
                for i in range(20_000):  # far more than a pipe holds
                    writer.on_message_received(message(i))
            # What the pipe could not take is given up (else closing would try again).
            writer._writer.discard()
            writer._finalizer.detach()
    finally:
        os.close(r)
        os.close(w)


# -- 4: appending to a BLF file cut short ---------------------------------------------------------


def blf_objects(data: bytes, start: int) -> list[tuple[int, int, int]]:
    """(offset, size, type) of the top-level objects of a BLF file, as far as they go."""
    out = []
    pos = start
    while pos + 16 <= len(data):
        sig, _, _, size, kind = struct.unpack_from("<4sHHII", data, pos)
        assert sig == b"LOBJ"
        out.append((pos, size, kind))
        pos += size + size % 4
    return out


def complete_frames(data: bytes) -> int:
    """How many CAN_MESSAGE objects of a (possibly cut) BLF file are complete: inflated with
    zlib, independently of the reader."""
    header_size = struct.unpack_from("<I", data, 4)[0]
    stream = b""
    for pos, size, kind in blf_objects(data, header_size):
        assert kind == 10
        body = data[pos + 32 : pos + size]
        stream += zlib.decompressobj().decompress(body)
    count = 0
    pos = 0
    while pos + 16 <= len(stream):
        sig, _, _, size, kind = struct.unpack_from("<4sHHII", stream, pos)
        assert sig == b"LOBJ"
        if pos + size > len(stream):
            break
        count += kind == 1
        pos += size + size % 4
    return count


def write_blf(path: Path, ids: range, **kwargs: Any) -> None:
    with can.BLFWriter(path, max_container_size=1000, **kwargs) as writer:
        for i in ids:
            writer.on_message_received(message(i))


def cut_points(data: bytes) -> dict[str, int]:
    objs = blf_objects(data, 144)
    third = objs[3]
    return {
        "in the header": 60,
        "after the header": 144,
        "at a container boundary": third[0],
        "in a container header": third[0] + 20,
        "in a container": third[0] + third[1] // 2,
        "in the last container": len(data) - 10,
    }


@pytest.mark.parametrize(
    "where",
    [
        "in the header",
        "after the header",
        "at a container boundary",
        "in a container header",
        "in a container",
        "in the last container",
    ],
)
@pytest.mark.parametrize("placeholder_header", [False, True])
def test_blf_append_to_a_cut_file_keeps_every_frame(
    tmp_path: Path, where: str, placeholder_header: bool
) -> None:
    full = tmp_path / "full.blf"
    write_blf(full, range(100))
    data = full.read_bytes()
    if placeholder_header:
        # A logger killed before stop(): the header is the placeholder written at the start.
        out = io.BytesIO()
        placeholder = can.BLFWriter(out)
        data = out.getvalue()[:144] + data[144:]
        placeholder.stop()
    cut = cut_points(data)[where]
    path = tmp_path / "cut.blf"
    path.write_bytes(data[:cut])
    kept = complete_frames(data[:cut]) if cut >= 144 else 0
    assert kept < 100
    if cut >= 144:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            before = [(m.arbitration_id, m.timestamp) for m in can.BLFReader(path)]
        assert [i for i, _ in before] == list(range(kept))
    else:
        before = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_blf(path, range(1000, 1050), append=True)
    if where != "after the header":
        assert any("byte" in str(w.message) for w in caught), [str(w.message) for w in caught]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        after = [(m.arbitration_id, m.timestamp) for m in can.BLFReader(path)]
    assert [i for i, _ in after] == list(range(kept)) + list(range(1000, 1050))
    assert after[:kept] == before
    assert [t for _, t in after[kept:]] == pytest.approx(
        [message(i).timestamp for i in range(1000, 1050)], abs=1e-6
    )


def test_blf_append_to_a_complete_file_cuts_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.blf"
    write_blf(path, range(100))
    size = path.stat().st_size
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_blf(path, range(100, 150), append=True)
        assert path.read_bytes()[:size][144:] == path.read_bytes()[144:size]
        assert read_ids("blf", path) == list(range(150))


def test_blf_append_to_a_file_that_is_not_blf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.blf"
    path.write_bytes(b"not a BLF file at all, just some text\n" * 10)
    with pytest.raises(can.CanError):
        can.BLFWriter(path, append=True)
    assert path.read_bytes() == b"not a BLF file at all, just some text\n" * 10


# -- 5: threads sharing one writer -------------------------------------------------------------


class SlowFile(io.BytesIO):
    """A caller's file whose write() lets other threads run (sleeping in every large write
    and every 50th one) while a writer is inside it."""

    calls = 0

    def write(self, b: Any) -> int:
        self.calls += 1
        if len(b) > 1000 or self.calls % 50 == 0:
            time.sleep(0.0002)
        return super().write(b)


@pytest.mark.parametrize("threads", [2, 4])
@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_threads_share_one_writer(tmp_path: Path, suffix: str, threads: int) -> None:
    per_thread = 2000  # several 64 KiB blocks of text lines
    out = SlowFile()
    kwargs = {"max_container_size": 512} if suffix == "blf" else {}
    writer = FORMATS[suffix][0](out, **kwargs)
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def run(t: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                writer.on_message_received(message(t * 10_000 + i))
        except BaseException as e:
            errors.append(e)

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    writer.stop()
    assert errors == []
    path = tmp_path / f"out.{suffix}"
    path.write_bytes(out.getvalue())
    ids = read_ids(suffix, path)
    want = [t * 10_000 + i for t in range(threads) for i in range(per_thread)]
    assert sorted(ids) == want


# -- 9: fields the readers could not read back are refused -----------------------------------


@pytest.mark.parametrize("channel", [2**40, 2**31, 10**9, -2])
def test_asc_refuses_channels_it_cannot_read_back(channel: int) -> None:
    with can.ASCWriter(io.StringIO()) as writer:
        with pytest.raises(ValueError, match=str(channel)):
            writer.on_message_received(can.Message(channel=channel))


@pytest.mark.parametrize("channel", [-1, 0, 254, 999_999_998])
def test_asc_channels_in_range_read_back(tmp_path: Path, channel: int) -> None:
    path = tmp_path / "a.asc"
    with can.ASCWriter(path) as writer:
        writer.on_message_received(can.Message(timestamp=5.0, channel=channel))
    assert [m.channel for m in can.ASCReader(path)] == [channel]


def test_asc_refuses_a_start_time_without_a_date() -> None:
    with can.ASCWriter(io.StringIO()) as writer:
        with pytest.raises(ValueError, match=r"1e\+?300"):
            writer.on_message_received(can.Message(timestamp=1e300))


@pytest.mark.parametrize("suffix", ["asc", "log"])
def test_text_logs_read_back_huge_timestamps(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"a.{suffix}"
    with FORMATS[suffix][0](path) as writer:
        writer.on_message_received(can.Message(timestamp=1.0))
        writer.on_message_received(can.Message(timestamp=1e300))
        writer.on_message_received(can.Message(timestamp=1.7e308))
    times = [m.timestamp for m in FORMATS[suffix][1](path)]
    if suffix == "asc":  # relative to the first message
        times = [t + 1.0 for t in times]
    assert times == [1.0, 1e300, 1.7e308]


@pytest.mark.parametrize(
    "timestamp", [float("nan"), float("inf"), float("-inf"), -1.0, 1e20, 1e300]
)
def test_blf_refuses_timestamps_it_cannot_store(timestamp: float) -> None:
    with can.BLFWriter(io.BytesIO()) as writer:
        with pytest.raises(ValueError, match=f"timestamp is {timestamp!r}".replace("e+", "e")):
            writer.on_message_received(can.Message(timestamp=timestamp))
        writer.on_message_received(can.Message(timestamp=5.0))
        assert writer.object_count == 1


def test_blf_refuses_a_time_too_far_after_the_start() -> None:
    with can.BLFWriter(io.BytesIO()) as writer:
        writer.on_message_received(can.Message(timestamp=1.0))
        with pytest.raises(ValueError, match="584 years"):
            writer.on_message_received(can.Message(timestamp=2e10))
