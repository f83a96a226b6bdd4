"""Serial and slcan throughput through a pseudo-terminal pair, ours against python-can 4.x.

Usage::

    build/venv-test/bin/python benches/bench_serial.py [--ref build/ref-venv/bin/python]
                                                       [--n 50000] [--repeat 3]

The interpreter that runs this script must have our ``can`` and pyserial installed (the test
venv of ``make test-venv`` has both); ``--ref`` names one with upstream python-can and pyserial
(``make ref-venv``). Every run is a fresh subprocess of one interpreter, the two libraries' runs
interleaved so that both see the same machine load; the median is reported.

In each run the bus opens the slave end of a new ``os.openpty()`` pair and a forked child
process plays the device on the master end with plain ``os.read``/``os.write``:

* ``rx``: the device writes ``--n`` frames (standard and extended ids, 0-8 data bytes) as fast
  as the terminal takes them; the bus ``recv()``\\ s them all. Reported: frames/s (wall) and the
  bus process's CPU time per received frame.
* ``tx``: the bus ``send()``\\ s ``--n`` messages; the device reads until it has every byte.
  Reported: frames/s from the first send until the device has read the last byte.

Both interfaces are measured: ``slcan`` (ASCII lines) and ``serial`` (the binary frames of
manual 4.3.2). Each run also reports a digest (rx: of the received messages' id, flags and data;
tx: of the bytes the device read), and the table says whether both libraries agree.

Benchmarks are not tests and do not run in CI.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import select
import statistics
import struct
import subprocess
import sys
import time
import tty
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve()


# -- the frames --------------------------------------------------------------------------------


def frames(n: int) -> list[tuple[int, bool, bytes]]:
    """``n`` frames: (id, extended, data), standard and extended ids, 0-8 data bytes."""
    out = []
    for i in range(n):
        extended = i % 3 == 0
        arbitration_id = (i * 2654435761) & (0x1FFFFFFF if extended else 0x7FF)
        length = i % 9
        out.append((arbitration_id, extended, bytes((i + k) & 0xFF for k in range(length))))
    return out


def slcan_line(arbitration_id: int, extended: bool, data: bytes) -> bytes:
    head = f"T{arbitration_id:08X}{len(data)}" if extended else f"t{arbitration_id:03X}{len(data)}"
    return head.encode() + data.hex().upper().encode() + b"\r"


def serial_frame(arbitration_id: int, extended: bool, data: bytes) -> bytes:
    field = arbitration_id | (0x80000000 if extended else 0)
    return struct.pack("<BIBI", 0xAA, 0, len(data), field) + data + b"\xbb"


# -- child side: runs under either interpreter, imports whichever `can` it has ---------------


def _drain(fd: int, quiet: float = 0.1) -> None:
    """Read and drop what the bus wrote at open, until the line is quiet for ``quiet`` s."""
    while select.select([fd], [], [], quiet)[0]:
        try:
            if not os.read(fd, 65536):
                return
        except OSError:
            return


def worker(interface: str, direction: str, n: int) -> dict[str, Any]:
    import can

    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    path = os.ttyname(slave)
    if interface == "slcan":
        from can.interfaces.slcan import slcanBus

        bus: Any = slcanBus(path, bitrate=500000, sleep_after_open=0)
        encode = slcan_line
    else:
        from can.interfaces.serial.serial_can import SerialBus

        bus = SerialBus(path)
        encode = serial_frame
    _drain(master)
    todo = frames(n)
    wire = b"".join(encode(*f) for f in todo)
    digest = hashlib.sha256()
    result: dict[str, Any] = {"version": getattr(can, "__version__", "?")}
    if direction == "rx":
        pid = os.fork()
        if pid == 0:  # the device: write everything, blocking
            try:
                view = memoryview(wire)
                while view:
                    view = view[os.write(master, view) :]
            finally:
                os._exit(0)
        got = 0
        wall0, cpu0 = time.perf_counter(), time.process_time()
        while got < n:
            msg = bus.recv(5.0)
            if msg is None:
                break
            got += 1
            digest.update(
                b"%d %d %d %d " % (msg.arbitration_id, msg.is_extended_id, msg.dlc, 0)
                + bytes(msg.data)
            )
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        os.waitpid(pid, 0)
        result.update(frames=got, wall=wall, cpu_us_per_frame=cpu / max(got, 1) * 1e6)
    else:
        messages = [
            can.Message(arbitration_id=i, is_extended_id=e, data=d, timestamp=0.0)
            for i, e, d in todo
        ]
        report_r, report_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the device: read every byte, then report their digest
            try:
                seen = hashlib.sha256()
                left = len(wire)
                while left > 0:
                    chunk = os.read(master, 65536)
                    if not chunk:
                        break
                    seen.update(chunk)
                    left -= len(chunk)
                os.write(report_w, (seen.hexdigest() + f" {left}").encode())
            finally:
                os._exit(0)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for msg in messages:
            bus.send(msg)
        cpu = time.process_time() - cpu0
        report = os.read(report_r, 200).decode().split()
        wall = time.perf_counter() - wall0
        os.waitpid(pid, 0)
        digest.update(report[0].encode())
        result.update(
            frames=n if report[1] == "0" else -1,
            wall=wall,
            cpu_us_per_frame=cpu / n * 1e6,
        )
    bus.shutdown()
    result["rate"] = result["frames"] / result["wall"] if result["wall"] > 0 else 0.0
    result["digest"] = digest.hexdigest()[:16]
    return result


# -- parent side ---------------------------------------------------------------------------------


def run(python: str, interface: str, direction: str, n: int, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [python, str(HERE), "--worker", interface, direction, str(n)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{python} {interface} {direction} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", nargs=3, metavar=("IFACE", "DIR", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--ref", help="interpreter with upstream python-can and pyserial")
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.worker:
        interface, direction, n = args.worker
        print(json.dumps(worker(interface, direction, int(n))))
        return
    env = dict(os.environ)
    env["PYTHONWARNINGS"] = "ignore"
    # The reference interpreter must import its own python-can, never ours from PYTHONPATH.
    ref_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, n={args.n}, "
        f"median of {args.repeat}, {os.cpu_count()} CPUs"
    )
    header = f"{'interface':<9} {'dir':<3} {'ours frames/s':>14} {'µs CPU/frame':>13}"
    if args.ref:
        header += f" {'python-can':>11} {'µs CPU/frame':>13} {'ratio':>6} {'same':>5}"
    print(header)
    for interface in ("slcan", "serial"):
        for direction in ("rx", "tx"):
            ours: list[dict[str, Any]] = []
            theirs: list[dict[str, Any]] = []
            for _ in range(args.repeat):
                ours.append(run(sys.executable, interface, direction, args.n, env))
                if args.ref:
                    theirs.append(run(args.ref, interface, direction, args.n, ref_env))
            rate = statistics.median(r["rate"] for r in ours)
            cpu = statistics.median(r["cpu_us_per_frame"] for r in ours)
            line = f"{interface:<9} {direction:<3} {rate:>14,.0f} {cpu:>13.2f}"
            if theirs:
                ref_rate = statistics.median(r["rate"] for r in theirs)
                ref_cpu = statistics.median(r["cpu_us_per_frame"] for r in theirs)
                complete = all(r["frames"] == args.n for r in ours + theirs)
                same = complete and len({r["digest"] for r in ours + theirs}) == 1
                line += (
                    f" {ref_rate:>11,.0f} {ref_cpu:>13.2f} {rate / ref_rate:>5.1f}x "
                    f"{'yes' if same else 'NO':>5}"
                )
            print(line, flush=True)
            versions = {r["version"] for r in theirs}
            if theirs and versions == {r["version"] for r in ours}:
                raise SystemExit(f"both runs imported the same can ({versions}): check --ref")


if __name__ == "__main__":
    main()
