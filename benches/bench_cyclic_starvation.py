"""Many cyclic tasks beside a busy Python thread: the frames each library still sends.

Usage (from the repository root, after ``make package``)::

    PYTHONPATH=build/pkg python3 benches/bench_cyclic_starvation.py \
        --ref build/ref-venv/bin/python [--tasks 50 100 200] [--period 0.01] [--seconds 3]

The workload of issue 19, item 8: ``--tasks`` cyclic tasks of ``--period`` seconds each (one
arbitration id per task) on one virtual bus, while one other thread runs a pure-Python CPU loop
all the time. A second virtual bus on the channel receives. The virtual bus stamps every frame
with ``time.time()`` when it is sent, so the count is implementation-neutral: the frames whose
send time falls in a window of ``--seconds`` that begins ``--warmup`` seconds after the tasks
were started, against ``tasks * seconds / period`` expected. Above 100 % means a few frames of
a catch-up burst landed in the window (the ratio of ours to python-can's is what matters).

Each row runs ours and python-can (``--ref``: its own interpreter and environment, a fresh
subprocess) one after the other, never at the same time. Benchmarks are not tests and do not
run in CI; on a shared machine the python-can rows vary a lot from run to run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve()


# -- child side: runs under either interpreter, imports whichever `can` it has ---------------


def child(tasks: int, period: float, seconds: float, warmup: float) -> dict[str, Any]:
    import can

    channel = f"bench-starvation-{os.getpid()}"
    tx = can.Bus(channel, interface="virtual")
    rx = can.Bus(channel, interface="virtual")
    done = threading.Event()

    def busy() -> None:
        x = 0
        while not done.is_set():
            for i in range(1000):
                x += i * i

    loader = threading.Thread(target=busy)
    loader.start()
    started = [
        tx.send_periodic(can.Message(arbitration_id=i, data=bytes(8)), period) for i in range(tasks)
    ]
    time.sleep(warmup)
    t0 = time.time()
    time.sleep(seconds + 0.1)
    stop0 = time.perf_counter()
    tx.stop_all_periodic_tasks()
    stop_took = time.perf_counter() - stop0
    done.set()
    loader.join()
    counted = 0
    while (msg := rx.recv(0)) is not None:
        counted += t0 <= msg.timestamp < t0 + seconds
    tx.shutdown()
    rx.shutdown()
    del started
    return {"frames": counted, "expected": tasks * seconds / period, "stop": stop_took}


# -- parent side ------------------------------------------------------------------------------


def environment_for(python: str) -> dict[str, str]:
    env = dict(os.environ)
    if python != sys.executable:
        env.pop("PYTHONPATH", None)  # the reference must not import our package
    elif env.get("PYTHONPATH"):
        # The children run in benches/: a relative PYTHONPATH=build/pkg must still work.
        paths = env["PYTHONPATH"].split(os.pathsep)
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in paths if p)
    return env


def run_child(python: str, tasks: int, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [python, str(HERE), "--child", "--tasks", str(tasks), "--period", str(args.period)]
    cmd += ["--seconds", str(args.seconds), "--warmup", str(args.warmup)]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=environment_for(python),
        cwd=HERE.parent,
        check=False,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{python} failed ({proc.returncode}):\n{proc.stderr}")
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def version_of(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import can; print(can.__version__, can.__file__)"],
        capture_output=True,
        text=True,
        env=environment_for(python),
        cwd=HERE.parent,
        check=True,
    )
    return out.stdout.strip()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ref", help="interpreter with upstream python-can installed")
    parser.add_argument("--tasks", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--period", type=float, default=0.01, help="seconds")
    parser.add_argument("--seconds", type=float, default=3.0, help="counting window")
    parser.add_argument("--warmup", type=float, default=0.5, help="seconds before the window")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.ref:
        args.ref = os.path.abspath(args.ref)  # the children run in benches/
    if args.child:
        (tasks,) = args.tasks
        print(json.dumps(child(tasks, args.period, args.seconds, args.warmup)))
        return 0

    print(f"# ours: {version_of(sys.executable)}")
    if args.ref:
        print(f"# python-can: {version_of(args.ref)}")
    print(f"# CPython {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores")
    print(f"# {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"# tasks at {args.period * 1e3:g} ms on one virtual bus, one busy Python thread, "
        f"frames sent in a {args.seconds:g} s window"
    )
    header = (
        f"{'tasks':>5} {'expected':>9} {'ours':>8} {'ours %':>7} {'stop s':>7} "
        f"{'python-can':>10} {'p-c %':>7} {'stop s':>7} {'ours/p-c':>9}"
    )
    print(header)
    print("-" * len(header))
    for tasks in args.tasks:
        ours = run_child(sys.executable, tasks, args)
        line = (
            f"{tasks:>5} {ours['expected']:>9.0f} {ours['frames']:>8} "
            f"{100 * ours['frames'] / ours['expected']:>6.1f}% {ours['stop']:>7.3f}"
        )
        if args.ref:
            ref = run_child(args.ref, tasks, args)
            ratio = ours["frames"] / ref["frames"] if ref["frames"] else float("inf")
            line += (
                f" {ref['frames']:>10} {100 * ref['frames'] / ref['expected']:>6.1f}%"
                f" {ref['stop']:>7.3f} {ratio:>8.2f}x"
            )
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
