"""``from can.interfaces.interface import Bus``, as the manual's section 2.1 writes it.

The same objects as :mod:`can.interface`.
"""

from __future__ import annotations

from can.interface import Bus, detect_available_configs

__all__ = ["Bus", "detect_available_configs"]
