"""BLF -> Arrow table speed on one core, against the Message path in the same run.

Usage::

    python benches/bench_arrow.py [--n 1000000] [--repeat 3] [--workdir DIR]

Writes two BLF files of ``--n`` frames once with ``can.BLFWriter`` (level 6): *classic*
(standard and extended ids, 0-8 bytes, four channels, Rx and Tx) and *fd64* (CAN FD, 64
bytes, BRS). The process is pinned to one CPU. For each file, interleaved ``--repeat`` times
(the median is reported):

* ``arrow``: ``can.io.read_table(path)``, all 13 columns;
* ``messages``: ``sum(1 for _ in can.BLFReader(path))``, a ``can.Message`` per frame.

Rates are given by wall time and by the process's CPU time (the latter is less disturbed
when other jobs share the machine).

It also checks that both paths give the same ids, flags and payloads (a digest of each) and
prints frames/s and the ratio. Benchmarks are not tests and do not run in CI.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import can


def write(path: Path, n: int, fd: bool) -> None:
    rng = random.Random(5)
    payload64 = bytes(range(64))
    with can.BLFWriter(str(path), compression_level=6) as w:
        t = 1_700_000_000.0
        for i in range(n):
            t += 0.0001
            if fd:
                msg = can.Message(
                    timestamp=t,
                    arbitration_id=i & 0x7FF,
                    is_fd=True,
                    bitrate_switch=True,
                    data=payload64,
                    channel=i & 3,
                )
            else:
                ext = i & 1 == 1
                msg = can.Message(
                    timestamp=t,
                    arbitration_id=rng.randrange(1 << 29 if ext else 1 << 11),
                    is_extended_id=ext,
                    data=payload64[: i % 9],
                    channel=i & 3,
                    is_rx=i % 5 != 0,
                )
            w.on_message_received(msg)


def digest_table(table: object) -> str:
    h = hashlib.sha256()
    t = table  # pyarrow.Table
    ids = t.column("arbitration_id").to_pylist()  # type: ignore[attr-defined]
    ext = t.column("is_extended_id").to_pylist()  # type: ignore[attr-defined]
    data = t.column("data").to_pylist()  # type: ignore[attr-defined]
    for row in zip(ids, ext, data):
        h.update(repr(row).encode())
    return h.hexdigest()[:16]


def digest_messages(path: Path) -> str:
    h = hashlib.sha256()
    for m in can.BLFReader(str(path)):
        h.update(repr((m.arbitration_id, m.is_extended_id, bytes(m.data))).encode())
    return h.hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-arrow-"))
    for name, fd in (("classic", False), ("fd64", True)):
        path = workdir / f"{name}.blf"
        if not path.exists():
            write(path, args.n, fd)
        arrow_t, msg_t, arrow_cpu, msg_cpu = [], [], [], []
        table = None
        for _ in range(args.repeat):
            c0, t0 = time.process_time(), time.perf_counter()
            table = can.io.read_table(path)
            arrow_t.append(time.perf_counter() - t0)
            arrow_cpu.append(time.process_time() - c0)
            del table
            c0, t0 = time.process_time(), time.perf_counter()
            count = sum(1 for _ in can.BLFReader(str(path)))
            msg_t.append(time.perf_counter() - t0)
            msg_cpu.append(time.process_time() - c0)
            assert count == args.n
        table = can.io.read_table(path)
        same = digest_table(table) == digest_messages(path)
        a, m = statistics.median(arrow_t), statistics.median(msg_t)
        print(
            f"{name:8} n={args.n}: arrow {args.n / a / 1e6:6.2f} M frames/s ({a:.3f} s), "
            f"messages {args.n / m / 1e6:6.2f} M frames/s ({m:.3f} s), "
            f"ratio {m / a:5.1f}x, same frames: {same}"
        )
        ac, mc = statistics.median(arrow_cpu), statistics.median(msg_cpu)
        print(
            f"{'':8} CPU time: arrow {args.n / ac / 1e6:6.2f} M frames/s, "
            f"messages {args.n / mc / 1e6:6.2f} M frames/s, ratio {mc / ac:5.1f}x"
        )


if __name__ == "__main__":
    main()
