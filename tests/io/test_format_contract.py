"""The contract every registered log format keeps, run over the registry.

Each format that can be both written and read (``can.io.MESSAGE_WRITERS`` and
``MESSAGE_READERS``) is checked the same way, so a new format gets these tests by being
registered: mixed traffic written through ``can.Logger`` reads back through ``can.LogReader``
with every field the format holds (its ``LogFormat.holds``) intact, plain and gzip-compressed.
The expected values are the messages given to the writer, compared field by field.
"""

from __future__ import annotations

import math
import os
import pathlib
import random
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import can
from can.io.formats import FORMATS, MESSAGE_READERS, MESSAGE_WRITERS

ROUND_TRIP = sorted(s for s in MESSAGE_WRITERS if s in MESSAGE_READERS and s in FORMATS)
COMPRESSIBLE = [s for s in ROUND_TRIP if FORMATS[s].compressible]


def test_every_builtin_reader_format_is_in_the_contract() -> None:
    # the formats of python-can 3.3.2's Logger, each readable and writable, and MF4
    assert {".asc", ".blf", ".csv", ".db", ".log", ".mf4"} <= set(ROUND_TRIP)


def test_mixed_frames_have_equal_timestamps_of_different_kinds() -> None:
    # what read_order is about: the 100k run has frames of different kinds sharing a timestamp
    msgs = mixed_frames(random.Random(1), 100_000, ".mf4")
    by_time: dict[float, set[int]] = {}
    for m in msgs:
        by_time.setdefault(m.timestamp, set()).add(kind_rank(m))
    assert any(len(kinds) > 1 for kinds in by_time.values())


def channels(suffix: str) -> list[Any]:
    # ints for the formats that number channels, interface names for candump logs
    return ["vcan0", "vcan1"] if suffix == ".log" else [0, 1]


def mixed_frames(rng: random.Random, n: int, suffix: str) -> list[can.Message]:
    """``n`` messages of mixed traffic: 11/29-bit, remote, error and CAN FD frames."""
    chans = channels(suffix)
    t = 1_700_000_000.0 + rng.randrange(10**6) / 1e3
    out = []
    for _ in range(n):
        t += rng.randrange(0, 5000) / 1e6
        ext = rng.random() < 0.5
        can_id = rng.randrange(1 << 29) if ext else rng.randrange(1 << 11)
        kind = rng.random()
        kw: dict[str, Any] = {
            "timestamp": round(t, 6),
            "arbitration_id": can_id,
            "is_extended_id": ext,
            "channel": rng.choice(chans),
            "is_rx": rng.random() < 0.9,
        }
        if kind < 0.05:
            kw.update(is_remote_frame=True, dlc=rng.randrange(9))
        elif kind < 0.07:
            kw.update(
                is_error_frame=True,
                arbitration_id=rng.choice([0x4, 0x10, 0x40]),
                is_extended_id=True,
                data=bytes(rng.randrange(256) for _ in range(8)),
            )
        elif kind < 0.3:
            length = rng.choice([0, 1, 8, 12, 16, 20, 24, 32, 48, 64])
            kw.update(
                is_fd=True,
                bitrate_switch=rng.random() < 0.5,
                error_state_indicator=rng.random() < 0.2,
                data=bytes(rng.randrange(256) for _ in range(length)),
            )
        else:
            kw.update(data=bytes(rng.randrange(256) for _ in range(rng.randrange(9))))
        out.append(can.Message(**kw))
    return out


def view(msg: can.Message, suffix: str, t0: float) -> tuple[Any, ...]:
    """What ``suffix`` promises to keep of ``msg``."""
    holds = FORMATS[suffix].holds
    fields: list[Any] = [round(msg.timestamp - t0, 6), msg.is_error_frame]
    if not msg.is_error_frame or "error_data" in holds:
        fields += [msg.arbitration_id, msg.is_extended_id, msg.is_remote_frame, msg.dlc]
        fields.append(b"" if msg.is_remote_frame else bytes(msg.data))
    if "channel" in holds:
        fields.append(msg.channel)
    if "fd" in holds and not msg.is_error_frame:
        fields += [msg.is_fd, msg.bitrate_switch, msg.error_state_indicator]
    if "direction" in holds and not msg.is_error_frame:
        fields.append(msg.is_rx)
    return tuple(fields)


def relative(msgs: list[can.Message], suffix: str) -> list[tuple[Any, ...]]:
    if not msgs:
        return []
    t0 = msgs[0].timestamp
    return [view(m, suffix, t0) for m in msgs]


def kind_rank(msg: can.Message) -> int:
    return 1 if msg.is_error_frame else 2 if msg.is_remote_frame else 0


def read_order(sent: list[can.Message], suffix: str) -> list[can.Message]:
    """The order ``suffix`` reads ``sent`` back in: as written if the format holds "order",
    else by timestamp, frames of equal timestamps as data, then error, then remote frames."""
    if "order" in FORMATS[suffix].holds:
        return sent
    return sorted(sent, key=lambda m: (m.timestamp, kind_rank(m)))


def assert_same(got: list[can.Message], sent: list[can.Message], suffix: str) -> None:
    assert len(got) == len(sent)
    sent = read_order(sent, suffix)
    g, s = relative(got, suffix), relative(sent, suffix)
    for i, (a, b) in enumerate(zip(g, s)):
        # timestamps: microseconds (ASC and candump logs keep 6 decimals)
        assert math.isclose(a[0], b[0], abs_tol=2e-6), (i, a, b)
        assert a[1:] == b[1:], (suffix, i, got[i], sent[i])


def write_read(path: pathlib.Path, msgs: list[can.Message]) -> list[can.Message]:
    with can.Logger(path) as writer:
        for m in msgs:
            writer(m)
    reader = can.LogReader(path)
    try:
        return list(reader)
    finally:
        reader.stop()


@pytest.mark.parametrize("suffix", ROUND_TRIP)
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40))
def test_small_mixed_round_trips(tmp_path_factory: Any, suffix: str, seed: int, n: int) -> None:
    path = tmp_path_factory.mktemp("rt") / f"trace{suffix}"
    msgs = mixed_frames(random.Random(seed), n, suffix)
    assert_same(write_read(path, msgs), msgs, suffix)


@pytest.mark.parametrize("suffix", ROUND_TRIP)
@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_100k_mixed_frames_round_trip(tmp_path_factory: Any, suffix: str, seed: int) -> None:
    path = tmp_path_factory.mktemp("big") / f"trace{suffix}"
    msgs = mixed_frames(random.Random(seed), 100_000, suffix)
    assert_same(write_read(path, msgs), msgs, suffix)


@pytest.mark.parametrize("suffix", COMPRESSIBLE)
def test_gzip_compressed_round_trip(tmp_path: pathlib.Path, suffix: str) -> None:
    import gzip

    msgs = mixed_frames(random.Random(7), 500, suffix)
    path = tmp_path / f"trace{suffix}.gz"
    got = write_read(path, msgs)
    assert_same(got, msgs, suffix)
    # really gzip: the plain format is inside
    plain = tmp_path / f"plain{suffix}"
    with gzip.open(path, "rb") as f:
        plain.write_bytes(f.read())
    assert_same(list(can.LogReader(plain)), msgs, suffix)


@pytest.mark.parametrize("suffix", ROUND_TRIP)
def test_empty_log_reads_as_no_messages(tmp_path: pathlib.Path, suffix: str) -> None:
    assert write_read(tmp_path / f"empty{suffix}", []) == []


@pytest.mark.parametrize("suffix", ROUND_TRIP)
def test_writer_class_is_the_registered_one(tmp_path: pathlib.Path, suffix: str) -> None:
    writer = can.Logger(tmp_path / f"x{suffix}")
    try:
        assert type(writer) is MESSAGE_WRITERS[suffix]
        assert isinstance(writer, can.Listener)
    finally:
        writer.stop()
    reader = can.LogReader(tmp_path / f"x{suffix}")
    try:
        assert type(reader) is MESSAGE_READERS[suffix]
    finally:
        reader.stop()


@pytest.mark.parametrize("suffix", ROUND_TRIP)
def test_upper_case_suffix_is_the_same_format(tmp_path: pathlib.Path, suffix: str) -> None:
    msgs = mixed_frames(random.Random(3), 20, suffix)
    assert_same(write_read(tmp_path / f"TRACE{suffix.upper()}", msgs), msgs, suffix)


def test_the_registry_is_what_logger_uses(tmp_path: pathlib.Path) -> None:
    # a class assigned in MESSAGE_WRITERS/READERS is used by Logger/LogReader for its suffix
    class Collect(can.io.MessageWriter):
        seen: ClassVar[list[can.Message]] = []

        def __init__(self, file: Any, **kwargs: Any) -> None:
            super().__init__(None)
            self.path = file

        def on_message_received(self, msg: can.Message) -> None:
            self.seen.append(msg)

    class Three(can.io.MessageReader):
        def __init__(self, file: Any, **kwargs: Any) -> None:
            super().__init__(None)

        def __iter__(self) -> Any:
            return iter([can.Message(arbitration_id=i) for i in range(3)])

    MESSAGE_WRITERS[".xyz"] = Collect
    MESSAGE_READERS[".xyz"] = Three
    try:
        logger = can.Logger(tmp_path / "a.xyz")
        assert isinstance(logger, Collect)
        logger(can.Message(arbitration_id=9))
        assert [m.arbitration_id for m in Collect.seen] == [9]
        assert [m.arbitration_id for m in can.LogReader(tmp_path / "a.xyz")] == [0, 1, 2]
        assert ".xyz" in MESSAGE_WRITERS and ".xyz" in list(MESSAGE_READERS)
    finally:
        del MESSAGE_WRITERS[".xyz"]
        del MESSAGE_READERS[".xyz"]
    assert ".xyz" not in MESSAGE_WRITERS


def test_unknown_suffix_for_reading_names_the_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "trace.xyz"
    path.write_text("whatever")
    with pytest.raises(ValueError, match=r"trace\.xyz.*'\.xyz'.*\.asc, \.blf") as info:
        can.LogReader(path)
    assert isinstance(info.value, can.io.formats.UnknownFormatError)
    with pytest.raises(ValueError, match="no suffix"):
        can.LogReader(tmp_path / "noext")


def test_logger_other_suffix_and_none_are_printers(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # manual 3.4.3: "other: can.Printer"; None prints to standard output
    msg = can.Message(timestamp=1.0, arbitration_id=0x42, is_extended_id=False, data=[1])
    with can.Logger(tmp_path / "out.xyz") as printer:
        assert isinstance(printer, can.Printer)
        printer(msg)
    assert (tmp_path / "out.xyz").read_text() == str(msg) + "\n"
    with can.Logger(None) as printer:
        assert isinstance(printer, can.Printer) and not printer.write_to_file
        printer(msg)
    assert capsys.readouterr().out == str(msg) + "\n"


def test_logger_needs_a_path_not_a_file_object() -> None:
    import io

    with pytest.raises(TypeError, match=r"can\.ASCWriter"):
        can.Logger(io.StringIO())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="path"):
        can.LogReader(io.StringIO())  # type: ignore[arg-type]


def test_sqlite_cannot_be_gzip_compressed(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="SQLite files cannot be gzip-compressed"):
        can.Logger(tmp_path / "x.db.gz")


def test_logger_passes_arguments_on(tmp_path: pathlib.Path) -> None:
    # positional and keyword arguments go to the writer (here CanutilsLogWriter's channel)
    path = tmp_path / "x.log"
    with can.Logger(path, channel="can7") as writer:
        writer(can.Message(timestamp=1.0, arbitration_id=1, is_extended_id=False))
    assert path.read_text() == "(1.000000) can7 001# R\n"
    with can.Logger(path, append=True) as writer:
        writer(can.Message(timestamp=2.0, arbitration_id=2, is_extended_id=False))
    assert len(path.read_text().splitlines()) == 2


def test_formats_documented_in_the_registry_exist() -> None:
    for suffix, fmt in FORMATS.items():
        assert fmt.suffix == suffix and suffix == suffix.lower()
        if fmt.writer:
            assert MESSAGE_WRITERS[suffix].__name__ == fmt.writer[1]
        if fmt.reader:
            assert MESSAGE_READERS[suffix].__name__ == fmt.reader[1]
    assert os.path.splitext("x.txt")[1] in MESSAGE_WRITERS


# -- lose nothing: whatever a writer was given is in the file, however the program ends --------

CHILD = """
import signal, sys, time
import can
writer = can.Logger(sys.argv[1])
for i in range(int(sys.argv[3])):
    writer.on_message_received(can.Message(timestamp=1.7e9 + i * 0.001, arbitration_id=i,
                                           is_extended_id=True, data=[i & 0xFF]))
ending = sys.argv[2]
if ending == "exception":
    raise RuntimeError("the script fails")
if ending == "sigint":
    print("ready", flush=True)
    while True:
        time.sleep(0.01)
# "exit": the script just ends without stop()
"""


@pytest.mark.parametrize("ending", ["exit", "exception", "sigint"])
@pytest.mark.parametrize("suffix", ROUND_TRIP)
def test_program_ending_without_stop_loses_nothing(
    tmp_path: pathlib.Path, suffix: str, ending: str
) -> None:
    import signal
    import subprocess
    import sys

    n = 3000
    path = tmp_path / f"out{suffix}"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), ending, str(n)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if ending == "sigint":
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode == 0) == (ending == "exit"), err
    assert "Exception ignored" not in err, err
    with can.LogReader(path) as reader:
        assert [m.arbitration_id for m in reader] == list(range(n))


@pytest.mark.parametrize("suffix", ROUND_TRIP)
def test_writing_after_stop_is_an_error_at_once(tmp_path: pathlib.Path, suffix: str) -> None:
    path = tmp_path / f"out{suffix}"
    writer = can.Logger(path)
    writer(can.Message(timestamp=1.0, arbitration_id=1))
    writer.stop()
    with pytest.raises((ValueError, BufferError)):
        writer(can.Message(timestamp=2.0, arbitration_id=2))
    writer.stop()  # twice is fine
    with can.LogReader(path) as reader:
        assert [m.arbitration_id for m in reader] == [1]


@pytest.mark.parametrize("suffix", ROUND_TRIP)
def test_threads_share_one_writer(tmp_path: pathlib.Path, suffix: str) -> None:
    import threading

    path = tmp_path / f"out{suffix}"
    writer = can.Logger(path)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run(t: int) -> None:
        try:
            start.wait()
            for i in range(1000):
                writer(can.Message(timestamp=1.0 + i / 1000, arbitration_id=t * 10_000 + i))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    workers = [threading.Thread(target=run, args=(t,)) for t in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    writer.stop()
    assert errors == []
    with can.LogReader(path) as reader:
        ids = sorted(m.arbitration_id for m in reader)
    assert ids == [t * 10_000 + i for t in range(4) for i in range(1000)]


# -- a writer killed mid-run: the file reads up to the cut, without an exception ---------------

KILLED = """
import sys, time
import can
writer = can.Logger(sys.argv[1])
i = 0
while True:
    writer.on_message_received(can.Message(timestamp=1.7e9 + i * 0.001, arbitration_id=i & 0x7FF,
                                           is_extended_id=False, data=[i & 0xFF] * 8))
    i += 1
    if i == 20000:
        print("ready", flush=True)
    if i % 1000 == 0:
        time.sleep(0.001)
"""


@pytest.mark.parametrize("suffix", [s for s in ROUND_TRIP if s not in (".mf4", ".db")])
def test_writer_killed_mid_run_leaves_a_readable_file(tmp_path: pathlib.Path, suffix: str) -> None:
    # SIGKILL runs no clean-up: what the writer had handed to the file is there, cut anywhere;
    # reading gives every complete frame before the cut, in order, and at most a warning.
    # (MF4 is written at stop() only and SQLite commits in transactions: a kill leaves the last
    # committed state, checked below.)
    import signal
    import subprocess
    import sys
    import warnings

    path = tmp_path / f"killed{suffix}"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", can.io.TruncatedLogWarning)
        with can.LogReader(path) as reader:
            ids = [m.arbitration_id for m in reader]
    assert len(ids) >= 10000
    assert ids == [i & 0x7FF for i in range(len(ids))]


@pytest.mark.parametrize("suffix", [s for s in ROUND_TRIP if s not in (".mf4", ".db")])
def test_a_file_cut_anywhere_reads_up_to_the_cut(tmp_path: pathlib.Path, suffix: str) -> None:
    # no exception, only a TruncatedLogWarning at most, and a prefix of the frames
    import warnings

    msgs = mixed_frames(random.Random(11), 200, suffix)
    path = tmp_path / f"whole{suffix}"
    with can.Logger(path) as writer:
        for m in msgs:
            writer(m)
    blob = path.read_bytes()
    want = relative(msgs, suffix)
    cut_path = tmp_path / f"cut{suffix}"
    for cut in range(len(blob) // 3, len(blob), max(1, len(blob) // 37)):
        cut_path.write_bytes(blob[:cut])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", can.io.TruncatedLogWarning)
            with can.LogReader(cut_path) as reader:
                got = list(reader)
        assert len(got) < len(msgs) or cut >= len(blob) - 40
        # every frame before the cut as written; the frame whose line the cut ends may read
        # shorter where the cut leaves a line that still parses (a candump line cut in its data)
        view = relative(got, suffix)
        assert view[:-1] == want[: len(view) - 1], cut
        if view:
            assert view[-1][:4] == want[len(view) - 1][:4], cut
