"""The *classic mix*: BLF, ``can.logconvert`` and ``Message(...)`` on traffic that is not ours.

Usage::

    python benches/bench_mix.py [--ref build/ref-venv/bin/python] [--n 300000] [--repeat 3]
                                [--only blf_write_l6,...] [--workdir DIR]

The workload is the one issue 17 states in implementation-neutral terms, named *classic mix*
in the docs: ``--n`` classic CAN frames (300,000 by default) of which 50 % have a 29-bit id
(the rest 11-bit), the data length is uniform in 0-8, 1 % are remote frames, 0.1 % error
frames and 10 % transmitted (``is_rx=False``); the frames are 200 us apart on channel 0 and
their ids and data bytes random (one fixed seed, so both libraries see the same frames). The
input file of the read rows is written once by upstream python-can at its default level (by
ours when no reference interpreter is given).

Rows (each in a fresh subprocess per library and repeat, the libraries alternating):

* ``blf_write_l6``: the frames (built beforehand, not timed) given one by one to
  ``BLFWriter(path, compression_level=6).on_message_received``, then ``stop()``;
* ``blf_write_default``: the same with ``BLFWriter(path)``, each library at its own default
  level; the file sizes are printed;
* ``blf_read``: ``sum(1 for _ in can.BLFReader(path))``, a ``can.Message`` per frame;
* ``logconvert``: the whole process ``python -m can.logconvert in.blf out.asc`` (interpreter
  start, ``import can``, reading and writing), wall time;
* ``message_create``: ``can.Message(timestamp=..., arbitration_id=..., is_extended_id=...,
  is_remote_frame=..., is_error_frame=..., channel=0, dlc=..., data=..., is_rx=...)`` once per
  frame of the mix; each child times the loop five times and reports the fastest, so a
  scheduler hiccup does not decide a run.

The table prints the median (wall-clock) time of each library, the ratio of the medians, the
smallest ratio of one run against the run beside it, the target (issue 17), the ratio of the
median CPU times (user + system of the process, worker threads included, or of the logconvert
child: less sensitive to a loaded machine than wall time, but it counts work that threads do
in parallel) and whether both produced the same
frames (for writers: read back from the written file by the same library; for logconvert:
the number of frames in the ASC file).

Benchmarks are not tests and do not run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
import harness  # noqa: E402
from bench_blf import _digest  # noqa: E402

TARGETS = {
    "blf_write_l6": 12,
    "blf_write_default": 12,
    "blf_read": 14,
    "logconvert": 30,
    "message_create": 2,
}

#: The mix, in the terms of issue 17.
EXTENDED = 0.5
REMOTE = 0.01
ERROR = 0.001
TX = 0.1
SEED = 20261203


def mix_fields(n: int) -> list[tuple[Any, ...]]:
    """The keyword values of ``n`` frames of the classic mix:
    (timestamp, arbitration_id, is_extended_id, is_remote_frame, is_error_frame, dlc, data,
    is_rx)."""
    rng = random.Random(SEED)
    t0 = 1_795_715_148.0
    out: list[tuple[Any, ...]] = []
    for i in range(n):
        ts = t0 + i * 0.000_2
        rx = rng.random() >= TX
        kind = rng.random()
        if kind < ERROR:
            out.append((ts, 0, False, False, True, 0, b"", rx))
            continue
        ext = rng.random() < EXTENDED
        ident = rng.getrandbits(29 if ext else 11)
        dlc = rng.randint(0, 8)
        if kind < ERROR + REMOTE:
            out.append((ts, ident, ext, True, False, dlc, b"", rx))
        else:
            out.append((ts, ident, ext, False, False, dlc, rng.randbytes(dlc), rx))
    return out


def mix_messages(can: Any, n: int) -> list[Any]:
    return [
        can.Message(
            timestamp=ts,
            arbitration_id=ident,
            is_extended_id=ext,
            is_remote_frame=rtr,
            is_error_frame=err,
            channel=0,
            dlc=dlc,
            data=data,
            is_rx=rx,
        )
        for ts, ident, ext, rtr, err, dlc, data, rx in mix_fields(n)
    ]


# -- child side: runs under either interpreter, imports whichever `can` it has ---------------


def child(args: argparse.Namespace) -> None:
    import can

    work = Path(args.workdir)
    src = work / "in.blf"
    result: dict[str, Any]
    if args.child == "generate":
        msgs = mix_messages(can, args.n)
        writer = can.BLFWriter(src)
        for m in msgs:
            writer.on_message_received(m)
        writer.stop()
        result = {"count": len(msgs)}
    elif args.child in ("blf_write_l6", "blf_write_default"):
        msgs = mix_messages(can, args.n)
        out = work / f"out_{os.getpid()}.blf"
        kw = {"compression_level": 6} if args.child == "blf_write_l6" else {}
        t, c = time.perf_counter(), time.process_time()
        writer = can.BLFWriter(out, **kw)
        for m in msgs:
            writer.on_message_received(m)
        writer.stop()
        elapsed, cpu = time.perf_counter() - t, time.process_time() - c
        result = {
            "seconds": elapsed,
            "cpu": cpu,
            "count": len(msgs),
            "size": out.stat().st_size,
            "digest": _digest(can.BLFReader(out)),
        }
        out.unlink()
    elif args.child == "blf_read":
        t, c = time.perf_counter(), time.process_time()
        count = sum(1 for _ in can.BLFReader(src))
        elapsed, cpu = time.perf_counter() - t, time.process_time() - c
        result = {
            "seconds": elapsed,
            "cpu": cpu,
            "count": count,
            "digest": _digest(can.BLFReader(src)),
        }
    elif args.child == "logconvert":
        out = work / f"out_{os.getpid()}.asc"
        cmd = [sys.executable, "-m", "can.logconvert", str(src), str(out)]
        import resource

        def children_cpu() -> float:
            r = resource.getrusage(resource.RUSAGE_CHILDREN)
            return r.ru_utime + r.ru_stime

        t, c = time.perf_counter(), children_cpu()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd="/")
        elapsed, cpu = time.perf_counter() - t, children_cpu() - c
        # The two ASC layouts differ in detail; what must agree is how many frames were written.
        count = sum(1 for _ in can.ASCReader(out))
        result = {"seconds": elapsed, "cpu": cpu, "count": count, "digest": ""}
        out.unlink()
    elif args.child == "message_create":
        fields = mix_fields(args.n)
        message = can.Message
        best = best_cpu = float("inf")
        msg = None
        for _ in range(5):
            t, c = time.perf_counter(), time.process_time()
            for ts, ident, ext, rtr, err, dlc, data, rx in fields:
                msg = message(
                    timestamp=ts,
                    arbitration_id=ident,
                    is_extended_id=ext,
                    is_remote_frame=rtr,
                    is_error_frame=err,
                    channel=0,
                    dlc=dlc,
                    data=data,
                    is_rx=rx,
                )
            best = min(best, time.perf_counter() - t)
            best_cpu = min(best_cpu, time.process_time() - c)
        result = {"seconds": best, "cpu": best_cpu, "count": len(fields), "digest": _digest([msg])}
    else:
        raise SystemExit(f"unknown workload {args.child}")
    print(json.dumps(result))


# -- parent side --------------------------------------------------------------------------------


def main() -> None:
    args = harness.arguments(__doc__, list(TARGETS), 300_000)
    if args.child:
        child(args)
        return
    ref = harness.reference(args)
    work = harness.workdir(args, "bench_mix")
    base = ["--n", str(args.n), "--workdir", str(work)]
    if not (work / "in.blf").exists():
        harness.run_child(HERE, ref or sys.executable, "--child", "generate", *base)
    print(
        f"# classic mix: {args.n:,} frames, {EXTENDED:.0%} 29-bit ids, dlc uniform 0-8, "
        f"{REMOTE:.0%} remote, {ERROR:.1%} error frames, {TX:.0%} Tx; in.blf "
        f"{(work / 'in.blf').stat().st_size:,} bytes, written by "
        f"{'upstream python-can' if ref else 'this package'}; median of {args.repeat} runs"
    )
    names = args.only.split(",")
    width = max(len(n) for n in names) + 1
    print(
        f"{'workload':<{width}} {'ours':>9} {'upstream':>9} {'ratio':>7} {'worst':>7} "
        f"{'target':>7} {'cpu ratio':>9} same  {'ours size':>11} {'upstream':>11}"
    )
    for name in names:
        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "ref": []}
        for _ in range(args.repeat):
            for who, python in (("ours", sys.executable), ("ref", ref)):
                if python is not None:
                    runs[who].append(harness.run_child(HERE, python, "--child", name, *base))
        ours_t = [r["seconds"] for r in runs["ours"]]
        line = f"{name:<{width}} {statistics.median(ours_t):>8.3f}s"
        if ref:
            ref_t = [r["seconds"] for r in runs["ref"]]
            ratio = statistics.median(ref_t) / statistics.median(ours_t)
            worst = min(r / o for r, o in zip(ref_t, ours_t))
            cpu_ratio = statistics.median(r["cpu"] for r in runs["ref"]) / statistics.median(
                r["cpu"] for r in runs["ours"]
            )
            o0, r0 = runs["ours"][0], runs["ref"][0]
            same = (o0["digest"], o0["count"]) == (r0["digest"], r0["count"])
            line += (
                f" {statistics.median(ref_t):>8.3f}s {ratio:>6.1f}x {worst:>6.1f}x "
                f"{TARGETS[name]:>6}x {cpu_ratio:>8.1f}x {'yes ' if same else 'NO  '}"
            )
            if "size" in o0:
                line += f"  {o0['size']:>11,} {r0['size']:>11,}"
        print(line, flush=True)
    if not args.workdir:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
