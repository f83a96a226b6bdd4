"""The ``udp_multicast`` interface: a virtual CAN bus over UDP multicast (python-can 4.x).

Buses in different processes, on one host or on hosts of one network, that join the same
multicast group and port see each other's frames. Needs ``msgpack`` (``pip install
can[udp_multicast]``). See :class:`UdpMulticastBus`.
"""

from can.interfaces.udp_multicast.bus import (
    DEFAULT_PORT,
    DEFAULT_GROUP_IPv4,
    DEFAULT_GROUP_IPv6,
    UdpMulticastBus,
    pack_message,
    unpack_message,
)

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_GROUP_IPv4",
    "DEFAULT_GROUP_IPv6",
    "UdpMulticastBus",
    "pack_message",
    "unpack_message",
]
