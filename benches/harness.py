"""What the side-by-side benchmarks share: the command line, running a workload in a child
process of either interpreter, and the table of medians with ratios and result checks.

A benchmark script defines its workloads as ``child`` functions run in a fresh subprocess (so
each library is imported alone and timed without the other in memory) and calls
:func:`main` with them. Each child prints one JSON object as its last line: ``seconds``, and
``count`` and ``digest`` of what it read or wrote, which the table compares between the two
libraries ("same").
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
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Optional

#: A runner: ``run(python, workload, ours)`` -> the child's JSON result.
Runner = Callable[[str, str, bool], dict[str, Any]]


def env_for(python: str) -> dict[str, str]:
    """The environment of a child: the reference interpreter imports its own ``can``, not the
    one PYTHONPATH points to."""
    env = dict(os.environ)
    if python != sys.executable:
        env.pop("PYTHONPATH", None)
    return env


def run_child(script: Path, python: str, *argv: str) -> dict[str, Any]:
    """Runs ``python script *argv`` and returns the JSON object its last line prints."""
    out = subprocess.run(
        [python, str(script), *argv],
        check=True,
        capture_output=True,
        text=True,
        env=env_for(python),
        cwd="/",
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def arguments(doc: Optional[str], workloads: list[str], n: int) -> argparse.Namespace:
    """The command line every side-by-side benchmark takes."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--ref", default="build/ref-venv/bin/python", help="upstream interpreter")
    p.add_argument("--n", type=int, default=n)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--only", default=",".join(workloads))
    p.add_argument("--workdir", default=None)
    p.add_argument("--child", help=argparse.SUPPRESS)
    return p.parse_args()


def reference(args: argparse.Namespace, version_code: str = "can.__version__") -> Optional[str]:
    """The reference interpreter (absolute), after printing the versions compared."""
    import can

    ref = os.path.abspath(args.ref) if args.ref and Path(args.ref).exists() else None
    print(f"# {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"# load average {os.getloadavg()}")
    print(f"# ours: can {can.__version__} ({Path(can.__file__).parent})")
    if ref:
        ver = subprocess.run(
            [ref, "-c", f"import can; print({version_code})"],
            capture_output=True,
            text=True,
            env=env_for(ref),
            check=True,
        ).stdout.strip()
        print(f"# upstream: python-can {ver} ({ref})")
    return ref


def workdir(args: argparse.Namespace, name: str) -> Path:
    work = Path(args.workdir or f"/tmp/{name}_{os.getpid()}")
    work.mkdir(parents=True, exist_ok=True)
    return work


def table(
    args: argparse.Namespace,
    ref: Optional[str],
    run: Runner,
    targets: Mapping[str, float],
    work: Path,
) -> None:
    """Runs each workload of ``--only`` ``--repeat`` times per library, the libraries
    alternating, and prints the medians, the ratio, the target and whether both produced the
    same frames; removes ``work`` unless ``--workdir`` was given."""
    names = args.only.split(",")
    width = max(len(n) for n in names) + 1
    print(f"{'workload':<{width}} {'ours':>10} {'upstream':>10} {'ratio':>8} {'target':>7} same")
    for name in names:
        times: dict[str, list[float]] = {"ours": [], "ref": []}
        results: dict[str, dict[str, Any]] = {}
        for _ in range(args.repeat):
            for who, python in (("ours", sys.executable), ("ref", ref)):
                if python is None:
                    continue
                r = run(python, name, who == "ours")
                times[who].append(r["seconds"])
                results[who] = r
        ours_s = statistics.median(times["ours"])
        if ref:
            ref_s = statistics.median(times["ref"])
            same = (results["ours"]["digest"], results["ours"]["count"]) == (
                results["ref"]["digest"],
                results["ref"]["count"],
            )
            print(
                f"{name:<{width}} {ours_s:>9.3f}s {ref_s:>9.3f}s {ref_s / ours_s:>7.1f}x "
                f"{targets[name]:>6}x {'yes' if same else 'NO'}"
            )
        else:
            print(f"{name:<{width}} {ours_s:>9.3f}s")
        sys.stdout.flush()
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
