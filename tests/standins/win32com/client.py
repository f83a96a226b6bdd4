"""``win32com.client`` stand-in: WMI's Win32_PnPEntity instances are the ``PNPDeviceID`` strings
in :data:`pnp_ids`, which tests set."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

#: PNPDeviceID of each Plug and Play device "attached".
pnp_ids: list[str] = []


class _Wmi:
    def InstancesOf(self, cls: str) -> list[Any]:
        if cls != "Win32_PnPEntity":
            raise ValueError(f"the stand-in only knows Win32_PnPEntity, not {cls}")
        return [SimpleNamespace(PNPDeviceID=pnp) for pnp in pnp_ids]


def GetObject(moniker: str) -> Any:
    if moniker != "winmgmts:":
        raise ValueError(f"the stand-in only knows winmgmts:, not {moniker}")
    return _Wmi()
