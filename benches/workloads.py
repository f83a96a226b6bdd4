"""Benchmark workloads, run in a subprocess by benches/run.py under either interpreter.

This script uses only the public python-can API (``can.Message``, ``str()``,
``can.interfaces.virtual.VirtualBus``), so the same file runs against this library and against
upstream python-can. It runs one workload once and prints one JSON object::

    python benches/workloads.py NAME N
    {"name": ..., "n": N, "seconds": ..., "result": ..., "can_file": ..., "can_version": ...}

``seconds`` covers the timed loop only (no imports, no set-up). ``result`` is what both
libraries must agree on (a checksum of what was received, or a count), so benches/run.py can
tell whether they did the same work.
"""

from __future__ import annotations

import gc
import json
import sys
import threading
import time
from typing import Any, Callable

import can
from can.interfaces.virtual import VirtualBus

# The payloads and ids the workloads cycle through (256 distinct frames).
POOL = 256
IDS = [(0x100 + 7 * i) & 0x7FF for i in range(POOL)]
PAYLOADS = [bytes((i + j) & 0xFF for j in range(8)) for i in range(POOL)]


def message_create(n: int) -> tuple[float, Any]:
    """``can.Message(arbitration_id=..., data=..., is_extended_id=...)`` n times."""
    message = can.Message
    payload = PAYLOADS[1]
    msg = None
    t0 = time.perf_counter()
    for i in range(n):
        msg = message(arbitration_id=i & 0x7FF, data=payload, is_extended_id=False)
    elapsed = time.perf_counter() - t0
    assert msg is not None
    result = [msg.arbitration_id, bytes(msg.data).hex(), msg.dlc, msg.is_extended_id]
    return elapsed, result


def message_create_list(n: int) -> tuple[float, Any]:
    """As message_create, with ``data`` a list of 8 ints (as in the manual's examples)."""
    message = can.Message
    payload = list(PAYLOADS[1])
    msg = None
    t0 = time.perf_counter()
    for i in range(n):
        msg = message(arbitration_id=i & 0x7FF, data=payload, is_extended_id=False)
    elapsed = time.perf_counter() - t0
    assert msg is not None
    result = [msg.arbitration_id, bytes(msg.data).hex(), msg.dlc, msg.is_extended_id]
    return elapsed, result


def _pool_messages() -> list[can.Message]:
    return [
        can.Message(
            timestamp=1500000000.0 + i / 1000,
            arbitration_id=IDS[i] if i % 4 else 0x18DAF100 + i,
            is_extended_id=not i % 4,
            data=PAYLOADS[i][: 1 + i % 8],
            channel=None if i % 3 else "vcan0",
        )
        for i in range(POOL)
    ]


def message_str(n: int) -> tuple[float, Any]:
    """``str(msg)`` n times over 256 different messages (standard/extended, 1-8 bytes)."""
    msgs = _pool_messages()
    to_str = str
    count = 0
    t0 = time.perf_counter()
    for i in range(n):
        s = to_str(msgs[i & 0xFF])
        count += s.__class__ is str
    elapsed = time.perf_counter() - t0
    # The layouts differ on purpose (we print python-can 3.3.2's), so only the count is shared.
    return elapsed, count


def virtual_roundtrip(n: int) -> tuple[float, Any]:
    """bus1.send(msg) then bus2.recv() n times, one thread, on one virtual channel."""
    msgs = _pool_messages()
    channel = f"bench-rt-{time.monotonic_ns()}"
    bus1 = VirtualBus(channel=channel)
    bus2 = VirtualBus(channel=channel)
    ids_seen = 0
    data_sum = 0
    missing = 0
    send, recv = bus1.send, bus2.recv
    try:
        t0 = time.perf_counter()
        for i in range(n):
            send(msgs[i & 0xFF])
            got = recv(1.0)
            if got is None:
                missing += 1
                continue
            ids_seen = (ids_seen * 31 + got.arbitration_id) & 0xFFFFFFFF
            data_sum += got.data[0]
        elapsed = time.perf_counter() - t0
    finally:
        bus1.shutdown()
        bus2.shutdown()
    return elapsed, [n - missing, missing, ids_seen, data_sum]


def virtual_threaded(n: int) -> tuple[float, Any]:
    """A sender thread sends n frames; the main thread receives them on another bus."""
    msgs = _pool_messages()
    channel = f"bench-th-{time.monotonic_ns()}"
    bus1 = VirtualBus(channel=channel)
    bus2 = VirtualBus(channel=channel)
    send_error: list[BaseException] = []

    def sender() -> None:
        try:
            send = bus1.send
            for i in range(n):
                send(msgs[i & 0xFF])
        except BaseException as exc:  # reported below
            send_error.append(exc)

    ids_seen = 0
    data_sum = 0
    received = 0
    recv = bus2.recv
    thread = threading.Thread(target=sender, name="bench-sender")
    try:
        t0 = time.perf_counter()
        thread.start()
        while received < n:
            got = recv(5.0)
            if got is None:
                break
            received += 1
            ids_seen = (ids_seen * 31 + got.arbitration_id) & 0xFFFFFFFF
            data_sum += got.data[0]
        elapsed = time.perf_counter() - t0
        thread.join()
    finally:
        bus1.shutdown()
        bus2.shutdown()
    if send_error:
        raise send_error[0]
    return elapsed, [received, n - received, ids_seen, data_sum]


WORKLOADS: dict[str, Callable[[int], tuple[float, Any]]] = {
    "message_create": message_create,
    "message_create_list": message_create_list,
    "message_str": message_str,
    "virtual_roundtrip": virtual_roundtrip,
    "virtual_threaded": virtual_threaded,
}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in WORKLOADS:
        print(f"usage: workloads.py {{{','.join(WORKLOADS)}}} N", file=sys.stderr)
        return 2
    name, n = argv[0], int(argv[1])
    gc.collect()
    elapsed, result = WORKLOADS[name](n)
    print(
        json.dumps(
            {
                "name": name,
                "n": n,
                "seconds": elapsed,
                "result": result,
                "can_file": can.__file__,
                "can_version": getattr(can, "__version__", "?"),
                "python": sys.version.split()[0],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
