"""The ``usb2can`` interface: 8devices USB2CAN adapters through their CANAL driver library
(manual section 4.7). See :class:`Usb2canBus`."""

from can.interfaces.usb2can.serial_selector import find_serial_devices
from can.interfaces.usb2can.usb2canabstractionlayer import CanalError
from can.interfaces.usb2can.usb2canInterface import Usb2canBus

__all__ = ["CanalError", "Usb2canBus", "find_serial_devices"]
