"""The ``neovi`` interface: Intrepid Control Systems neoVI / ValueCAN devices over python-ics
(manual section 4.10). See :class:`NeoViBus`."""

from can.interfaces.ics_neovi.neovi_bus import (
    ICSApiError,
    ICSInitializationError,
    ICSOperationError,
    NeoViBus,
)

__all__ = ["ICSApiError", "ICSInitializationError", "ICSOperationError", "NeoViBus"]
