"""SocketCAN benchmarks: this library against upstream python-can and plain Python sockets.

Usage::

    python benches/bench_socketcan.py [--ref build/ref-venv/bin/python] [--n N] [--repeat R]
                                      [--only NAME ...] [--flood SECONDS]

Without a ``vcan0`` interface on the host, the script runs itself again inside a real Linux
kernel through ``../shared/kernel/kernel-run.sh`` (``$KERNEL_RUN``), so that every figure of one
run comes from the same boot. Each workload runs in a fresh subprocess of each interpreter, the
interpreters interleaved, ``R`` times; the median rate is printed, with the ratio ours/theirs
(above 1: we are faster) and whether both saw the same frames.

Workloads (``vcan0``; frames of 8 bytes, standard ids):

``send_recv``
    one thread: ``bus1.send(msg); bus2.recv()``, N times (two sockets on vcan0).
``recv_drain``
    N frames are queued in the receiving socket first (large receive buffer), then received
    one ``recv()`` call each, as a plain loop does.
``recv_batch``
    the same N frames received with ``SocketcanBus.recv_batch`` (ours only).
``notifier_blf``
    the same N frames received by a ``can.Notifier`` that hands them to a ``BLFWriter``;
    timed from starting the notifier until the last frame reached the listeners.
``logger_cpu``
    the ``can-logger`` loop (``msg = bus.recv(1); logger(msg)``) into a BLF file over the
    same N queued frames; reports the process CPU time per frame (lower is better).

The plain-socket rows are the floor for one-frame-per-call Python code: a raw
``socket.socket(AF_CAN)`` with ``recv``/``send`` and ``struct.unpack``, no message objects
(``plain``), and the same reading the kernel timestamp with ``recvmsg`` (``plain_ts``; enabling
timestamps makes the kernel read the clock for every frame, which costs ~12 us per frame under
user-mode Linux, where the guest's clock is read through a host system call).
``--flood S`` also runs ``cangen -g 0`` for S seconds into a Notifier + BLF logger (ours) and
into plain ``candump`` (default receive buffer), and reports how many frames each lost.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
CHANNEL = "vcan0"
BIG_BUFFER = 64 * 1024 * 1024
SO_TIMESTAMPNS = 35  # asm-generic/socket.h

WORKLOADS = ["send_recv", "recv_drain", "recv_batch", "notifier_blf", "logger_cpu"]


# -- workloads (run in a subprocess of the interpreter being measured) ----------------------------


def _fill(n: int) -> None:
    """Queue n frames on vcan0 from a raw socket (not measured)."""
    import socket
    import struct

    s = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
    s.bind((CHANNEL,))
    for i in range(n):
        s.send(struct.pack("=IB3x8s", i % 0x800, 8, i.to_bytes(8, "little")))
    s.close()


def _enlarge(bus: Any) -> None:
    """Give an upstream bus the receive buffer ours asks for by itself (fair drain tests)."""
    import socket

    sock = getattr(bus, "socket", None)
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, 33, BIG_BUFFER)  # SO_RCVBUFFORCE


def _open_rx(kind: str) -> Any:
    if kind.startswith("plain"):
        import socket

        s = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
        s.setsockopt(socket.SOL_SOCKET, 33, BIG_BUFFER)
        if kind == "plain_ts":
            s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.bind((CHANNEL,))
        return s
    import can

    kwargs: dict[str, Any] = {}
    if kind == "ours":
        kwargs["receive_buffer_size"] = BIG_BUFFER
    bus = can.Bus(CHANNEL, interface="socketcan", **kwargs)
    _enlarge(bus)
    return bus


def _plain_reader(sock: Any, kind: str) -> Any:
    """One frame per call from a plain socket: its id (and, for plain_ts, its timestamp)."""
    import struct

    unpack = struct.unpack_from
    if kind == "plain_ts":
        recvmsg = sock.recvmsg

        def read_ts() -> int:
            data, anc, _flags, _addr = recvmsg(72, 64)
            sec, nsec = unpack("@ll", anc[0][2])
            _ = sec + nsec * 1e-9
            can_id: int = unpack("=I", data)[0]
            return can_id

        return read_ts
    recv = sock.recv

    def read() -> int:
        can_id: int = unpack("=I", recv(72))[0]
        return can_id

    return read


def _digest(ids: list[int]) -> str:
    import hashlib

    return hashlib.sha1(repr(ids).encode()).hexdigest()[:12]


def workload(name: str, kind: str, n: int) -> dict[str, Any]:
    import struct

    if name == "send_recv":
        if kind.startswith("plain"):
            import socket

            tx = socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)
            tx.bind((CHANNEL,))
            rx = _open_rx(kind)
            frame = struct.pack("=IB3x8s", 0x123, 8, b"12345678")
            ids = []
            read = _plain_reader(rx, kind)
            t0 = time.perf_counter()
            for _ in range(n):
                tx.send(frame)
                ids.append(read())
            dt = time.perf_counter() - t0
            return {"rate": n / dt, "result": _digest(ids)}
        import can

        tx = can.Bus(CHANNEL, interface="socketcan")
        rx = can.Bus(CHANNEL, interface="socketcan")
        msg = can.Message(arbitration_id=0x123, data=b"12345678", is_extended_id=False)
        ids = []
        t0 = time.perf_counter()
        for _ in range(n):
            tx.send(msg)
            ids.append(rx.recv().arbitration_id)
        dt = time.perf_counter() - t0
        tx.shutdown()
        rx.shutdown()
        return {"rate": n / dt, "result": _digest(ids)}

    rx = _open_rx(kind)
    _fill(n)
    ids = []
    if name == "recv_drain":
        if kind.startswith("plain"):
            read = _plain_reader(rx, kind)
            t0 = time.perf_counter()
            for _ in range(n):
                ids.append(read())
        else:
            recv = rx.recv
            t0 = time.perf_counter()
            for _ in range(n):
                ids.append(recv().arbitration_id)
        dt = time.perf_counter() - t0
    elif name == "recv_batch":
        t0 = time.perf_counter()
        while len(ids) < n:
            ids.extend(m.arbitration_id for m in rx.recv_batch(1.0, 256))
        dt = time.perf_counter() - t0
    elif name == "notifier_blf":
        import threading

        import can

        done = threading.Event()
        count = [0]

        def counter(msg: Any) -> None:
            ids.append(msg.arbitration_id)
            count[0] += 1
            if count[0] >= n:
                done.set()

        with tempfile.TemporaryDirectory() as tmp:
            writer = can.BLFWriter(os.path.join(tmp, "bench.blf"))
            t0 = time.perf_counter()
            notifier = can.Notifier(rx, [writer, counter])
            if not done.wait(600):
                raise RuntimeError(f"only {count[0]} of {n} frames arrived")
            dt = time.perf_counter() - t0
            notifier.stop()  # stops the listeners too: the writer flushes and closes
    elif name == "logger_cpu":
        import can

        with tempfile.TemporaryDirectory() as tmp:
            logger = can.BLFWriter(os.path.join(tmp, "bench.blf"))
            c0 = time.process_time()
            t0 = time.perf_counter()
            while len(ids) < n:
                msg = rx.recv(1)
                if msg is not None:
                    logger(msg)
                    ids.append(msg.arbitration_id)
            cpu = time.process_time() - c0
            dt = time.perf_counter() - t0
            logger.stop()
        rx.shutdown()
        return {"rate": n / dt, "cpu_us": cpu / n * 1e6, "result": _digest(ids)}
    else:
        raise SystemExit(f"unknown workload {name}")
    if not kind.startswith("plain"):
        rx.shutdown()
    return {"rate": n / dt, "result": _digest(ids)}


# -- the runner -----------------------------------------------------------------------------------


def run_one(python: str, name: str, kind: str, n: int) -> dict[str, Any]:
    proc = subprocess.run(
        [python, str(HERE), "--workload", name, "--kind", kind, "--n", str(n)],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
        timeout=900,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{python} {name} ({kind}) failed:\n{proc.stdout}{proc.stderr}")
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def fmt_rate(rate: float) -> str:
    return f"{rate / 1e3:8.1f} k/s"


def flood(seconds: float, python: str) -> None:
    """cangen -g 0 for `seconds` into (a) Notifier + BLF logger (ours), (b) plain candump."""
    print(f"\ncangen -g 0 for {seconds:g} s (frames counted by cangen itself via -n is not used;")
    print("the sender's count comes from the interface's TX counter)")
    script = f"""
import can, time, threading, os, sys
bus = can.Bus("{CHANNEL}", interface="socketcan")
path = "/tmp/bench_flood.blf"
writer = can.BLFWriter(path)
count = [0]
def counter(msg):
    count[0] += 1
notifier = can.Notifier(bus, [writer, counter])
print("ready", flush=True)
sys.stdin.readline()
time.sleep(1.0)
notifier.stop()  # also stops (flushes) the writer
print(count[0], bus.dropped_frames, flush=True)
bus.shutdown()
"""

    def tx_packets() -> int:
        return int(Path(f"/sys/class/net/{CHANNEL}/statistics/tx_packets").read_text())

    proc = subprocess.Popen(
        [python, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdin is not None
    proc.stdout.readline()
    before = tx_packets()
    cangen = subprocess.Popen(["cangen", CHANNEL, "-g", "0", "-L", "8", "-I", "i", "-D", "i"])
    time.sleep(seconds)
    cangen.terminate()
    cangen.wait()
    sent = tx_packets() - before
    proc.stdin.write("\n")
    proc.stdin.flush()
    got, dropped = (int(x) for x in proc.stdout.readline().split())
    proc.wait()
    print(
        f"  Notifier + BLFWriter (ours): sent {sent}, logged {got}, lost {sent - got} "
        f"(kernel drop counter {dropped}); {sent / seconds / 1e3:.1f} k frames/s offered"
    )

    with open("/tmp/bench_flood_candump.log", "w") as out:
        dump = subprocess.Popen(["candump", "-L", CHANNEL], stdout=out)
        time.sleep(0.3)
        before = tx_packets()
        cangen = subprocess.Popen(["cangen", CHANNEL, "-g", "0", "-L", "8", "-I", "i", "-D", "i"])
        time.sleep(seconds)
        cangen.terminate()
        cangen.wait()
        sent = tx_packets() - before
        time.sleep(1.0)
        dump.terminate()
        dump.wait()
    got = sum(1 for _ in open("/tmp/bench_flood_candump.log"))
    print(
        f"  candump -L (default receive buffer): sent {sent}, logged {got}, lost {sent - got}; "
        f"{sent / seconds / 1e3:.1f} k frames/s offered"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ref", default="build/ref-venv/bin/python", help="upstream interpreter")
    ap.add_argument("--python", default=sys.executable, help="interpreter with this library")
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--flood", type=float, default=0.0, help="seconds of cangen -g 0")
    ap.add_argument("--workload", help=argparse.SUPPRESS)
    ap.add_argument("--kind", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.workload:
        print(json.dumps(workload(args.workload, args.kind, args.n)))
        return 0

    if not Path(f"/sys/class/net/{CHANNEL}").exists():
        kernel_run = os.environ.get("KERNEL_RUN", str(ROOT.parent / "shared/kernel/kernel-run.sh"))
        if not os.access(kernel_run, os.X_OK):
            print(f"no {CHANNEL} and no kernel-run.sh ({kernel_run}): nothing to measure")
            return 1
        print(f"no {CHANNEL} here: running inside a real kernel ({kernel_run})", flush=True)
        return subprocess.call([kernel_run, args.python, str(HERE), *sys.argv[1:]])

    print(f"kernel {os.uname().release}; ours: {args.python}; upstream: {args.ref}; N={args.n}")
    kinds: list[tuple[str, str]] = [("ours", args.python)]
    if args.ref and os.path.exists(args.ref):
        kinds.append(("upstream", args.ref))
    kinds.append(("plain", args.python))
    kinds.append(("plain_ts", args.python))
    names = args.only or WORKLOADS
    summary: dict[str, float] = {}
    for name in names:
        results: dict[str, list[dict[str, Any]]] = {}
        for _ in range(args.repeat):
            for kind, python in kinds:
                if kind.startswith("plain") and name not in ("send_recv", "recv_drain"):
                    continue
                if kind != "ours" and name == "recv_batch":
                    continue
                results.setdefault(kind, []).append(run_one(python, name, kind, args.n))
        print(f"\n{name}")
        med: dict[str, float] = {}
        for kind, runs in results.items():
            med[kind] = statistics.median(r["rate"] for r in runs)
            line = f"  {kind:9s} {fmt_rate(med[kind])}"
            if "cpu_us" in runs[0]:
                cpu = statistics.median(r["cpu_us"] for r in runs)
                med[kind + "_cpu"] = cpu
                line += f"   CPU {cpu:7.1f} us/frame"
            line += "   runs: " + ", ".join(fmt_rate(r["rate"]).strip() for r in runs)
            print(line)
        same: Optional[bool] = None
        if "upstream" in results:
            same = results["ours"][0]["result"] == results["upstream"][0]["result"]
            print(f"  ours/upstream throughput: {med['ours'] / med['upstream']:.2f}x")
            if "ours_cpu" in med:
                print(f"  CPU per frame ours/upstream: {med['ours_cpu'] / med['upstream_cpu']:.3f}")
            print(f"  same frames received: {same}")
        if "plain" in results:
            print(
                f"  ours/plain socket: {med['ours'] / med['plain']:.2f}x; "
                f"ours/plain socket with timestamps: {med['ours'] / med['plain_ts']:.2f}x"
            )
        summary.update({f"{name}/{k}": v for k, v in med.items()})
    if "recv_batch/ours" in summary and "recv_drain/plain" in summary:
        print(
            "\nrecv_batch (ours) / plain socket recv loop: "
            f"{summary['recv_batch/ours'] / summary['recv_drain/plain']:.2f}x "
            f"(with timestamps: {summary['recv_batch/ours'] / summary['recv_drain/plain_ts']:.2f}x)"
        )
    if args.flood:
        flood(args.flood, args.python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
