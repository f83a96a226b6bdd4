"""The ``serial`` interface (manual section 4.3): CAN frames in a binary format over a serial
port or a pyserial URL. Needs pyserial (``pip install can[serial]``)."""

from can.interfaces.serial.serial_can import SerialBus

__all__ = ["SerialBus"]
