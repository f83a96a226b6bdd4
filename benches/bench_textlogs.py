"""ASC and candump log read/write speed, and BLF->ASC conversion, ours against upstream python-can.

Usage::

    python benches/bench_textlogs.py [--ref build/ref-venv/bin/python] [--n 1000000]
                                     [--repeat 3] [--only asc_read,...] [--workdir DIR]

The frames: ``--n`` frames from a seeded generator that runs identically under both
interpreters: 70 % classic (standard and extended ids, 0-8 bytes), 29 % CAN FD (1-64 bytes,
valid lengths only, BRS and ESI at random), 0.5 % remote, 0.5 % error frames, four channels,
Rx and Tx, timestamps 250 us apart.

Workloads, each in a fresh subprocess per library and repeat, the two libraries' runs
interleaved so that both see the same machine load; the median time is reported:

* ``asc_read`` / ``log_read``: ``sum(1 for _ in can.ASCReader(path))`` (``CanutilsLogReader``)
  over a file of the frames (written once, by our writer), every frame made into a
  ``can.Message``;
* ``asc_write`` / ``log_write``: the frames (built beforehand, not timed) given one by one to
  ``ASCWriter`` (``CanutilsLogWriter``) ``.on_message_received`` and ``stop()``;
* ``convert_blf_asc``: the wall time of the command ``can-logconvert in.blf out.asc`` against
  upstream's ``python -m can.logconvert in.blf out.asc`` (interpreter start included), on a BLF
  file of the frames.

Every run reports a digest of the frames it read (for the writers and the conversion: of the
frames read back from the file it wrote, by our reader for the conversion, by the same library
otherwise), so the table says whether both produced the same frames. The digest leaves out what
the formats cannot carry the same way in both libraries (the error class of error frames) and
the frames python-can 4.6.1 reads wrongly (shared/data/README.md): none are generated. For
``log_write`` it also leaves out the DLC of remote frames, which python-can 4.6.1's writer drops
(it writes ``ID#R`` for every remote frame).

Benchmarks are not tests and do not run in CI.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))
import harness  # noqa: E402
from harness import env_for  # noqa: E402

FD_LENGTHS = [1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]


# -- child side: runs under either interpreter, imports whichever `can` it has ---------------


def make_messages(can: Any, n: int) -> list[Any]:
    rng = random.Random(20261126)
    t0 = 1_795_715_148.0
    out = []
    for i in range(n):
        r = rng.random()
        ts = round(t0 + i * 0.000_25, 6)
        channel = rng.randint(0, 3)
        is_rx = rng.random() < 0.8
        if r < 0.005:
            msg = can.Message(timestamp=ts, is_error_frame=True, channel=channel)
        elif r < 0.01:
            ext = rng.random() < 0.5
            msg = can.Message(
                timestamp=ts,
                arbitration_id=rng.getrandbits(29 if ext else 11),
                is_extended_id=ext,
                is_remote_frame=True,
                dlc=rng.randint(0, 8),
                channel=channel,
                is_rx=is_rx,
            )
        elif r < 0.30:
            msg = can.Message(
                timestamp=ts,
                arbitration_id=rng.getrandbits(11),
                is_extended_id=False,
                is_fd=True,
                bitrate_switch=rng.random() < 0.5,
                error_state_indicator=rng.random() < 0.1,
                data=rng.randbytes(rng.choice(FD_LENGTHS)),
                channel=channel,
                is_rx=is_rx,
            )
        else:
            ext = rng.random() < 0.5
            msg = can.Message(
                timestamp=ts,
                arbitration_id=rng.getrandbits(29 if ext else 11),
                is_extended_id=ext,
                data=rng.randbytes(rng.randint(0, 8)),
                channel=channel,
                is_rx=is_rx,
            )
        out.append(msg)
    return out


def digest(messages: Any, relative: bool, remote_dlc: bool = True) -> str:
    h = hashlib.sha256()
    t0: Optional[float] = None
    for m in messages:
        if t0 is None:
            t0 = m.timestamp if relative else 0.0
        ts = round(m.timestamp - t0, 6)
        if m.is_error_frame:
            key: tuple[Any, ...] = (ts, "error")
        else:
            key = (
                ts,
                m.arbitration_id,
                m.is_extended_id,
                m.is_remote_frame,
                m.is_fd,
                m.bitrate_switch,
                m.error_state_indicator,
                m.is_rx,
                str(m.channel)[-1:],
                m.dlc if remote_dlc or not m.is_remote_frame else None,
                bytes(m.data),
            )
        h.update(repr(key).encode())
    return h.hexdigest()[:16]


def child(args: argparse.Namespace) -> None:
    import can

    work = Path(args.workdir)
    result: dict[str, Any]
    if args.child == "generate":
        msgs = make_messages(can, args.n)
        with can.ASCWriter(work / "in.asc") as w:
            for m in msgs:
                w(m)
        with can.CanutilsLogWriter(work / "in.log") as w:
            for m in msgs:
                w(m)
        with can.BLFWriter(work / "in.blf") as w:
            for m in msgs:
                w(m)
        result = {"count": len(msgs)}
    elif args.child in ("asc_read", "log_read"):
        cls = can.ASCReader if args.child == "asc_read" else can.CanutilsLogReader
        path = work / ("in.asc" if args.child == "asc_read" else "in.log")
        t = time.perf_counter()
        count = sum(1 for _ in cls(path))
        elapsed = time.perf_counter() - t
        result = {"seconds": elapsed, "count": count, "digest": digest(cls(path), True)}
    elif args.child in ("asc_write", "log_write"):
        msgs = make_messages(can, args.n)
        asc = args.child == "asc_write"
        cls = can.ASCWriter if asc else can.CanutilsLogWriter
        out = work / f"out_{os.getpid()}.{'asc' if asc else 'log'}"
        t = time.perf_counter()
        writer = cls(out)
        for m in msgs:
            writer.on_message_received(m)
        writer.stop()
        elapsed = time.perf_counter() - t
        reader = can.ASCReader if asc else can.CanutilsLogReader
        result = {
            "seconds": elapsed,
            "count": len(msgs),
            "size": out.stat().st_size,
            # python-can 4.6.1's log writer drops the DLC of remote frames ("ID#R").
            "digest": digest(reader(out), True, remote_dlc=asc),
        }
        out.unlink()
    print(json.dumps(result))


# -- parent side --------------------------------------------------------------------------------


def run_child(python: str, *argv: str) -> dict[str, Any]:
    return harness.run_child(HERE, python, *argv)


def run_convert(python: str, ours: bool, work: Path) -> dict[str, Any]:
    out = work / f"conv_{'ours' if ours else 'ref'}.asc"
    script = Path(python).parent / "can-logconvert"
    cmd = [str(script)] if ours and script.exists() else [python, "-m", "can.logconvert"]
    cmd += [str(work / "in.blf"), str(out)]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env_for(python), cwd="/")
    elapsed = time.perf_counter() - t
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import can, sys; sys.path.insert(0, sys.argv[2]); import bench_textlogs as b; "
            "print(sum(1 for _ in can.ASCReader(sys.argv[1])), "
            "b.digest(can.ASCReader(sys.argv[1]), True))",
            str(out),
            str(HERE.parent),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd="/",
    ).stdout.split()
    size = out.stat().st_size
    out.unlink()
    return {
        "seconds": elapsed,
        "count": int(check[0]),
        "digest": check[1],
        "size": size,
        "command": " ".join(cmd[:3] if not ours or not script.exists() else cmd[:1]),
    }


WORKLOADS = ["asc_read", "asc_write", "log_read", "log_write", "convert_blf_asc"]
TARGETS = {
    "asc_read": 10,
    "asc_write": 10,
    "log_read": 10,
    "log_write": 10,
    "convert_blf_asc": 30,
}


def main() -> None:
    args = harness.arguments(__doc__, WORKLOADS, 1_000_000)
    if args.child:
        child(args)
        return
    ref = harness.reference(args)
    work = harness.workdir(args, "bench_textlogs")
    base = ["--n", str(args.n), "--workdir", str(work)]
    t = time.perf_counter()
    run_child(sys.executable, "--child", "generate", *base)
    sizes = {s: (work / f"in.{s}").stat().st_size for s in ("asc", "log", "blf")}
    print(
        f"# {args.n} frames generated in {time.perf_counter() - t:.1f} s: "
        + ", ".join(f"in.{k} {v / 1e6:.1f} MB" for k, v in sizes.items())
    )

    def run(python: str, name: str, ours: bool) -> dict[str, Any]:
        if name == "convert_blf_asc":
            return run_convert(python, ours, work)
        return run_child(python, "--child", name, *base)

    harness.table(args, ref, run, TARGETS, work)


if __name__ == "__main__":
    main()
