"""The interface registry: which ``interface`` name selects which bus class.

:data:`BACKENDS` maps the names of the manual's *Interface Names* table (section 2.4, plus
python-can 4.x's ``canalystii``, ``systec`` and ``udp_multicast``) to ``(module, class
name)``. Installed packages add names through the ``can.interface`` entry-point group
(``name = module:Class``, manual section 4.16). Backend modules are imported only when a bus
of that interface is created, and the entry points are read only when a name that is not
built in is asked for, or when :data:`VALID_INTERFACES` is first used, so ``import can``
stays fast.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from can._registry import Registry
from can.exceptions import CanInterfaceNotImplementedError

if TYPE_CHECKING:
    from can.bus import BusABC

    #: Every interface name that can be used, built in or registered through entry points.
    VALID_INTERFACES: frozenset[str]

__all__ = [
    "BACKENDS",
    "DEPRECATED_INTERFACE_NAMES",
    "VALID_INTERFACES",
    "canonical_interface_name",
    "is_registered_interface",
    "refresh_entry_points",
    "registered_interfaces",
    "resolve_interface",
    "unknown_interface_message",
]

#: Built-in interfaces: name -> (module, class name). The class paths are the ones the manual
#: documents. A module that is not installed (or not written yet) is only reported when a bus
#: of that interface is created.
BACKENDS: dict[str, tuple[str, str]] = {
    "socketcan": ("can.interfaces.socketcan", "SocketcanBus"),
    "kvaser": ("can.interfaces.kvaser", "KvaserBus"),
    "serial": ("can.interfaces.serial.serial_can", "SerialBus"),
    "slcan": ("can.interfaces.slcan", "slcanBus"),
    "ixxat": ("can.interfaces.ixxat", "IXXATBus"),
    "pcan": ("can.interfaces.pcan", "PcanBus"),
    "usb2can": ("can.interfaces.usb2can", "Usb2canBus"),
    "nican": ("can.interfaces.nican", "NicanBus"),
    "iscan": ("can.interfaces.iscan", "IscanBus"),
    "neovi": ("can.interfaces.ics_neovi", "NeoViBus"),
    "vector": ("can.interfaces.vector", "VectorBus"),
    "virtual": ("can.interfaces.virtual", "VirtualBus"),
    "canalystii": ("can.interfaces.canalystii", "CANalystIIBus"),
    "systec": ("can.interfaces.systec", "UcanBus"),
    "udp_multicast": ("can.interfaces.udp_multicast", "UdpMulticastBus"),
}

#: Old names that still work, with a :class:`DeprecationWarning`: old name -> current name.
DEPRECATED_INTERFACE_NAMES: dict[str, str] = {
    "socketcan_native": "socketcan",
    "socketcan_ctypes": "socketcan",
}

_registry = Registry(
    "can.interface", BACKENDS, kind="interface", error=CanInterfaceNotImplementedError
)


def __getattr__(name: str) -> Any:
    # VALID_INTERFACES is computed on use: it needs the installed entry points, and reading
    # them at import time would make ``import can`` several times slower.
    if name == "VALID_INTERFACES":
        # The deprecated names are valid too, as in python-can 3.3.2 (they become socketcan).
        return frozenset(_registry.names()) | frozenset(DEPRECATED_INTERFACE_NAMES)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def registered_interfaces() -> list[str]:
    """Every interface name: the built-in ones in the manual's order, then plug-ins sorted."""
    return _registry.names()


def canonical_interface_name(name: str, stacklevel: int = 2) -> str:
    """``name``, or the current name if ``name`` is a deprecated one (with a warning).

    >>> canonical_interface_name("virtual")
    'virtual'
    """
    current = DEPRECATED_INTERFACE_NAMES.get(name)
    if current is None:
        return name
    warnings.warn(
        f"the interface name {name!r} is deprecated, use {current!r}",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )
    return current


def is_registered_interface(name: str) -> bool:
    """Whether ``name`` is a built-in interface or one registered through an entry point.

    Unlike ``name in VALID_INTERFACES`` this re-reads the entry points when the name is not
    known yet, so a plug-in installed since they were last read is found.
    """
    return _registry.target(name) is not None


def unknown_interface_message(name: object, origin: str = "") -> str:
    """The text of the error for an interface name that is not registered.

    :param origin: where the name came from, e.g. ``"the Bus() arguments"``.
    """
    return _registry.unknown_name_message(name, origin)


def resolve_interface(name: str) -> type[BusABC]:
    """The bus class registered for the interface ``name``, importing its module if needed.

    :raises can.CanInterfaceNotImplementedError: if ``name`` is not registered (the message
        lists the valid names), its module does not exist or fails to import (the
        :class:`ImportError` is chained), or what it names is not a :class:`can.BusABC`
        subclass.

    >>> resolve_interface("virtual").__name__
    'VirtualBus'
    """
    from can.bus import BusABC

    if not isinstance(name, str):
        raise CanInterfaceNotImplementedError(
            f"the interface name must be a string, got {name!r}; "
            f"valid interfaces are: {', '.join(sorted(_registry.names()))}"
        )
    name = canonical_interface_name(name, stacklevel=2)
    obj = _registry.load(name)
    if not (isinstance(obj, type) and issubclass(obj, BusABC)):
        module, attr = _registry.target(name) or ("?", "?")
        raise CanInterfaceNotImplementedError(
            f"the interface {name!r} is registered as {module}:{attr}, "
            f"which is {obj!r}, not a can.BusABC subclass"
        )
    return obj


def refresh_entry_points() -> None:
    """Read the ``can.interface`` entry points of the installed packages again."""
    _registry.refresh()
