"""Benchmark runner: absolute rates of named workloads, and ratios against upstream python-can.

Usage::

    python benches/run.py [--ref /path/to/python] [--n N] [--only NAME] [--repeat R]

Each workload (benches/workloads.py) runs in a fresh subprocess of this interpreter, R times
(default 3), and the median rate is printed. With ``--ref``, the same workload script also runs
under that interpreter (one with upstream python-can installed, e.g. ``build/ref-venv/bin/python``),
the runs of both interleaved so that both see the same machine load; the ratio ours/theirs of the
median rates (above 1: we are faster) and whether both produced the same result are printed.

``make bench`` runs this against the release wheel. Benchmarks are not tests and do not run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
WORKLOAD_SCRIPT = HERE / "workloads.py"

#: name -> (default N, unit printed, description)
WORKLOADS: dict[str, tuple[int, str, str]] = {
    "message_create": (
        1_000_000,
        "msg/s",
        "can.Message(arbitration_id=..., data=<8 bytes>, is_extended_id=False)",
    ),
    "message_create_list": (
        1_000_000,
        "msg/s",
        "can.Message(arbitration_id=..., data=<list of 8 ints>, is_extended_id=False)",
    ),
    "message_str": (1_000_000, "str/s", "str(msg) over 256 varied messages"),
    "virtual_roundtrip": (
        1_000_000,
        "frames/s",
        "virtual bus: bus1.send(msg); bus2.recv() in one thread",
    ),
    "virtual_threaded": (
        1_000_000,
        "frames/s",
        "virtual bus: sender thread -> receiver thread",
    ),
}

#: Workloads whose result is only a count, because the output format differs on purpose.
COUNT_ONLY = {"message_str"}


def run_once(
    python: str, name: str, n: int, env: Optional[dict[str, str]] = None
) -> dict[str, Any]:
    proc = subprocess.run(
        [python, str(WORKLOAD_SCRIPT), name, str(n)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        # The workload script must import `can` from the interpreter's own environment, not
        # from the directory it lives in.
        cwd=HERE,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{python} {name} failed ({proc.returncode}):\n{proc.stderr}")
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def fmt_rate(rate: float, unit: str) -> str:
    """A rate right-aligned in 18 characters, e.g. ``  2.80 M msg/s``."""
    if rate >= 1e6:
        text = f"{rate / 1e6:.2f} M{unit}"
    elif rate >= 1e3:
        text = f"{rate / 1e3:.1f} k{unit}"
    else:
        text = f"{rate:.1f} {unit}"
    return f"{text:>18}"


def ours_environment() -> dict[str, str]:
    """The environment for our runs: PYTHONPATH made absolute, as the workloads run elsewhere."""
    env = dict(os.environ)
    if env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(
            str(Path(p).resolve()) for p in env["PYTHONPATH"].split(os.pathsep) if p
        )
    return env


def ref_environment() -> dict[str, str]:
    """The environment for the reference interpreter: without our PYTHONPATH, so it imports
    its own python-can."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ref", help="interpreter with upstream python-can installed")
    parser.add_argument("--n", type=int, help="iterations per workload (default: per workload)")
    parser.add_argument("--only", action="append", choices=sorted(WORKLOADS), help="run only this")
    parser.add_argument("--repeat", type=int, default=3, help="runs per workload (median taken)")
    args = parser.parse_args(argv)

    names = args.only or list(WORKLOADS)
    ours_python = sys.executable
    ours_env = ours_environment()
    ref_env = ref_environment()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"ours:   {ours_python} (Python {platform.python_version()})")
    if args.ref:
        print(f"theirs: {args.ref}")
    print(f"median of {args.repeat} runs, each in a fresh process; rates of the timed loop only")
    print()

    header = f"{'workload':<19} {'N':>9}  {'ours':>18}"
    if args.ref:
        header += f"  {'upstream':>18}  {'ours/theirs':>11}  same result"
    print(header)
    print("-" * len(header))

    for name in names:
        default_n, unit, _desc = WORKLOADS[name]
        n = args.n or default_n
        ours_runs: list[dict[str, Any]] = []
        ref_runs: list[dict[str, Any]] = []
        for _ in range(args.repeat):
            ours_runs.append(run_once(ours_python, name, n, env=ours_env))
            if args.ref:
                ref_runs.append(run_once(args.ref, name, n, env=ref_env))
        ours_rate = statistics.median(n / r["seconds"] for r in ours_runs)
        line = f"{name:<19} {n:>9}  {fmt_rate(ours_rate, unit)}"
        if args.ref:
            ref_rate = statistics.median(n / r["seconds"] for r in ref_runs)
            ours_results = {json.dumps(r["result"]) for r in ours_runs}
            ref_results = {json.dumps(r["result"]) for r in ref_runs}
            same = len(ours_results) == 1 and ours_results == ref_results
            note = "yes" + (" (count of strings)" if name in COUNT_ONLY else "")
            line += (
                f"  {fmt_rate(ref_rate, unit)}  {ours_rate / ref_rate:>10.2f}x  "
                f"{note if same else 'NO: ' + str(sorted(ours_results | ref_results))}"
            )
        print(line, flush=True)

    first = ours_runs[0] if names else {}
    print()
    print(f"ours imported can {first.get('can_version')} from {first.get('can_file')}")
    if args.ref and names:
        print(
            f"theirs imported can {ref_runs[0].get('can_version')} from {ref_runs[0]['can_file']}"
        )
    print()
    for name in names:
        print(f"  {name:<19} {WORKLOADS[name][2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
