"""Vector backend throughput through the simulated XL Driver Library, ours against python-can
4.x's ``VectorBus`` on the same library in the same run.

Usage::

    build/venv-test/bin/python benches/bench_vector.py [--ref build/ref-venv/bin/python]
                                                       [--n 100000] [--repeat 3]
                                                       [--only rx,rx_fd]

The simulated library (tests/simlibs/vector, built on demand into build/simlibs/vector) is
what both libraries load. Ours loads it as it loads any vxlapi: by ``CAN_VECTOR_LIBRARY``.
python-can 4.x cannot load any vxlapi on Linux as it is: its ``xldriver`` module calls
``ctypes.windll.LoadLibrary(ctypes.util.find_library("vxlapi64"))``, and ``ctypes.windll``
exists only on Windows (``find_library`` would also need the library to carry a SONAME), and
its ``VectorBus`` refuses any ``os.name`` but ``"nt"``, and its structures use ``c_long`` /
``c_ulong``, which are 32 bits wide on Windows but 64 on Linux (its ``XLevent`` comes out 56
bytes instead of 48). The reference child therefore gets three shims before it imports ``can``:
``ctypes.windll`` becomes a ``ctypes.CDLL`` loader, ``find_library("vxlapi64")`` returns the
simulated library's path, and ``ctypes.c_long`` / ``c_ulong`` become the 32-bit types they are
on Windows; and its buses are opened with
``_testing=True``, python-can's own switch that skips the ``os.name`` check (and the read-back
of the bit rate after opening, outside the timed part). Nothing else of python-can is touched;
on Linux it has no notification handle and polls ``xlReceive``, which in these workloads always
finds frames waiting.

Workloads, each in a fresh subprocess per library and repeat, the libraries' runs interleaved;
the median is reported:

* ``rx``: two buses on channel 0 (classic CAN, ``xlCanTransmit``/``xlReceive``); ``--n``
  frames (standard and extended ids, 0-8 bytes) are sent in batches of 1000 by one and
  ``recv()``-ed by the other. Reported: frames/s (send + receive) by the wall clock and per
  CPU second of the process (``time.process_time``: what the library costs, independent of
  how loaded the machine is), and the receiving side's CPU time per frame (around the
  ``recv`` calls only).
* ``rx_fd``: the same with ``fd=True`` (``xlCanTransmitEx``/``xlCanReceive``), CAN FD frames of
  0-64 bytes with and without bit rate switch mixed with classic ones.

Each run reports a digest of the received frames (id, kind, data, FD flags); the table says
whether both libraries received the same frames.

Benchmarks are not tests and do not run in CI.
"""

from __future__ import annotations

import argparse
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
sys.path.insert(0, str(HERE.parent))
import harness  # noqa: E402

TARGETS = {"rx": 3.0, "rx_fd": 3.0}
BATCH = 1000


def frames(can: Any, n: int, fd: bool) -> list[Any]:
    out = []
    for i in range(n):
        extended = i % 3 == 0
        ident = (i * 2654435761) & (0x1FFFFFFF if extended else 0x7FF)
        if fd and i % 2:
            length = (0, 8, 12, 16, 20, 24, 32, 48, 64)[i % 9]
            out.append(
                can.Message(
                    arbitration_id=ident,
                    is_extended_id=extended,
                    is_fd=True,
                    bitrate_switch=i % 4 == 1,
                    data=bytes((i + k) & 0xFF for k in range(length)),
                )
            )
        else:
            out.append(
                can.Message(
                    arbitration_id=ident,
                    is_extended_id=extended,
                    data=bytes((i + k) & 0xFF for k in range(i % 9)),
                )
            )
    return out


def shim_for_python_can(library: str) -> None:
    """What python-can 4.x's Windows-only loader needs to load ``library`` on Linux."""
    import ctypes
    import ctypes.util

    ctypes.windll = ctypes.LibraryLoader(ctypes.CDLL)  # type: ignore[attr-defined]
    # python-can declares the structures with c_long / c_ulong, which are 32 bits on Windows
    # (LLP64) but 64 on Linux (LP64): as they are, its XLevent is 56 bytes instead of 48.
    ctypes.c_long = ctypes.c_int32  # type: ignore[misc]
    ctypes.c_ulong = ctypes.c_uint32  # type: ignore[misc]
    real = ctypes.util.find_library

    def find_library(name: str) -> Any:
        return library if name in ("vxlapi64", "vxlapi") else real(name)

    ctypes.util.find_library = find_library


def child(args: argparse.Namespace) -> None:
    library = os.environ["CAN_VECTOR_LIBRARY"]
    if args.upstream:
        shim_for_python_can(library)
    import can

    fd = args.child == "rx_fd"
    options: dict[str, Any] = {"interface": "vector", "channel": 0, "app_name": "CANalyzer"}
    if fd:
        options.update(fd=True, rx_queue_size=2**19)
    if args.upstream:
        options["_testing"] = True
    tx = can.Bus(bitrate=500_000, **({"data_bitrate": 2_000_000} if fd else {}), **options)
    rx = can.Bus(**options)
    msgs = frames(can, args.n, fd)
    digest = hashlib.sha256()
    try:
        for m in msgs[:BATCH]:  # warm-up, not timed
            tx.send(m)
        for _ in range(BATCH):
            rx.recv(1.0)
        wall = cpu = cpu_all = 0.0
        count = 0
        for start in range(0, len(msgs), BATCH):
            batch = msgs[start : start + BATCH]
            c0 = time.process_time()
            t0 = time.perf_counter()
            for m in batch:
                tx.send(m)
            c1 = time.process_time()
            got = [rx.recv(1.0) for _ in batch]
            c2 = time.process_time()
            t2 = time.perf_counter()
            wall += t2 - t0
            cpu += c2 - c1
            cpu_all += c2 - c0
            for m in got:
                assert m is not None, "a frame was lost"
                count += 1
                digest.update(
                    f"{m.arbitration_id}:{m.is_extended_id}:{m.is_fd}:{m.bitrate_switch}:"
                    f"{bytes(m.data).hex()};".encode()
                )
    finally:
        tx.shutdown()
        rx.shutdown()
    print(
        json.dumps(
            {
                "seconds": wall,
                "cpu": cpu,
                "cpu_all": cpu_all,
                "count": count,
                "digest": digest.hexdigest()[:16],
            }
        )
    )


def main() -> None:
    args = harness.arguments(__doc__, list(TARGETS), 100_000)
    if args.child:
        args.upstream = os.environ.get("BENCH_VECTOR_UPSTREAM") == "1"
        child(args)
        return
    sys.path.insert(0, str(ROOT / "tests" / "simlibs"))
    import simbuild

    library = simbuild.build("vector", ROOT / "build" / "simlibs")
    os.environ["CAN_VECTOR_LIBRARY"] = str(library)
    ref = harness.reference(args)
    print(f"# simulated library {library}; {args.n} frames per run, batches of {BATCH}")
    print(
        f"{'workload':<8} {'ours f/s':>9} {'upstream':>9} {'ratio':>6} {'ours f/cpu-s':>13} "
        f"{'upstream':>9} {'ratio':>6} {'target':>6} {'ours rx cpu/f':>14} {'upstream':>9} same"
    )
    for name in args.only.split(","):
        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "ref": []}
        for _ in range(args.repeat):
            for who, python in (("ours", sys.executable), ("ref", ref)):
                if python is None:
                    continue
                os.environ["BENCH_VECTOR_UPSTREAM"] = "1" if who == "ref" else "0"
                runs[who].append(
                    harness.run_child(HERE, python, "--child", name, "--n", str(args.n))
                )

        def med(who: str, key: str, runs: dict[str, list[dict[str, Any]]] = runs) -> float:
            return statistics.median(r[key] for r in runs[who])

        def rate(who: str, key: str, runs: dict[str, list[dict[str, Any]]] = runs) -> float:
            return statistics.median(r["count"] / r[key] for r in runs[who])

        ours = (rate("ours", "seconds"), rate("ours", "cpu_all"))
        ours_rx = med("ours", "cpu") / runs["ours"][0]["count"] * 1e6
        if not runs["ref"]:
            print(f"{name:<8} {ours[0]:>9.0f} {ours[1]:>30.0f} {ours_rx:>28.2f}us")
            continue
        ref_rates = (rate("ref", "seconds"), rate("ref", "cpu_all"))
        ref_rx = med("ref", "cpu") / runs["ref"][0]["count"] * 1e6
        same = {(r["digest"], r["count"]) for r in runs["ours"] + runs["ref"]}
        print(
            f"{name:<8} {ours[0]:>9.0f} {ref_rates[0]:>9.0f} {ours[0] / ref_rates[0]:>5.1f}x "
            f"{ours[1]:>13.0f} {ref_rates[1]:>9.0f} {ours[1] / ref_rates[1]:>5.1f}x "
            f"{TARGETS[name]:>5}x {ours_rx:>12.2f}us {ref_rx:>7.2f}us "
            f"{'yes' if len(same) == 1 else 'NO'}",
            flush=True,
        )


if __name__ == "__main__":
    main()
