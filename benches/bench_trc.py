"""PEAK TRC read and write speed, ours against upstream python-can, in the style of
bench_textlogs.py (whose frame digest it uses).

Usage::

    python benches/bench_trc.py [--ref build/ref-venv/bin/python] [--n 1000000] [--repeat 3]
                                [--only trc_read,trc_write] [--workdir DIR]

Workloads, each in a fresh subprocess per library and repeat, the two libraries' runs
interleaved so that both see the same machine load; the median time is reported:

* ``trc_read``: ``sum(1 for _ in can.TRCReader(path))`` over a version 2.1 file of ``--n``
  frames (written once, by our writer): 70 % classic data frames (standard and extended ids,
  0-8 bytes), 25 % CAN FD frames of 1-8 bytes (BRS at random), 5 % remote frames, on buses
  1-4, Rx and Tx, 250 us apart. Every frame becomes a ``can.Message``.
* ``trc_write``: ``--n`` classic data frames (built beforehand, not timed) given one by one to
  ``TRCWriter.on_message_received``, then ``stop()``.

The frames are those python-can 4.6.1 reads and writes correctly: its reader takes a CAN FD
record's DLC for its byte count (right only up to 8 bytes), swaps the bit rate switch of the
``FE`` and ``BI`` records (PEAK: ``FE`` is ESI only, ``BI`` both) and skips error records;
its writer writes data frames only (it logs and skips CAN FD, remote and error frames) and writes a
message's channel ``n`` as bus ``n + 1``, so the write workload's messages have no channel (both
write the default bus 1). Every run reports a digest of the frames read (for the writers: read
back from the file by the same library), so the table says whether both produced the same
frames.

Benchmarks are not tests and do not run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
import harness  # noqa: E402
from bench_textlogs import digest  # noqa: E402

TARGETS = {"trc_read": 10, "trc_write": 10}


def make_messages(can: Any, n: int, classic_only: bool) -> list[Any]:
    rng = random.Random(20261203)
    t0 = 1_795_715_148.0
    out = []
    for i in range(n):
        r = 1.0 if classic_only else rng.random()
        ts = round(t0 + i * 0.000_25, 6)
        kw: dict[str, Any] = {"timestamp": ts, "is_rx": rng.random() < 0.8}
        if not classic_only:
            kw["channel"] = rng.randint(1, 4)
        ext = rng.random() < 0.5
        if r < 0.05:
            kw.update(
                arbitration_id=rng.getrandbits(29 if ext else 11),
                is_extended_id=ext,
                is_remote_frame=True,
                dlc=rng.randint(0, 8),
            )
        elif r < 0.30:
            kw.update(
                arbitration_id=rng.getrandbits(11),
                is_extended_id=False,
                is_fd=True,
                bitrate_switch=rng.random() < 0.5,
                data=rng.randbytes(rng.randint(1, 8)),
            )
        else:
            kw.update(
                arbitration_id=rng.getrandbits(29 if ext else 11),
                is_extended_id=ext,
                data=rng.randbytes(rng.randint(0, 8)),
            )
        out.append(can.Message(**kw))
    return out


def child(args: argparse.Namespace) -> None:
    import can

    work = Path(args.workdir)
    result: dict[str, Any]
    if args.child == "generate":
        msgs = make_messages(can, args.n, classic_only=False)
        with can.TRCWriter(work / "in.trc") as w:
            for m in msgs:
                w(m)
        result = {"count": len(msgs)}
    elif args.child == "trc_read":
        path = work / "in.trc"
        t = time.perf_counter()
        count = sum(1 for _ in can.TRCReader(path))
        elapsed = time.perf_counter() - t
        result = {"seconds": elapsed, "count": count, "digest": digest(can.TRCReader(path), True)}
    else:
        msgs = make_messages(can, args.n, classic_only=True)
        out = work / f"out_{os.getpid()}.trc"
        t = time.perf_counter()
        writer = can.TRCWriter(out)
        for m in msgs:
            writer.on_message_received(m)
        writer.stop()
        elapsed = time.perf_counter() - t
        result = {
            "seconds": elapsed,
            "count": len(msgs),
            "size": out.stat().st_size,
            "digest": digest(can.TRCReader(out), True),
        }
        out.unlink()
    print(json.dumps(result))


def run_child(python: str, *argv: str) -> dict[str, Any]:
    return harness.run_child(HERE, python, *argv)


def main() -> None:
    args = harness.arguments(__doc__, list(TARGETS), 1_000_000)
    if args.child:
        child(args)
        return
    ref = harness.reference(args)
    work = harness.workdir(args, "bench_trc")
    base = ["--n", str(args.n), "--workdir", str(work)]
    run_child(sys.executable, "--child", "generate", *base)
    print(f"# {args.n} frames, in.trc {(work / 'in.trc').stat().st_size / 1e6:.1f} MB")
    harness.table(
        args,
        ref,
        lambda python, name, ours: run_child(python, "--child", name, *base),
        TARGETS,
        work,
    )


if __name__ == "__main__":
    main()
