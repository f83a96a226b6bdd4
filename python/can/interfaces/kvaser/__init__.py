"""Kvaser CANlib (manual section 4.2): :class:`KvaserBus` over ``canlib32.dll`` /
``libcanlib.so``, loaded with :mod:`ctypes`."""

from can.interfaces.kvaser.canlib import (
    CANLIBError,
    CANLIBInitializationError,
    CANLIBOperationError,
    ErrorCounters,
    KvaserBus,
    get_channel_info,
)
from can.interfaces.kvaser.structures import BusStatistics

__all__ = [
    "BusStatistics",
    "CANLIBError",
    "CANLIBInitializationError",
    "CANLIBOperationError",
    "ErrorCounters",
    "KvaserBus",
    "get_channel_info",
]
