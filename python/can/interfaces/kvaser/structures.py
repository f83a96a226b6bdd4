"""CANlib's structures, laid out as Kvaser's public ``canlib.h`` declares them."""

from __future__ import annotations

import ctypes

__all__ = ["BusStatistics"]


class BusStatistics(ctypes.Structure):
    """The bus statistics :meth:`KvaserBus.get_stats` returns: CANlib's ``canBusStatistics``
    (seven ``unsigned long`` counters, so 4 bytes each on Windows and 8 on 64-bit Linux).

    >>> print(BusStatistics())
    std_data: 0, std_remote: 0, ext_data: 0, ext_remote: 0, err_frame: 0, bus_load: 0.0%, overruns: 0
    """  # noqa: E501 - the manual's output line

    _fields_ = [
        ("m_stdData", ctypes.c_ulong),
        ("m_stdRemote", ctypes.c_ulong),
        ("m_extData", ctypes.c_ulong),
        ("m_extRemote", ctypes.c_ulong),
        ("m_errFrame", ctypes.c_ulong),
        ("m_busLoad", ctypes.c_ulong),
        ("m_overruns", ctypes.c_ulong),
    ]

    def __str__(self) -> str:
        return (
            f"std_data: {self.std_data}, std_remote: {self.std_remote}, "
            f"ext_data: {self.ext_data}, ext_remote: {self.ext_remote}, "
            f"err_frame: {self.err_frame}, bus_load: {self.bus_load:.1f}%, "
            f"overruns: {self.overruns}"
        )

    @property
    def std_data(self) -> int:
        """Received data frames with 11-bit identifiers."""
        return int(self.m_stdData)

    @property
    def std_remote(self) -> int:
        """Received remote frames with 11-bit identifiers."""
        return int(self.m_stdRemote)

    @property
    def ext_data(self) -> int:
        """Received data frames with 29-bit identifiers."""
        return int(self.m_extData)

    @property
    def ext_remote(self) -> int:
        """Received remote frames with 29-bit identifiers."""
        return int(self.m_extRemote)

    @property
    def err_frame(self) -> int:
        """Error frames."""
        return int(self.m_errFrame)

    @property
    def bus_load(self) -> float:
        """The bus load in percent (CANlib counts hundredths of a percent)."""
        return int(self.m_busLoad) / 100.0

    @property
    def overruns(self) -> int:
        """Overruns the hardware, firmware or driver detected."""
        return int(self.m_overruns)
