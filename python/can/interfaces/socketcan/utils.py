"""SocketCAN helpers: the machine's CAN interfaces, kernel filter values, error frame text."""

from __future__ import annotations

from typing import Any

from can import _core
from can.message import Message

__all__ = [
    "CAN_EFF_FLAG",
    "CAN_ERR_FLAG",
    "CAN_INV_FILTER",
    "CAN_RTR_FLAG",
    "error_frame_text",
    "find_available_interfaces",
]

# Values from include/uapi/linux/can.h.
#: Extended frame format (29-bit identifier) flag of ``can_id``.
CAN_EFF_FLAG = 0x80000000
#: Remote transmission request flag of ``can_id``.
CAN_RTR_FLAG = 0x40000000
#: Error frame flag of ``can_id``.
CAN_ERR_FLAG = 0x20000000
#: Set in a kernel filter's ``can_id`` to invert it (``"inverted": True`` in a filter dict).
CAN_INV_FILTER = 0x20000000


def find_available_interfaces() -> list[str]:
    """The names of this machine's CAN interfaces (up or down), sorted; empty off Linux.

    >>> isinstance(find_available_interfaces(), list)
    True
    """
    # Looked up by name: the function exists on Linux only.
    listing: Any = getattr(_core, "socketcan_interfaces", None)
    names: list[str] = [] if listing is None else listing()
    return names


def error_frame_text(msg: Message) -> str:
    """What a SocketCAN error frame says, in words (empty for a message that is no error frame).

    The error classes are the bits of the frame's ``arbitration_id``, the details its data
    bytes, as the kernel's ``linux/can/error.h`` defines them:

    >>> msg = Message(is_error_frame=True, arbitration_id=0x04, data=[0, 0x10, 0, 0, 0, 0, 0, 0])
    >>> error_frame_text(msg)
    'controller problem (RX error passive)'
    """
    if not msg.is_error_frame:
        return ""
    text: str = _core.describe_error_frame(msg.arbitration_id, bytes(msg.data))
    return text
