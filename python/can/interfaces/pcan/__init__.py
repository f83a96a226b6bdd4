"""PEAK-System PCAN adapters through the PCAN-Basic API (manual section 4.6): :class:`PcanBus`."""

from can.interfaces.pcan.basic import PcanCanInitializationError, PcanCanOperationError, PcanError
from can.interfaces.pcan.pcan import PcanBus

__all__ = ["PcanBus", "PcanCanInitializationError", "PcanCanOperationError", "PcanError"]
