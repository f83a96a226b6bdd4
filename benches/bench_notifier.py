"""Notifier throughput, ours against upstream python-can, side by side.

Usage::

    python benches/bench_notifier.py [--ref build/ref-venv/bin/python] [--n 1000000] [--repeat 3]

End to end, as an application sees it: a sender thread sends ``--n`` frames (8 data bytes,
increasing arbitration ids) on one virtual bus; a :class:`can.Notifier` on a second bus of the
same channel hands each frame to its listener; the main thread takes them out until it has all
of them. The rate is frames per second from the first send to the last frame taken out.
Two workloads:

* ``threads``: ``Notifier(bus, [BufferedReader()])``, the main thread calls
  ``reader.get_message()``;
* ``asyncio``: ``Notifier(bus, [AsyncBufferedReader()], loop=loop)``, a coroutine awaits
  ``reader.get_message()``.

Each run is a fresh subprocess; ours and upstream's runs are interleaved so that both see the
same machine load, and the median rate is reported. Every run also checks that it received every
frame, in order ("same result" compares those checks). Benchmarks are not tests and do not run
in CI.
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
WORKLOADS = ("threads", "asyncio")


# -- child side: runs under either interpreter, imports whichever `can` it has ---------------


def child(workload: str, n: int) -> dict[str, Any]:
    import can

    channel = f"bench-notifier-{os.getpid()}"
    tx = can.Bus(channel, interface="virtual")
    rx = can.Bus(channel, interface="virtual")
    frame = can.Message(arbitration_id=0, data=b"\x01\x02\x03\x04\x05\x06\x07\x08")
    mask = 0x1FFFFFFF

    def send_all() -> None:
        for i in range(n):
            frame.arbitration_id = i & mask
            tx.send(frame)

    in_order = True
    received = 0
    if workload == "threads":
        reader = can.BufferedReader()
        notifier = can.Notifier(rx, [reader])
        sender = threading.Thread(target=send_all)
        t0 = time.perf_counter()
        sender.start()
        get = reader.get_message
        while received < n:
            msg = get(5.0)
            if msg is None:
                break
            if msg.arbitration_id != received & mask:
                in_order = False
            received += 1
        elapsed = time.perf_counter() - t0
    else:
        import asyncio

        async def main() -> tuple[int, bool, float, float]:
            loop = asyncio.get_running_loop()
            reader = can.AsyncBufferedReader()
            notifier = can.Notifier(rx, [reader], loop=loop)
            sender = threading.Thread(target=send_all)
            got, ordered = 0, True

            async def take_all() -> None:
                nonlocal got, ordered
                get = reader.get_message
                while got < n:
                    msg = await get()
                    if msg.arbitration_id != got & mask:
                        ordered = False
                    got += 1

            t0 = time.perf_counter()
            sender.start()
            try:
                await asyncio.wait_for(take_all(), timeout=max(60.0, n / 10_000))
            except asyncio.TimeoutError:
                pass
            elapsed = time.perf_counter() - t0
            sender.join()
            t_stop = time.perf_counter()
            notifier.stop()
            return got, ordered, elapsed, time.perf_counter() - t_stop

        received, in_order, elapsed, stop_s = asyncio.run(main())
    if workload == "threads":
        sender.join()
        t_stop = time.perf_counter()
        notifier.stop()
        stop_s = time.perf_counter() - t_stop
    tx.shutdown()
    rx.shutdown()
    return {
        "rate": received / elapsed,
        "seconds": elapsed,
        "result": f"{received} frames, {'in order' if in_order else 'OUT OF ORDER'}",
        "complete": received == n and in_order,
        "stop_s": stop_s,
    }


# -- parent side ------------------------------------------------------------------------------


def run_child(python: str, workload: str, n: int) -> dict[str, Any]:
    env = dict(os.environ)
    if python != sys.executable:
        # The reference interpreter must not pick up our package from PYTHONPATH.
        env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [python, str(HERE), "--child", workload, "--n", str(n)],
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE.parent,
        check=False,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{python} {workload} failed ({proc.returncode}):\n{proc.stderr}")
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def version_of(python: str) -> str:
    env = dict(os.environ)
    if python != sys.executable:
        env.pop("PYTHONPATH", None)
    out = subprocess.run(
        [python, "-c", "import can, sys; print(can.__version__, can.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE.parent,
        check=True,
    )
    return out.stdout.strip()


def fmt(rate: float) -> str:
    return f"{rate / 1e3:9.1f} kframes/s"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ref", help="interpreter with upstream python-can installed")
    parser.add_argument("--n", type=int, default=1_000_000, help="frames per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per library and workload")
    parser.add_argument("--only", choices=WORKLOADS, help="run one workload")
    parser.add_argument("--child", choices=WORKLOADS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(child(args.child, args.n)))
        return 0

    print(f"# ours: {version_of(sys.executable)}")
    if args.ref:
        print(f"# upstream: {version_of(args.ref)}")
    print(f"# CPython {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores")
    print(f"# {' '.join([Path(sys.executable).name, *sys.argv])}")
    header = f"{'workload':10} {'N':>9} {'ours':>18} {'upstream':>18} {'ours/theirs':>12}"
    header += "  same result"
    print(header)
    print("-" * len(header))
    workloads = [args.only] if args.only else list(WORKLOADS)
    for workload in workloads:
        ours: list[dict[str, Any]] = []
        theirs: list[dict[str, Any]] = []
        for _ in range(args.repeat):
            ours.append(run_child(sys.executable, workload, args.n))
            if args.ref:
                theirs.append(run_child(args.ref, workload, args.n))
        our_rate = statistics.median(r["rate"] for r in ours)
        line = f"{workload:10} {args.n:>9} {fmt(our_rate):>18}"
        if theirs:
            their_rate = statistics.median(r["rate"] for r in theirs)
            same = (
                all(r["complete"] for r in ours + theirs)
                and len({r["result"] for r in ours + theirs}) == 1
            )
            line += f" {fmt(their_rate):>18} {our_rate / their_rate:11.2f}x  "
            line += f"{'yes' if same else 'NO'} ({ours[0]['result']})"
        else:
            line += f" {'-':>18} {'-':>12}  {ours[0]['result']}"
        print(line, flush=True)
        stops = [r["stop_s"] for r in ours]
        note = f"{'':10} notifier.stop() took at most {max(stops) * 1e3:.0f} ms (ours)"
        if theirs:
            note += f", {max(r['stop_s'] for r in theirs) * 1e3:.0f} ms (upstream)"
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
