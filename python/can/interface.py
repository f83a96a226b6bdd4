"""The :class:`Bus` factory and :func:`detect_available_configs` (manual sections 2 and 3.1.1).

``can.Bus(...)`` merges its arguments with the rest of the configuration
(:func:`can.util.load_config`), looks the interface up in the registry
(:mod:`can.interfaces`) and returns an instance of that interface's bus class.
"""

from __future__ import annotations

import logging
from abc import ABCMeta
from collections.abc import Iterable
from typing import Any, Optional, Union, cast

from can import util
from can.bus import BusABC, CanFilters
from can.exceptions import CanInterfaceNotImplementedError
from can.interfaces import BACKENDS, registered_interfaces, resolve_interface
from can.message import Message

__all__ = ["BACKENDS", "Bus", "detect_available_configs"]

LOG = logging.getLogger("can.interface")


class _BusMeta(ABCMeta):
    """Makes ``isinstance(bus, can.Bus)`` true for every bus, whatever its interface."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return cls.__subclasscheck__(type(instance))

    def __subclasscheck__(cls, subclass: type) -> bool:
        if cls is Bus:
            # A plain MRO test: asking BusABC (an ABC) here would recurse, since ABCMeta asks
            # every subclass of BusABC, Bus included, whether a class is a subclass of it.
            return isinstance(subclass, type) and BusABC in subclass.__mro__
        return super().__subclasscheck__(subclass)


class Bus(BusABC, metaclass=_BusMeta):
    """Bus wrapper with configuration loading.

    Creating a ``Bus`` creates and returns a bus of the configured interface (a
    :class:`can.BusABC` subclass such as :class:`can.interfaces.virtual.VirtualBus`); the
    configuration is merged from the arguments, :data:`can.rc`, the environment and the
    configuration files as :func:`can.util.load_config` describes. ``isinstance(bus, can.Bus)``
    is true for a bus of any interface.

    :param channel: the channel, in the interface's own terms (``"can0"``, ``0``, ...).
    :param interface: the interface name, one of :data:`can.VALID_INTERFACES`. ``bustype`` is
        accepted as an alias. For compatibility with the manual's signature
        ``Bus(channel, can_filters=None, **kwargs)``, a list given as the second positional
        argument is taken as ``can_filters``.
    :param config_context: the configuration context: the configuration file section, and the
        suffix of the environment variables, to read. ``context`` is accepted as an alias.
    :param ignore_config: use only the arguments, none of the other sources (python-can 4.x);
        they are still checked and converted.
    :param kwargs: passed to the interface's bus class: ``can_filters``, ``bitrate``,
        ``receive_own_messages``, ... (see :meth:`can.BusABC.set_filters` and the interface's
        documentation).
    :raises can.CanInterfaceNotImplementedError: if the interface is not configured, unknown
        (the message lists the valid ones), or cannot be loaded.
    :raises ValueError: if a configuration value is malformed, or aliases conflict.

    >>> import can
    >>> with can.Bus(interface="virtual", channel="doc") as bus:
    ...     type(bus).__name__, isinstance(bus, can.Bus)
    ('VirtualBus', True)
    """

    def __new__(
        cls,
        channel: Any = None,
        interface: Union[str, CanFilters, None] = None,
        config_context: Optional[str] = None,
        ignore_config: bool = False,
        **kwargs: Any,
    ) -> Bus:
        config = dict(kwargs)
        context = _alias(config, "config_context", config_context, "context")
        if interface is not None and not isinstance(interface, str):
            # Bus(channel, can_filters), the manual's positional signature.
            if config.get("can_filters") is not None:
                raise TypeError("Bus() got can_filters both positionally and as a keyword")
            config["can_filters"] = interface
            interface = None
        interface = _alias(config, "interface", interface, "bustype")
        if interface is not None:
            config["interface"] = interface
        if channel is not None:
            config["channel"] = channel

        if ignore_config:
            config = util._check_bus_config(config, "the Bus() arguments")
        else:
            config = util._load_config(None, config, context, "the Bus() arguments")
        interface_name = config.pop("interface")
        channel = config.pop("channel")
        bus_class = resolve_interface(interface_name)
        if channel is None:
            bus = bus_class(**config)
        else:
            bus = bus_class(channel, **config)
        return cast(Bus, bus)

    # Bus itself is never instantiated (__new__ returns the interface's bus), but it must not
    # look abstract to type checkers, which reject calls of abstract classes.
    def __init__(
        self,
        channel: Any = None,
        interface: Union[str, CanFilters, None] = None,
        config_context: Optional[str] = None,
        ignore_config: bool = False,
        **kwargs: Any,
    ) -> None:
        raise TypeError("can.Bus is a factory; its __init__ is never called")  # pragma: no cover

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        raise TypeError("can.Bus is a factory; its send is never called")  # pragma: no cover


def _alias(config: dict[str, Any], name: str, value: Any, alias: str) -> Any:
    """``value`` (the argument ``name``) or, if None, ``config[alias]``; the alias is removed.

    :raises ValueError: if both are given and differ.
    """
    alias_value = config.pop(alias, None)
    if alias_value is None:
        return value
    if value is not None and value != alias_value:
        raise ValueError(
            f"Bus() got {name}={value!r} and its alias {alias}={alias_value!r}; give only one"
        )
    return alias_value


def detect_available_configs(
    interfaces: Union[str, Iterable[str], None] = None,
) -> list[dict[str, Any]]:
    """The configurations that interfaces report they could connect with now.

    Each interface is asked through its bus class's ``_detect_available_configs()``. An
    interface whose module is missing or fails to import (no driver, an unknown plug-in name,
    ...), or whose detection raises :class:`NotImplementedError` or :class:`OSError` (which
    includes :class:`can.CanError`), is skipped.

    :param interfaces: an interface name, several, or None for every registered one (which
        imports every backend module).
    :returns: one dict per configuration, usable as ``can.Bus(**config)``; each has
        ``interface`` and ``channel``.

    >>> import can
    >>> with can.Bus(interface="virtual", channel="detect-me"):
    ...     {"interface": "virtual", "channel": "detect-me"} in detect_available_configs("virtual")
    True
    """
    if interfaces is None:
        names = registered_interfaces()
    elif isinstance(interfaces, str):
        names = [interfaces]
    else:
        names = list(interfaces)
    found: list[dict[str, Any]] = []
    for name in names:
        try:
            bus_class = resolve_interface(name)
        except CanInterfaceNotImplementedError as exc:
            LOG.debug("interface %r skipped: %s", name, exc)
            continue
        try:
            available = bus_class._detect_available_configs()
        except (NotImplementedError, OSError) as exc:
            LOG.debug("interface %r cannot detect configurations: %s", name, exc)
            continue
        for config in available:
            entry = dict(config)
            entry["interface"] = name
            found.append(entry)
    return found
