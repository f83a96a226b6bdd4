"""Cyclic-send timing on the virtual interface, ours against upstream python-can, side by side.

Usage::

    python benches/bench_cyclic.py [--ref build/ref-venv/bin/python] [--period 0.001]
                                   [--seconds 5] [--repeat 1] [--load]

One task, ``bus.send_periodic(msg, period)``, runs for ``--seconds``; a thread on a second
virtual bus of the same channel receives the frames. The virtual bus stamps each frame with
``time.time()`` when it is sent, so the receive timestamps are the send times. From them:

* ``mean period``: ``(last - first) / (frames - 1)``, and its error against the period;
* ``p50 |dev|``, ``p99 |dev|`` and ``max |dev|``: the deviation of each frame from its ideal
  send time ``t0 + i * period`` (frame ``i`` belongs to slot ``i``: both libraries send every slot,
  catching up after a stall, so a frame sent late in a catch-up burst counts as late as it is),
  where ``t0`` is the median offset of all frames, i.e. the grid that fits the run best;
* ``drift``: the mean deviation of the last 10 % of the frames minus that of the first 10 %;
  a scheduler that sleeps one period after each send accumulates its lateness here;
* ``skipped``: slots with no frame (then the deviations after the gap are off by a period).
* ``cpu``: CPU time of the whole process (both threads) per second of the run.

With ``--load`` a third thread runs Python code in a loop during the run (GIL contention).
Each run is a fresh subprocess; ours and upstream's runs alternate, never overlap. Benchmarks
are not tests and do not run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve()


# -- child side: runs under either interpreter, imports whichever `can` it has ---------------


def child(period: float, seconds: float, load: bool) -> dict[str, Any]:
    import can

    channel = f"bench-cyclic-{os.getpid()}"
    tx = can.Bus(channel, interface="virtual")
    rx = can.Bus(channel, interface="virtual")
    stamps: list[float] = []
    done = threading.Event()

    def receive() -> None:
        while True:
            msg = rx.recv(0.5)
            if msg is None:
                if done.is_set():
                    return
                continue
            stamps.append(msg.timestamp)

    def busy() -> None:
        x = 0
        while not done.is_set():
            for i in range(1000):
                x += i * i

    receiver = threading.Thread(target=receive)
    receiver.start()
    loader = threading.Thread(target=busy) if load else None
    if loader:
        loader.start()
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    task = tx.send_periodic(can.Message(arbitration_id=0x100, data=bytes(8)), period)
    time.sleep(seconds)
    task.stop()
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    done.set()
    receiver.join()
    if loader:
        loader.join()
    tx.shutdown()
    rx.shutdown()

    # Frame i is sent for slot i: both libraries send every slot, catching up after a stall
    # (ours skips slots only when more than 20 ms behind; `skipped` says if that happened).
    t0 = statistics.median(t - i * period for i, t in enumerate(stamps))
    dev = [t - (t0 + i * period) for i, t in enumerate(stamps)]
    skipped = round((stamps[-1] - t0) / period) + 1 - len(stamps)
    absdev = sorted(abs(d) for d in dev)
    tenth = max(1, len(dev) // 10)
    return {
        "frames": len(stamps),
        "mean_period": (stamps[-1] - stamps[0]) / (len(stamps) - 1),
        "p50": absdev[len(absdev) // 2],
        "p99": absdev[min(len(absdev) - 1, int(0.99 * len(absdev)))],
        "max": absdev[-1],
        "drift": statistics.mean(dev[-tenth:]) - statistics.mean(dev[:tenth]),
        "skipped": skipped,
        "cpu": cpu / wall,
    }


# -- parent side ------------------------------------------------------------------------------


def run_child(python: str, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ)
    if python != sys.executable:
        env.pop("PYTHONPATH", None)  # the reference must not import our package
    cmd = [python, str(HERE), "--child", "--period", str(args.period), "--seconds"]
    cmd += [str(args.seconds), *(["--load"] if args.load else [])]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, cwd=HERE.parent, check=False, timeout=600
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{python} failed ({proc.returncode}):\n{proc.stderr}")
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def version_of(python: str) -> str:
    env = dict(os.environ)
    if python != sys.executable:
        env.pop("PYTHONPATH", None)
    out = subprocess.run(
        [python, "-c", "import can; print(can.__version__, can.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE.parent,
        check=True,
    )
    return out.stdout.strip()


def row(name: str, r: dict[str, Any], period: float) -> str:
    err = (r["mean_period"] - period) / period * 100
    return (
        f"{name:9} {r['frames']:>7} {r['mean_period'] * 1e3:>10.5f} ms {err:>+8.3f} % "
        f"{r['p50'] * 1e6:>9.1f} us {r['p99'] * 1e6:>9.1f} us {r['max'] * 1e6:>9.0f} us "
        f"{r['drift'] * 1e6:>+9.1f} us "
        f"{r['skipped']:>7} {r['cpu'] * 100:>6.0f} %"
    )


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ref", help="interpreter with upstream python-can installed")
    parser.add_argument("--period", type=float, default=0.001, help="seconds")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one run")
    parser.add_argument("--repeat", type=int, default=1, help="runs per library")
    parser.add_argument("--load", action="store_true", help="a busy Python thread runs too")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(child(args.period, args.seconds, args.load)))
        return 0

    print(f"# ours: {version_of(sys.executable)}")
    if args.ref:
        print(f"# upstream: {version_of(args.ref)}")
    print(f"# CPython {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores")
    print(f"# {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"# period {args.period * 1e3:g} ms for {args.seconds:g} s"
        + (", with a busy Python thread" if args.load else "")
    )
    header = (
        f"{'library':9} {'frames':>7} {'mean period':>13} {'error':>10} {'p50 |dev|':>12} "
        f"{'p99 |dev|':>12} "
        f"{'max |dev|':>12} {'drift':>12} {'skipped':>7} {'cpu':>8}"
    )
    print(header)
    print("-" * len(header))
    for _ in range(args.repeat):
        print(row("ours", run_child(sys.executable, args), args.period), flush=True)
        if args.ref:
            print(row("upstream", run_child(args.ref, args), args.period), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
