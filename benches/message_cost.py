"""What one ``can.Message`` costs: construction, attribute reads, and building from Rust.

The figures quoted in docs/architecture.rst come from this script::

    make package && PYTHONPATH=build/pkg python benches/message_cost.py

It times, per operation (median of 5 timeit repeats, loop overhead subtracted):

* ``Message(arbitration_id=..., data=..., is_extended_id=...)``: the native ``__init__``;
* reading one attribute (a slot of the native base type);
* ``can._core.new_message_from_fields(Message, fields)``: allocate through ``tp_alloc`` and store
  12 prepared field objects, no ``__init__`` (what the Rust log readers do per frame);
* ``can._core.copy_message(msg)``: a same-class copy with its own ``data`` (what the virtual bus
  does per receiver);

and, for scale, the same construction and attribute read on a plain Python class with
``__slots__`` and a Python ``__init__`` taking the same keyword arguments (written here, the way a
pure-Python message class is usually written).
"""

from __future__ import annotations

import platform
import statistics
import sys
import timeit
from typing import Any, Optional, Union

import can
from can import _core


class PlainSlotsMessage:
    """A pure-Python message class for comparison: ``__slots__`` and a Python ``__init__``."""

    __slots__ = (
        "arbitration_id",
        "bitrate_switch",
        "channel",
        "data",
        "dlc",
        "error_state_indicator",
        "is_error_frame",
        "is_extended_id",
        "is_fd",
        "is_remote_frame",
        "is_rx",
        "timestamp",
    )

    def __init__(
        self,
        timestamp: float = 0.0,
        arbitration_id: int = 0,
        is_extended_id: bool = True,
        is_remote_frame: bool = False,
        is_error_frame: bool = False,
        channel: Optional[Union[str, int]] = None,
        dlc: Optional[int] = None,
        data: Any = None,
        is_fd: bool = False,
        is_rx: bool = True,
        bitrate_switch: bool = False,
        error_state_indicator: bool = False,
    ) -> None:
        self.timestamp = timestamp
        self.arbitration_id = arbitration_id
        self.is_extended_id = is_extended_id
        self.is_remote_frame = is_remote_frame
        self.is_error_frame = is_error_frame
        self.channel = channel
        self.data = bytearray() if data is None else bytearray(data)
        self.dlc = len(self.data) if dlc is None else dlc
        self.is_fd = is_fd
        self.is_rx = is_rx
        self.bitrate_switch = bitrate_switch
        self.error_state_indicator = error_state_indicator


def ns_per_op(
    stmt: str, namespace: dict[str, Any], baseline: str = "pass", unroll: int = 1
) -> float:
    """Median time of ``stmt`` in ns, minus the time of ``baseline`` (the loop itself).

    With ``unroll`` > 1 both statements are repeated that many times per loop iteration and the
    result divided by it, for operations too short to time one at a time.
    """
    if unroll > 1:
        stmt = "; ".join([stmt] * unroll)
        baseline = "; ".join([baseline] * unroll)

    def median_ns(code: str) -> float:
        timer = timeit.Timer(code, globals=namespace)
        number, _ = timer.autorange()
        number = max(number, 200_000)
        return statistics.median(t / number * 1e9 for t in timer.repeat(5, number))

    return (median_ns(stmt) - median_ns(baseline)) / unroll


def main() -> int:
    payload = bytes(range(1, 9))
    msg = can.Message(arbitration_id=0x123, data=payload, is_extended_id=False)
    plain = PlainSlotsMessage(arbitration_id=0x123, data=payload, is_extended_id=False)
    fields = tuple(getattr(msg, name) for name in _core.MESSAGE_FIELDS)
    ns: dict[str, Any] = {
        "Message": can.Message,
        "Plain": PlainSlotsMessage,
        "payload": payload,
        "msg": msg,
        "plain": plain,
        "fields": fields,
        "new": _core.new_message_from_fields,
        "copy": _core.copy_message,
    }
    rows = [
        (
            "Message(arbitration_id=..., data=<8 bytes>, is_extended_id=False)",
            ns_per_op("Message(arbitration_id=0x123, data=payload, is_extended_id=False)", ns),
        ),
        ("read msg.arbitration_id", ns_per_op("x = msg.arbitration_id", ns, "x = msg", 20)),
        ("_core.new_message_from_fields(Message, fields)", ns_per_op("new(Message, fields)", ns)),
        ("_core.copy_message(msg)", ns_per_op("copy(msg)", ns)),
        (
            "pure-Python __slots__ class, same keyword arguments",
            ns_per_op("Plain(arbitration_id=0x123, data=payload, is_extended_id=False)", ns),
        ),
        ("read plain.arbitration_id", ns_per_op("x = plain.arbitration_id", ns, "x = plain", 20)),
    ]
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"# can from {can.__file__}")
    width = max(len(name) for name, _ in rows)
    for name, cost in rows:
        print(f"{name:<{width}}  {cost:7.1f} ns  {1e3 / cost:8.2f} M/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
