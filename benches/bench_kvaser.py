"""Kvaser CANlib send -> receive throughput through the simulated CANlib, ours against python-can
4.x's kvaser backend loaded on the same simulated library.

Usage::

    build/venv-test/bin/python benches/bench_kvaser.py [--ref build/ref-venv/bin/python]
                                                       [--n 100000] [--repeat 3]

The simulated library (tests/simlibs/kvaser, built into build/simlibs/kvaser) is what both
libraries load: ours through ``CAN_KVASER_LIBRARY``, python-can's through ``LD_LIBRARY_PATH``
(it loads ``libcanlib.so`` by name on Linux). Each run is a fresh subprocess; in it two buses
(``single_handle=True``) share channel 0, one sends ``--n`` frames (standard and extended ids,
0-8 data bytes) in bursts of 1000 and the other receives each burst before the next is sent.

Reported per library: frames/s over the whole send -> receive loop (median; wall clock, so
sensitive to other load on the machine), and the CPU time per frame spent in ``recv`` and in
``send`` (medians), and their sum in the best run (the figure least disturbed by other load).
The digest of the received frames (id, extended, data) must be the same for both ("same").

Benchmarks are not tests and do not run in CI.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
BURST = 1000


def frames(n: int) -> list[tuple[int, bool, bytes]]:
    out = []
    for i in range(n):
        extended = i % 3 == 0
        arbitration_id = (i * 2654435761) & (0x1FFFFFFF if extended else 0x7FF)
        out.append((arbitration_id, extended, bytes((i + k) & 0xFF for k in range(i % 9))))
    return out


def child(n: int) -> dict[str, Any]:
    import can

    tx = can.Bus(interface="kvaser", channel=0, single_handle=True)
    rx = can.Bus(interface="kvaser", channel=0, single_handle=True)
    msgs = [can.Message(arbitration_id=i, is_extended_id=e, data=d) for i, e, d in frames(n)]
    digest = hashlib.sha256()
    got = 0
    recv_cpu = send_cpu = 0.0
    wall0 = time.perf_counter()
    for start in range(0, n, BURST):
        burst = msgs[start : start + BURST]
        send = tx.send
        cpu0 = time.process_time()
        for msg in burst:
            send(msg)
        send_cpu += time.process_time() - cpu0
        recv = rx.recv
        cpu0 = time.process_time()
        received = [recv(5.0) for _ in burst]
        recv_cpu += time.process_time() - cpu0
        for m in received:
            if m is None:
                break
            got += 1
            digest.update(b"%d %d " % (m.arbitration_id, m.is_extended_id) + bytes(m.data))
    seconds = time.perf_counter() - wall0
    tx.shutdown()
    rx.shutdown()
    return {
        "seconds": seconds,
        "count": got,
        "digest": digest.hexdigest()[:16],
        "cpu_us_per_frame": recv_cpu / max(got, 1) * 1e6,
        "send_cpu_us_per_frame": send_cpu / max(got, 1) * 1e6,
        "version": getattr(can, "__version__", "?"),
    }


def main() -> int:
    sys.path.insert(0, str(HERE.parent))
    import harness

    args = harness.arguments(__doc__, ["send_recv"], 100_000)
    if args.child:
        print(json.dumps(child(args.n)))
        return 0
    sys.path.insert(0, str(ROOT / "tests" / "simlibs"))
    import simbuild

    lib = simbuild.build("kvaser", ROOT / "build" / "simlibs")
    os.environ["CAN_KVASER_LIBRARY"] = str(lib)
    os.environ["LD_LIBRARY_PATH"] = str(lib.parent)
    ref = harness.reference(args)
    print(f"# simulated CANlib: {lib}; {args.n} frames, bursts of {BURST}")
    results: dict[str, list[dict[str, Any]]] = {"ours": [], "ref": []}
    for _ in range(args.repeat):
        for who, python in (("ours", sys.executable), ("ref", ref)):
            if python is None:
                continue
            results[who].append(harness.run_child(HERE, python, "--child", "1", "--n", str(args.n)))
    print(
        f"{'library':<10} {'frames/s':>10} {'recv CPU/frame':>15} {'send CPU/frame':>15} "
        f"{'best CPU/frame':>15} {'received':>9} digest"
    )
    rates = {}
    cpus = {}
    bests = {}
    for who, runs in results.items():
        if not runs:
            continue
        rate = statistics.median(r["count"] / r["seconds"] for r in runs)
        cpu = statistics.median(r["cpu_us_per_frame"] for r in runs)
        send_cpu = statistics.median(r["send_cpu_us_per_frame"] for r in runs)
        best = min(r["cpu_us_per_frame"] + r["send_cpu_us_per_frame"] for r in runs)
        rates[who] = rate
        cpus[who] = cpu + send_cpu
        bests[who] = best
        last = runs[-1]
        print(
            f"{who:<10} {rate:>10.0f} {cpu:>12.2f} us {send_cpu:>12.2f} us {best:>12.2f} us "
            f"{last['count']:>9} {last['digest']}"
        )
    if len(rates) == 2:
        same = {r["digest"] for runs in results.values() for r in runs}
        print(
            f"frames/s ratio {rates['ours'] / rates['ref']:.1f}x, CPU per frame (send + recv) "
            f"ratio {cpus['ref'] / cpus['ours']:.1f}x (best run: "
            f"{bests['ref'] / bests['ours']:.1f}x), target 3x; same: {len(same) == 1}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
