"""``testgen``: a bus for testing the console scripts in a subprocess without hardware.

It is installed for a test by putting this folder and a ``testgen-0.dist-info`` that declares
it in the ``can.interface`` entry-point group on PYTHONPATH (tests/test_scripts.py does), so a
script finds it the way it finds any third-party interface.

Receiving: ``channel`` frames (an int; ``0`` none) with ids 0, 1, 2, ... are received at once,
every tenth one extended, every 50th an error frame; after the last one the bus writes
``TESTGEN_REPORT`` (a JSON file) and then receives nothing. Sending: each frame sent is recorded
with the monotonic time it was sent at; the report is written again at shutdown.

A channel ``N/PERIOD`` (e.g. ``20/0.01``) is a steady stream instead: the same N frames over and
over, one every PERIOD seconds (by the monotonic clock) for ever, the k-th with the timestamp
``1000 + k * PERIOD``; no report is written until shutdown.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Optional

from can import BusABC, BusState, Message


class GenBus(BusABC):
    def __init__(self, channel: Any = 0, **kwargs: Any) -> None:
        super().__init__(channel, **{k: v for k, v in kwargs.items() if k == "can_filters"})
        count, stream, period = str(channel or 0).partition("/")
        self.count = int(count)
        self.period = float(period) if stream else None
        self.started = time.monotonic()
        self.kwargs = {k: v for k, v in kwargs.items() if k != "can_filters"}
        self.channel_info = f"testgen {self.count}"
        self.next = 0
        self.sent: list[tuple[float, int, bool]] = []
        self._state = BusState.ACTIVE
        self.report = os.environ.get("TESTGEN_REPORT")

    def _write_report(self) -> None:
        if not self.report:
            return
        tmp = self.report + ".tmp"
        with open(tmp, "w") as f:
            json.dump(
                {
                    "kwargs": self.kwargs,
                    "state": self._state.name,
                    "received": min(self.next, self.count),
                    "sent": self.sent,
                },
                f,
                # a bit timing (timing=) is reported as its repr
                default=repr,
            )
        os.replace(tmp, self.report)

    @property
    def state(self) -> BusState:
        return self._state

    @state.setter
    def state(self, new_state: BusState) -> None:
        self._state = new_state

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        if self.period is not None:
            return self._stream(self.period, timeout), False
        if self.next >= self.count:
            if self.next == self.count:
                self._write_report()
                self.next += 1  # report once
            time.sleep(min(timeout or 0.05, 0.05))
            return None, False
        i = self.next
        self.next += 1
        return self._frame(i, 1000.0 + i / 1000), False

    def _stream(self, period: float, timeout: Optional[float]) -> Optional[Message]:
        k = self.next
        wait = self.started + k * period - time.monotonic()
        if wait > 0:
            if timeout is not None and timeout < wait:
                time.sleep(timeout)
                return None
            time.sleep(wait)
        self.next += 1
        return self._frame(k % self.count, 1000.0 + k * period)

    @staticmethod
    def _frame(i: int, timestamp: float) -> Message:
        if i % 50 == 49:
            return Message(
                timestamp=timestamp, is_error_frame=True, arbitration_id=0x4, data=bytes(8)
            )
        return Message(
            timestamp=timestamp,
            arbitration_id=i & 0x7FF if i % 10 else 0x18DA0000 + i,
            is_extended_id=i % 10 == 0,
            data=bytes([i & 0xFF]) * (i % 9),
        )

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        self.sent.append((time.monotonic(), msg.arbitration_id, msg.is_error_frame))

    def shutdown(self) -> None:
        self._write_report()
        super().shutdown()
