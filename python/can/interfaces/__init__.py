"""Interface registry (placeholder; replaced by the config/registry work)."""
from __future__ import annotations

BACKENDS: dict[str, tuple[str, str]] = {
    "virtual": ("can.interfaces.virtual", "VirtualBus"),
}
VALID_INTERFACES = frozenset(BACKENDS)
