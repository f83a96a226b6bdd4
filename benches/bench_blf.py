"""BLF read and write speed and file size, ours against upstream python-can, side by side.

Usage::

    python benches/bench_blf.py [--ref build/ref-venv/bin/python] [--n 1000000] [--repeat 3]
                                [--levels 6] [--workdir DIR] [--big-gb 0]

Two inputs of ``--n`` frames each are written once by upstream python-can's BLFWriter (by ours
when no reference interpreter is given): *classic*, a mix of standard and extended ids, 0-8
data bytes, four channels, Rx and Tx; and *fd64*, CAN FD frames with 64 random bytes and BRS.

Each workload then runs in a fresh subprocess, once per library per repeat, the two libraries'
runs interleaved so that both see the same machine load; the median time is reported.

* ``read``: ``sum(1 for _ in BLFReader(path))``, every frame made into a ``can.Message``;
* ``write``: the frames (read beforehand, not timed) given one by one to
  ``BLFWriter.on_message_received`` and ``stop()``, at the same compression level for both
  (``compression_level=`` keyword, which both accept).

Every run also reports a digest of the frames it read (for ``write``: of the frames read back
from the file it wrote, by the same library), so the table says whether both produced the same
frames, and the size of the written file. ``--big-gb`` additionally builds a file of that many
GB (by repeating the containers of the classic input) and reports the peak RSS of the user's
one-liner ``sum(1 for _ in can.BLFReader(path))`` over it.

Benchmarks are not tests and do not run in CI.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve()


# -- child side: runs under either interpreter, imports whichever `can` it has ---------------


def _digest(messages: Any) -> str:
    h = hashlib.sha256()
    for m in messages:
        h.update(
            repr(
                (
                    round(m.timestamp, 6),
                    m.arbitration_id,
                    m.is_extended_id,
                    m.is_remote_frame,
                    m.is_error_frame,
                    m.is_fd,
                    m.bitrate_switch,
                    m.error_state_indicator,
                    m.is_rx,
                    m.channel,
                    m.dlc,
                    bytes(m.data),
                )
            ).encode()
        )
    return h.hexdigest()[:16]


def child(args: argparse.Namespace) -> None:
    import can

    if os.environ.get("BENCH_BLF_THREADED") == "0":
        # This package's switch (upstream has none): inflate/deflate on the calling thread.
        can.BLFReader.THREADED = False  # type: ignore[attr-defined,unused-ignore]
        can.BLFWriter.THREADED = False  # type: ignore[attr-defined,unused-ignore]

    path = args.input
    if args.child == "generate":
        generate(can, args.kind, args.n, path)
        print("{}")
        return
    if args.child == "read":
        t = time.perf_counter()
        count = sum(1 for _ in can.BLFReader(path))
        elapsed = time.perf_counter() - t
        result = {"seconds": elapsed, "count": count, "digest": _digest(can.BLFReader(path))}
    elif args.child == "write":
        messages = list(can.BLFReader(path))
        out = args.output
        t = time.perf_counter()
        writer = can.BLFWriter(out, compression_level=args.level)
        for m in messages:
            writer.on_message_received(m)
        writer.stop()
        elapsed = time.perf_counter() - t
        result = {
            "seconds": elapsed,
            "count": len(messages),
            "size": os.path.getsize(out),
            "digest": _digest(can.BLFReader(out)),
        }
        os.remove(out)
    elif args.child == "rss":
        import resource

        t = time.perf_counter()
        count = sum(1 for _ in can.BLFReader(path))
        elapsed = time.perf_counter() - t
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        result = {"seconds": elapsed, "count": count, "peak_rss": rss}
    print(json.dumps(result))


def generate(can: Any, kind: str, n: int, path: str) -> None:
    rng = random.Random(20261126)
    t0 = 1_700_000_000.0
    writer = can.BLFWriter(path, compression_level=-1)
    for i in range(n):
        if kind == "classic":
            ext = rng.random() < 0.5
            dlc = rng.randint(0, 8)
            msg = can.Message(
                timestamp=t0 + i * 0.000_25,
                arbitration_id=rng.getrandbits(29 if ext else 11),
                is_extended_id=ext,
                data=bytes(rng.getrandbits(8) for _ in range(dlc)),
                channel=rng.randint(0, 3),
                is_rx=rng.random() < 0.8,
            )
        else:
            msg = can.Message(
                timestamp=t0 + i * 0.000_25,
                arbitration_id=rng.getrandbits(11),
                is_extended_id=False,
                is_fd=True,
                bitrate_switch=True,
                data=rng.randbytes(64),
                channel=0,
            )
        writer.on_message_received(msg)
    writer.stop()


# -- parent side --------------------------------------------------------------------------------


def run_child(python: str, *argv: str) -> dict[str, Any]:
    env = dict(os.environ)
    if python != sys.executable:
        # The reference interpreter imports its own `can`, not the one PYTHONPATH points to.
        env.pop("PYTHONPATH", None)
    out = subprocess.run(
        [python, str(HERE), *argv], check=True, capture_output=True, text=True, env=env
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def make_big(src: Path, dst: Path, gigabytes: float) -> int:
    """Repeats the containers of `src` until `dst` has about `gigabytes` GB."""
    data = src.read_bytes()
    header_size = struct.unpack_from("<L", data, 4)[0]
    body = data[header_size:]
    target = int(gigabytes * 1e9)
    with open(dst, "wb") as f:
        f.write(data[:header_size])
        written = header_size
        while written < target:
            f.write(body)
            written += len(body)
    return written


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--ref", default="build/ref-venv/bin/python", help="upstream interpreter")
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--levels", default="6", help="comma-separated zlib levels for write")
    p.add_argument("--workdir", default=None)
    p.add_argument("--big-gb", type=float, default=0.0)
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--kind", help=argparse.SUPPRESS)
    p.add_argument("--input", help=argparse.SUPPRESS)
    p.add_argument("--output", help=argparse.SUPPRESS)
    p.add_argument("--level", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return

    ours = sys.executable
    ref: Optional[str] = args.ref if args.ref and Path(args.ref).exists() else None
    work = Path(args.workdir or f"/tmp/bench_blf_{os.getpid()}")
    work.mkdir(parents=True, exist_ok=True)
    gen_python = ref or ours
    inputs = {}
    for kind in ("classic", "fd64"):
        path = work / f"{kind}_{args.n}.blf"
        if not path.exists():
            run_child(
                gen_python,
                "--child",
                "generate",
                "--kind",
                kind,
                "--n",
                str(args.n),
                "--input",
                str(path),
            )
        inputs[kind] = path

    print(f"# bench_blf.py: {args.n:,} frames per input, median of {args.repeat} runs")
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs; inputs written by "
        f"{'upstream python-can' if ref else 'this package'}"
    )
    if ref:
        ref_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        ref_version = subprocess.run(
            [ref, "-c", "import can; print(can.__version__)"],
            env=ref_env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"# upstream: python-can {ref_version} ({ref})")
    print(
        f"# {'workload':<22} {'ours frames/s':>14} {'upstream':>12} {'ratio':>7} "
        f"{'ours size':>11} {'upstream':>11} {'size %':>7}  same frames"
    )

    levels = [int(x) for x in args.levels.split(",")]
    workloads: list[tuple[str, str, list[str]]] = []
    for kind, path in inputs.items():
        workloads.append((f"read {kind}", kind, ["--child", "read", "--input", str(path)]))
        for level in levels:
            out = work / f"out_{kind}_{level}.blf"
            workloads.append(
                (
                    f"write {kind} level {level}",
                    kind,
                    [
                        "--child",
                        "write",
                        "--input",
                        str(path),
                        "--output",
                        str(out),
                        "--level",
                        str(level),
                    ],
                )
            )
    for name, _kind, argv in workloads:
        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "ref": []}
        for _ in range(args.repeat):
            runs["ours"].append(run_child(ours, *argv))
            if ref:
                runs["ref"].append(run_child(ref, *argv))
        n = runs["ours"][0]["count"]
        ours_t = statistics.median(r["seconds"] for r in runs["ours"])
        line = f"  {name:<22} {n / ours_t:>14,.0f}"
        if ref:
            ref_t = statistics.median(r["seconds"] for r in runs["ref"])
            same = runs["ours"][0]["digest"] == runs["ref"][0]["digest"]
            line += f" {n / ref_t:>12,.0f} {ref_t / ours_t:>6.1f}x"
            if "size" in runs["ours"][0]:
                so, sr = runs["ours"][0]["size"], runs["ref"][0]["size"]
                line += f" {so:>11,} {sr:>11,} {100 * (so - sr) / sr:>+6.1f}%"
            else:
                line += " " * 32
            line += f"  {'yes' if same else 'NO'}"
        print(line, flush=True)

    if args.big_gb > 0:
        big = work / "big.blf"
        size = make_big(inputs["classic"], big, args.big_gb)
        r = run_child(ours, "--child", "rss", "--input", str(big))
        print(
            f"  one-liner sum(1 for _ in can.BLFReader(path)) over {size / 1e9:.2f} GB: "
            f"{r['count']:,} frames in {r['seconds']:.1f} s, "
            f"peak RSS {r['peak_rss'] / 2**20:.0f} MiB"
        )
        big.unlink()


if __name__ == "__main__":
    main()
