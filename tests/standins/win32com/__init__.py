"""A stand-in for pywin32's ``win32com`` package: only ``win32com.client.GetObject("winmgmts:")``
with ``InstancesOf("Win32_PnPEntity")``, the WMI query the USB2CAN serial lookup makes."""
