"""What every native reader (the formats the registry marks ``native``) does as a Python object,
whatever its format: the one reader binding of ``can._core`` behind them.

Each test runs over the registry, so a new native format gets it by being registered. The
expected frames are the ones written, by id.
"""

from __future__ import annotations

import gc
import io
import pathlib
import threading
import time
import weakref
from typing import Any, Callable, Optional

import pytest

import can
from can.io.formats import FORMATS, MESSAGE_READERS

NATIVE = sorted(s for s, f in FORMATS.items() if f.native)
N = 300


def test_every_native_format_is_here() -> None:
    assert {".asc", ".blf", ".csv", ".log", ".trc"} <= set(NATIVE)


def log_bytes(tmp_path: pathlib.Path, suffix: str, n: int = N) -> bytes:
    path = tmp_path / f"in{suffix}"
    with can.Logger(path) as writer:
        for i in range(n):
            writer(can.Message(timestamp=1.0 + i / 1000, arbitration_id=i, data=bytes([i % 256])))
    return path.read_bytes()


class HookedFile(io.BytesIO):
    """A binary file whose read() returns at most ``chunk`` bytes and calls ``hook`` first."""

    def __init__(self, data: bytes, chunk: int) -> None:
        super().__init__(data)
        self.chunk = chunk
        self.hook: Optional[Callable[[], None]] = None

    def read(self, size: Optional[int] = -1) -> bytes:
        if self.hook is not None:
            self.hook()
        if size is None or size < 0 or size > self.chunk:
            size = self.chunk
        return super().read(size)


def reader_of(suffix: str, file: Any) -> Any:
    return MESSAGE_READERS[suffix](file)


@pytest.mark.parametrize("suffix", NATIVE)
def test_a_reentrant_read_from_the_file_is_a_runtime_error(
    tmp_path: pathlib.Path, suffix: str
) -> None:
    # the file's read() asks the reader that is reading it for the next message
    f = HookedFile(log_bytes(tmp_path, suffix), 4096)
    reader = reader_of(suffix, f)
    it = iter(reader)
    calls: list[BaseException] = []

    def hook() -> None:
        f.hook = None
        try:
            next(it)
        except BaseException as e:
            calls.append(e)

    f.hook = hook
    got = [m.arbitration_id for m in it]
    assert len(calls) == 1 and isinstance(calls[0], RuntimeError)
    assert "already in use by this thread" in str(calls[0])
    assert got == list(range(N))  # the outer iteration went on unharmed


@pytest.mark.parametrize("suffix", NATIVE)
def test_two_threads_share_one_reader(tmp_path: pathlib.Path, suffix: str) -> None:
    # read() sleeps (releasing the GIL) in the middle of a __next__: the other thread's
    # __next__ waits for it instead of failing, and every frame is handed out once
    f = HookedFile(log_bytes(tmp_path, suffix), 512)
    f.hook = lambda: time.sleep(0.0005)
    it = iter(reader_of(suffix, f))
    got: list[list[int]] = [[], []]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(k: int) -> None:
        try:
            start.wait()
            for m in it:
                got[k].append(m.arbitration_id)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(got[0] + got[1]) == list(range(N))


@pytest.mark.parametrize("suffix", NATIVE)
def test_a_cycle_through_the_file_is_collected(tmp_path: pathlib.Path, suffix: str) -> None:
    # the file object refers to the reader that reads it: the collector sees the cycle
    f = HookedFile(log_bytes(tmp_path, suffix, 3), 4096)
    f.owner = reader_of(suffix, f)  # type: ignore[attr-defined]
    gone = weakref.ref(f)
    del f
    gc.collect()
    assert gone() is None
