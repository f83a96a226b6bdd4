"""The ``socketcan`` interface: Linux SocketCAN raw sockets and the broadcast manager.

Manual section 4.1. :class:`SocketcanBus` is the bus, :class:`CyclicSendTask` the kernel-timed
periodic task :meth:`SocketcanBus.send_periodic` returns; :mod:`.utils` has helpers (the list of
CAN interfaces, error frame text). The interface names ``socketcan_native`` and
``socketcan_ctypes`` of python-can < 2.2 still select this bus, with a DeprecationWarning.
"""

from __future__ import annotations

from can.interfaces.socketcan import utils
from can.interfaces.socketcan.socketcan import (
    DEFAULT_RECEIVE_BUFFER_SIZE,
    CyclicSendTask,
    SocketcanBus,
)

__all__ = ["DEFAULT_RECEIVE_BUFFER_SIZE", "CyclicSendTask", "SocketcanBus", "utils"]
