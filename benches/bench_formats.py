"""CSV and SQLite read/write, Logger/LogReader dispatch and .asc.gz reading, ours against
upstream python-can, in the style of bench_textlogs.py (whose frame generator and digest it
uses).

Usage::

    python benches/bench_formats.py [--ref build/ref-venv/bin/python] [--n 200000]
                                    [--repeat 3] [--only csv_read,...]

Workloads, each in a fresh subprocess per library and repeat, the two libraries' runs
interleaved so that both see the same machine load; the median time is reported:

* ``csv_read`` / ``db_read``: ``sum(1 for _ in can.CSVReader(path))`` (``SqliteReader``) over
  a file of the frames written once by our writer (classic and FD data frames, remote frames;
  what both formats hold);
* ``csv_write`` / ``db_write``: the frames (built beforehand, not timed) given one by one to
  ``CSVWriter`` / ``SqliteWriter`` and ``stop()`` (which for SQLite waits for every row to be
  committed);
* ``logger_dispatch``: ``can.Logger(path)`` for each of .asc .blf .csv .log, one message,
  ``stop()``, 200 times (what opening a log costs, dispatch included);
* ``asc_gz_read``: ``can.LogReader("in.asc.gz")`` over the frames, gzip-compressed.

Every run reports a digest of the frames read (for the writers: read back by the same library)
so the table says whether both produced the same frames. Targets (issue 11): CSV and SQLite at
least 2x, nothing slower. Not part of CI.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
import harness  # noqa: E402
from bench_textlogs import digest  # noqa: E402
from bench_textlogs import make_messages as all_messages  # noqa: E402

TARGETS = {
    "csv_read": 2,
    "csv_write": 2,
    "db_read": 2,
    "db_write": 2,
    "logger_dispatch": 1,
    "asc_gz_read": 1,
}


def make_messages(can: Any, n: int) -> list[Any]:
    """The frames CSV and SQLite hold the same way in both libraries: no error frames, and no
    channel, direction or FD flags (which neither format keeps)."""
    out = []
    for m in all_messages(can, n):
        if m.is_error_frame:
            continue
        out.append(
            can.Message(
                timestamp=m.timestamp,
                arbitration_id=m.arbitration_id,
                is_extended_id=m.is_extended_id,
                is_remote_frame=m.is_remote_frame,
                dlc=m.dlc,
                data=m.data,
            )
        )
    return out


def plain_digest(messages: Any) -> str:
    import can

    return digest(
        (
            can.Message(
                timestamp=m.timestamp,
                arbitration_id=m.arbitration_id,
                is_extended_id=m.is_extended_id,
                is_remote_frame=m.is_remote_frame,
                dlc=m.dlc,
                data=m.data,
            )
            for m in messages
        ),
        True,
    )


def child(name: str, n: int, work: Path) -> dict[str, Any]:
    import can

    if name == "generate":
        msgs = make_messages(can, n)
        with can.CSVWriter(work / "in.csv") as w:
            for m in msgs:
                w(m)
        w2 = can.SqliteWriter(work / "in.db")
        for m in msgs:
            w2(m)
        w2.stop()
        with can.Logger(work / "in.asc.gz") as w3:
            for m in all_messages(can, n):
                w3(m)
        return {"count": len(msgs)}
    if name in ("csv_read", "db_read"):
        cls = can.CSVReader if name == "csv_read" else can.SqliteReader
        path = work / ("in.csv" if name == "csv_read" else "in.db")
        t = time.perf_counter()
        count = sum(1 for _ in cls(path))
        elapsed = time.perf_counter() - t
        return {"seconds": elapsed, "count": count, "digest": plain_digest(cls(path))}
    if name in ("csv_write", "db_write"):
        msgs = make_messages(can, n)
        csv = name == "csv_write"
        out = work / f"out_{os.getpid()}.{'csv' if csv else 'db'}"
        t = time.perf_counter()
        writer = can.CSVWriter(out) if csv else can.SqliteWriter(out)
        for m in msgs:
            writer.on_message_received(m)
        writer.stop()
        elapsed = time.perf_counter() - t
        kept = list(can.CSVReader(out) if csv else can.SqliteReader(out))
        # count: the rows really in the file after stop() (python-can 4.6.1's SqliteWriter
        # returns from stop() with most of its queue unwritten)
        result = {"seconds": elapsed, "count": len(kept), "digest": plain_digest(kept)}
        out.unlink()
        return result
    if name == "logger_dispatch":
        msg = can.Message(timestamp=1.0, arbitration_id=1, data=[1])
        t = time.perf_counter()
        for i in range(200):
            for suffix in (".asc", ".blf", ".csv", ".log"):
                w = can.Logger(work / f"d_{os.getpid()}_{i % 4}{suffix}")
                w(msg)
                w.stop()
        return {"seconds": time.perf_counter() - t, "count": 800, "digest": "-"}
    if name == "asc_gz_read":
        path = work / "in.asc.gz"
        t = time.perf_counter()
        reader = can.LogReader(path)
        count = sum(1 for _ in reader)
        elapsed = time.perf_counter() - t
        return {"seconds": elapsed, "count": count, "digest": digest(can.LogReader(path), True)}
    raise ValueError(name)


def main() -> None:
    args = harness.arguments(__doc__, list(TARGETS), 200_000)
    if args.child:
        print(json.dumps(child(args.child, args.n, Path(args.workdir))))
        return
    ref = harness.reference(args)
    work = harness.workdir(args, "bench_formats")
    base = ["--n", str(args.n), "--workdir", str(work)]
    harness.run_child(HERE, sys.executable, "--child", "generate", *base)
    print(f"# {args.n} frames; count: what the file holds after stop() (ours/theirs below)")

    counts: dict[str, list[int]] = {}

    def run(python: str, name: str, ours: bool) -> dict[str, Any]:
        r = harness.run_child(HERE, python, "--child", name, *base)
        counts.setdefault(name, [0, 0])[0 if ours else 1] = r["count"]
        return r

    harness.table(args, ref, run, TARGETS, work)
    for name, (a, b) in counts.items():
        if a != b:
            print(f"# {name}: ours {a} frames, upstream {b}")


if __name__ == "__main__":
    main()
