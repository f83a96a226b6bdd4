"""The ``systec`` interface: SYS TEC USB-CANmodul modules through their driver library
(manual section 4.14). See :class:`~can.interfaces.systec.ucanbus.UcanBus`."""

from can.interfaces.systec.ucan import (
    UcanCmdError,
    UcanError,
    UcanException,
    UcanInitializationError,
)
from can.interfaces.systec.ucanbus import UcanBus

__all__ = ["UcanBus", "UcanCmdError", "UcanError", "UcanException", "UcanInitializationError"]
