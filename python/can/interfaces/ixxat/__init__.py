"""The ``ixxat`` interface: IXXAT (HMS) CAN devices through the VCI V3 library ``vcinpl.dll``
(manual section 4.5). See :class:`~can.interfaces.ixxat.IXXATBus`."""

from can.interfaces.ixxat.canlib import CyclicSendTask, IXXATBus
from can.interfaces.ixxat.vci import (
    VCIBusOffError,
    VCIDeviceNotFoundError,
    VCIError,
    VCIInitializationError,
    VCIRxQueueEmptyError,
    VCITimeout,
)

__all__ = [
    "CyclicSendTask",
    "IXXATBus",
    "VCIBusOffError",
    "VCIDeviceNotFoundError",
    "VCIError",
    "VCIInitializationError",
    "VCIRxQueueEmptyError",
    "VCITimeout",
]
