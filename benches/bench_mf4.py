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
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))

from bench_textlogs import digest, env_for, make_messages  # noqa: E402


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
    out = subprocess.run(
        [python, str(HERE), *argv],
        check=True,
        capture_output=True,
        text=True,
        env=env_for(python),
        cwd="/",
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


WORKLOADS = ["mf4_read", "mf4_write"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--ref", default="build/ref-venv/bin/python", help="upstream interpreter")
    p.add_argument("--n", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--only", default=",".join(WORKLOADS))
    p.add_argument("--workdir", default=None)
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return

    ours = sys.executable
    ref: Optional[str] = os.path.abspath(args.ref) if args.ref and Path(args.ref).exists() else None
    work = Path(args.workdir or f"/tmp/bench_mf4_{os.getpid()}")
    work.mkdir(parents=True, exist_ok=True)
    import can

    print(f"# {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"# ours: can {can.__version__} ({Path(can.__file__).parent})")
    if ref:
        ver = subprocess.run(
            [ref, "-c", "import can, asammdf; print(can.__version__, asammdf.__version__)"],
            capture_output=True,
            text=True,
            env=env_for(ref),
            check=True,
        ).stdout.strip()
        print(f"# upstream: python-can, asammdf {ver} ({ref})")
    base = ["--n", str(args.n), "--workdir", str(work)]
    t = time.perf_counter()
    size = run_child(ours, "--child", "generate", *base)["size"]
    took = time.perf_counter() - t
    print(f"# {args.n} frames generated in {took:.1f} s: in.mf4 {size / 1e6:.1f} MB")
    print(f"{'workload':<11} {'ours':>10} {'upstream':>10} {'ratio':>8} same")
    for name in args.only.split(","):
        times: dict[str, list[float]] = {"ours": [], "ref": []}
        results: dict[str, dict[str, Any]] = {}
        for _ in range(args.repeat):
            for who, python in (("ours", ours), ("ref", ref)):
                if python is None:
                    continue
                r = run_child(python, "--child", name, *base)
                times[who].append(r["seconds"])
                results[who] = r
        ours_s = statistics.median(times["ours"])
        if ref:
            ref_s = statistics.median(times["ref"])
            same = results["ours"]["digest"] == results["ref"]["digest"] and (
                results["ours"]["count"] == results["ref"]["count"]
            )
            print(
                f"{name:<11} {ours_s:>9.2f}s {ref_s:>9.2f}s {ref_s / ours_s:>7.1f}x "
                f"{'yes' if same else 'NO'}"
            )
        else:
            print(f"{name:<11} {ours_s:>9.2f}s")
        sys.stdout.flush()
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
