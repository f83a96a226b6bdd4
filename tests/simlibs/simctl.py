"""The test side of a simulated vendor library: build it, point the backend's environment
variable at it, and drive the simulated bus through the ``simctl_*`` functions that every
library built on ``simcore.c`` exports (see ``simcore.h``)."""

from __future__ import annotations

import ctypes
import pathlib
from typing import Optional

ACTIVE, WARNING, PASSIVE, BUSOFF = 0, 1, 2, 3
EXT, RTR, ERR, FD, BRS, ESI, ECHO = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40


class SimControl:
    """The simulated bus inside the library at ``path``, as loaded in this process (ctypes
    maps one file once, so this is the same instance the backend under test uses)."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        lib = ctypes.CDLL(str(path))
        self._lib = lib
        u8p = ctypes.POINTER(ctypes.c_uint8)
        lib.simctl_set_state.argtypes = [ctypes.c_int] * 4
        lib.simctl_inject_frame.argtypes = [
            ctypes.c_int,
            ctypes.c_uint32,
            ctypes.c_uint32,
            u8p,
            ctypes.c_int,
        ]
        lib.simctl_inject_error.argtypes = [ctypes.c_int, ctypes.c_uint32, u8p, ctypes.c_int]
        lib.simctl_open_ports.argtypes = [ctypes.c_int]
        lib.simctl_reset.restype = None
        lib.sim_now_us.restype = ctypes.c_uint64
        lib.sim_channel_state.argtypes = [ctypes.c_int] + [ctypes.POINTER(ctypes.c_int)] * 3

    @staticmethod
    def _bytes(data: bytes) -> tuple[Optional[ctypes.Array[ctypes.c_uint8]], int]:
        if not data:
            return None, 0
        return (ctypes.c_uint8 * len(data)).from_buffer_copy(data), len(data)

    def _ok(self, rc: int, what: str) -> None:
        if rc != 0:
            raise RuntimeError(f"{what} failed in the simulated library: {rc}")

    def set_state(self, channel: int, state: int, tx_errors: int = 0, rx_errors: int = 0) -> None:
        self._ok(self._lib.simctl_set_state(channel, state, tx_errors, rx_errors), "set_state")

    def state(self, channel: int) -> tuple[int, int, int]:
        values = [ctypes.c_int() for _ in range(3)]
        self._ok(self._lib.sim_channel_state(channel, *(ctypes.byref(v) for v in values)), "state")
        return values[0].value, values[1].value, values[2].value

    def inject_frame(self, channel: int, can_id: int, data: bytes = b"", flags: int = 0) -> None:
        """A frame from another node on ``channel``: every port of it receives it."""
        buf, n = self._bytes(data)
        self._ok(self._lib.simctl_inject_frame(channel, can_id, flags, buf, n), "inject_frame")

    def inject_error(self, channel: int, error_class: int = 0, data: bytes = b"") -> None:
        buf, n = self._bytes(data)
        self._ok(self._lib.simctl_inject_error(channel, error_class, buf, n), "inject_error")

    def open_ports(self, channel: int) -> int:
        return int(self._lib.simctl_open_ports(channel))

    def now_us(self) -> int:
        return int(self._lib.sim_now_us())

    def reset(self) -> None:
        self._lib.simctl_reset()
