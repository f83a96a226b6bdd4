"""Finding attached USB2CAN adapters by serial number (Windows, through WMI).

The driver library can only open an adapter by its serial number. On Windows the attached
adapters are the Plug and Play devices with the USB2CAN's USB ids, vendor 0x0483 and product
0x1234 (the ids Linux's ``usb_8dev`` driver matches); the last part of the device's PnP id is
its serial number. This needs pywin32 (``win32com``); without it, or elsewhere, nothing is found.
"""

from __future__ import annotations

import logging

__all__ = ["find_serial_devices"]

LOG = logging.getLogger("can.usb2can")

_PNP_PREFIX = "USB\\VID_0483&PID_1234\\"


def find_serial_devices(serial_matching_length: int = 8) -> list[str]:
    """The serial numbers of the attached USB2CAN adapters, each cut to
    ``serial_matching_length`` characters (what the driver's configuration string takes)."""
    try:
        import win32com.client  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return []
    try:
        wmi = win32com.client.GetObject("winmgmts:")
        entities = wmi.InstancesOf("Win32_PnPEntity")
    except Exception as e:  # a COM error: WMI not available
        LOG.warning("cannot list USB devices through WMI: %s", e)
        return []
    serials = []
    for entity in entities:
        pnp_id = str(getattr(entity, "PNPDeviceID", "") or "")
        if pnp_id.upper().startswith(_PNP_PREFIX):
            serials.append(pnp_id[len(_PNP_PREFIX) :][:serial_matching_length])
    return serials
