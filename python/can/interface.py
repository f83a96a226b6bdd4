"""Bus factory (placeholder; replaced by the config/registry work)."""
from __future__ import annotations

import importlib
from typing import Any

from can.bus import BusABC
from can.interfaces import BACKENDS


def Bus(channel: Any = None, interface: str = "virtual", **kwargs: Any) -> BusABC:  # noqa: N802
    module, cls = BACKENDS[interface]
    return getattr(importlib.import_module(module), cls)(channel, **kwargs)  # type: ignore[no-any-return]


def detect_available_configs() -> list[dict[str, Any]]:
    return []
