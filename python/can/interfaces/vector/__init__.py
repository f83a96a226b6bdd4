"""The Vector interface (python-can 3.3.2 manual, section 4.11): :class:`VectorBus` on the
Vector XL Driver Library (``vxlapi64.dll`` / ``vxlapi.dll``, Windows only)."""

from __future__ import annotations

from .canlib import (
    VectorBus,
    VectorBusParams,
    VectorCanFdParams,
    VectorCanParams,
    VectorChannelConfig,
    VectorChipState,
    get_channel_configs,
)
from .exceptions import VectorError, VectorInitializationError, VectorOperationError

__all__ = [
    "VectorBus",
    "VectorBusParams",
    "VectorCanFdParams",
    "VectorCanParams",
    "VectorChannelConfig",
    "VectorChipState",
    "VectorError",
    "VectorInitializationError",
    "VectorOperationError",
    "get_channel_configs",
]
