"""MF4 (ASAM MDF 4, through asammdf) read/write speed, ours against upstream python-can.

Usage::

    python benches/bench_mf4.py [--ref build/ref-venv/bin/python] [--n 200000] [--repeat 3]
                                [--only mf4_read,mf4_write] [--workdir DIR]

Both interpreters need asammdf (``pip install can[mf4]`` / ``python-can[mf4]``). The frames are
those of bench_textlogs.py (the same seeded generator: classic, CAN FD, remote and error frames
on four channels, Rx and Tx, 250 us apart).

Workloads, each in a fresh subprocess per library and repeat, the two libraries' runs
interleaved so that both see the same machine load; the median time is reported:

* ``mf4_read``: ``sum(1 for _ in can.MF4Reader(path))`` over a file of the frames (written once,
  by our writer, with the default compression), every frame made into a ``can.Message``;
  opening the file is timed too;
* ``mf4_write``: the frames (built beforehand, not timed) given one by one to
  ``MF4Writer(path).on_message_received`` and ``stop()`` (default compression, 2).

Every run reports a digest of the frames it read (for ``mf4_write``: read back from the file it
wrote by the same library), so the table says whether both produced the same frames. There is
no target: MF4 goes through asammdf on both sides; ours must not be slower. asammdf itself is
imported before the clock starts, in both (python-can imports it with ``import can``, ours when
the first MF4 reader or writer is made: about 0.5 s once per process).

Benchmarks are not tests and do not run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
import harness  # noqa: E402
from bench_textlogs import digest, make_messages  # noqa: E402


def child(args: argparse.Namespace) -> None:
    import asammdf  # noqa: F401  (python-can imports it with `can`, ours at first use: not timed)

    import can

    work = Path(args.workdir)
    result: dict[str, Any]
    if args.child == "generate":
        with can.MF4Writer(work / "in.mf4") as w:
            for m in make_messages(can, args.n):
                w(m)
        result = {"size": (work / "in.mf4").stat().st_size}
    elif args.child == "mf4_read":
        path = work / "in.mf4"
        t = time.perf_counter()
        count = sum(1 for _ in can.MF4Reader(path))
        elapsed = time.perf_counter() - t
        result = {"seconds": elapsed, "count": count, "digest": digest(can.MF4Reader(path), True)}
    elif args.child == "mf4_write":
        msgs = make_messages(can, args.n)
        out = work / f"out_{os.getpid()}.mf4"
        t = time.perf_counter()
        writer = can.MF4Writer(out)
        for m in msgs:
            writer.on_message_received(m)
        writer.stop()
        elapsed = time.perf_counter() - t
        result = {
            "seconds": elapsed,
            "count": len(msgs),
            "size": out.stat().st_size,
            "digest": digest(can.MF4Reader(out), True),
        }
        out.unlink()
    print(json.dumps(result))


def run_child(python: str, *argv: str) -> dict[str, Any]:
    return harness.run_child(HERE, python, *argv)


WORKLOADS = ["mf4_read", "mf4_write"]


def main() -> None:
    args = harness.arguments(__doc__, WORKLOADS, 200_000)
    if args.child:
        child(args)
        return
    ref = harness.reference(args, "can.__version__, 'asammdf', __import__('asammdf').__version__")
    work = harness.workdir(args, "bench_mf4")
    base = ["--n", str(args.n), "--workdir", str(work)]
    t = time.perf_counter()
    size = run_child(sys.executable, "--child", "generate", *base)["size"]
    took = time.perf_counter() - t
    print(f"# {args.n} frames generated in {took:.1f} s: in.mf4 {size / 1e6:.1f} MB")
    harness.table(
        args,
        ref,
        lambda python, name, ours: run_child(python, "--child", name, *base),
        dict.fromkeys(WORKLOADS, 1),
        work,
    )


if __name__ == "__main__":
    main()
