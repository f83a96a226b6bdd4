"""A stand-in for python-ics (Intrepid Control Systems' ``ics`` module), for testing the neoVI
backend without a device.

It has the part of python-ics' documented API that a CAN backend calls — the functions'
names, arguments, return shapes and errors as python-ics' own docstrings describe them
(``help(ics.get_messages)`` etc. in python-ics 26.x), and the constants' values as that
release defines them — and behind it a simulated set of devices:

* every device has the CAN networks of :data:`CAN_NETWORKS`; a network of one device is wired
  to the same network of every other device, so two open devices see each other's frames;
* a transmitted frame comes back to its sender with ``SPY_STATUS_TX_MSG`` set, as a neoVI
  reports its own transmissions;
* :func:`get_messages` waits up to its timeout (without holding the GIL) and returns
  everything queued, with the count of errors queued since the last call;
* hardware time (``TimeHardware``/``TimeHardware2`` ticks of 25.6 µs and 104.8576 s) counts
  from the simulation's start; :func:`get_timestamp_for_msg` turns them into seconds;
* tests drive it through the ``sim_*`` functions, which python-ics does not have.

Nothing here comes from python-ics' code; only its documented interface and constants.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Any, Optional, Union

__version__ = "26.3.17"

# Constants, with python-ics 26.3.17's values.
NEODEVICE_ANY_ION = 0x00200000 | 0x00400000  # not used by the backend; present for realism
NEODEVICE_FIRE2 = 67108864
NEODEVICE_RED2 = 20
NETID_DEVICE = 0
NETID_HSCAN = 1
NETID_MSCAN = 2
NETID_SWCAN = 3
NETID_LSFTCAN = 4
NETID_LIN = 16
NETID_HSCAN2 = 42
NETID_HSCAN3 = 44
NETID_HSCAN4 = 61
NETID_HSCAN5 = 62
NETID_HSCAN6 = 96
NETID_HSCAN7 = 97
SPY_STATUS_GLOBAL_ERR = 0x01
SPY_STATUS_TX_MSG = 0x02
SPY_STATUS_XTD_FRAME = 0x04
SPY_STATUS_REMOTE_FRAME = 0x08
SPY_STATUS_CAN_ERROR_PASSIVE = 0x20
SPY_STATUS_CAN_BUS_OFF = 0x200
SPY_STATUS_NETWORK_MESSAGE_TYPE = 0x4000000
SPY_STATUS2_ERROR_FRAME = 0x20000
SPY_STATUS3_CANFD_ESI = 0x01
SPY_STATUS3_CANFD_IDE = 0x02
SPY_STATUS3_CANFD_RTR = 0x04
SPY_STATUS3_CANFD_FDF = 0x08
SPY_STATUS3_CANFD_BRS = 0x10
SPY_PROTOCOL_CAN = 0x01
SPY_PROTOCOL_CANFD = 0x1E

#: The CAN networks every simulated device has.
CAN_NETWORKS = (NETID_HSCAN, NETID_MSCAN, NETID_HSCAN2, NETID_HSCAN3, NETID_HSCAN4)
#: Classic bit rates set_bit_rate accepts on a CAN network (its docstring's list).
CAN_BIT_RATES = (2000, 33333, 50000, 62500, 83333, 100000, 125000, 250000, 500000, 800000, 1000000)
_TICK = 25.6e-6  # TimeHardware unit, s
_TICK2 = 104.8576  # TimeHardware2 unit, s


class RuntimeError(Exception):
    """python-ics' ``ics.RuntimeError``."""


class SpyMessage:
    """python-ics' message structure (the attributes a CAN backend reads and writes)."""

    def __init__(self) -> None:
        self.StatusBitField = 0
        self.StatusBitField2 = 0
        self.StatusBitField3 = 0
        self.StatusBitField4 = 0
        self.TimeHardware = 0
        self.TimeHardware2 = 0
        self.TimeSystem = 0
        self.TimeSystem2 = 0
        self.TimeStampHardwareID = 0
        self.TimeStampSystemID = 0
        self.NetworkID = 0
        self.NetworkID2 = 0
        self.NodeID = 0
        self.Protocol = 0
        self.MessagePieceID = 0
        self.ExtraDataPtrEnabled = 0
        self.NumberBytesHeader = 0
        self.NumberBytesData = 0
        self.DescriptionID = 0
        self.ArbIDOrHeader = 0
        self._data: tuple[int, ...] = ()
        self._extra: Optional[tuple[int, ...]] = None

    @property
    def Data(self) -> tuple[int, ...]:
        return self._data

    @Data.setter
    def Data(self, value: Any) -> None:
        data = tuple(int(b) for b in value)
        if len(data) > 8:
            raise ValueError(f"'Data' accepts at most 8 bytes (got {len(data)})")
        if any(not 0 <= b <= 255 for b in data):
            raise ValueError("'Data' bytes must be 0..255")
        self._data = data
        self.NumberBytesData = len(data)

    @property
    def ExtraDataPtr(self) -> Optional[tuple[int, ...]]:
        return self._extra

    @ExtraDataPtr.setter
    def ExtraDataPtr(self, value: Any) -> None:
        data = tuple(int(b) for b in value)
        if len(data) > 64 or any(not 0 <= b <= 255 for b in data):
            raise ValueError("'ExtraDataPtr' takes at most 64 bytes of 0..255")
        self._extra = data
        self.ExtraDataPtrEnabled = 1
        self.NumberBytesData = len(data)

    def _copy(self) -> SpyMessage:
        twin = SpyMessage()
        twin.__dict__.update(self.__dict__)
        return twin


class NeoDevice:
    """python-ics' ``PyNeoDeviceEx``: what :func:`find_devices` returns and the functions
    take."""

    def __init__(self, serial: int, name: str, device_type: int) -> None:
        self.SerialNumber = serial
        self.Name = name
        self.DeviceType = device_type
        self.MaxAllowedClients = 1
        self.NumberOfClients = 0
        self.AutoHandleClose = True
        self._open = False

    def __repr__(self) -> str:
        return f"<ics.NeoDevice {self.Name} {self.SerialNumber}>"


PyNeoDeviceEx = NeoDevice


class _Sim:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.devices: list[NeoDevice] = []
        self.queues: dict[int, collections.deque[SpyMessage]] = {}
        self.errors: dict[int, list[tuple[int, str, str, int, int]]] = {}
        self.bitrates: dict[tuple[int, int], int] = {}
        self.fd_bitrates: dict[tuple[int, int], int] = {}
        self.library: Optional[str] = None
        self.epoch = time.monotonic()
        self.capacity = 20000
        self.fail: dict[str, str] = {}

    def now(self) -> float:
        return time.monotonic() - self.epoch


_sim = _Sim()


def _check_fail(name: str) -> None:
    reason = _sim.fail.get(name)
    if reason:
        raise RuntimeError(f"Error: {name}(): {reason}")


def _open_device_of(device: Any, func: str) -> NeoDevice:
    if not isinstance(device, NeoDevice) or not device._open:
        raise RuntimeError(f"Error: {func}(): the device is not open")
    return device


# -- the documented functions -----------------------------------------------------------------


def override_library_name(new_name: str) -> None:
    _sim.library = str(new_name)


def find_devices(device_type: Any = None, network_id: Optional[int] = None) -> tuple[Any, ...]:
    _check_fail("find_devices")
    if device_type is None:
        return tuple(_sim.devices)
    types = set(device_type) if isinstance(device_type, (list, tuple)) else {device_type}
    return tuple(d for d in _sim.devices if d.DeviceType in types)


def open_device(device: Union[NeoDevice, int, None] = None, *args: Any, **kwargs: Any) -> NeoDevice:
    _check_fail("open_device")
    with _sim.cond:
        if device is None:
            free = [d for d in _sim.devices if not d._open]
            if not free:
                raise RuntimeError("Error: open_device(): no free device found")
            device = free[0]
        elif isinstance(device, int):
            found = [d for d in _sim.devices if d.SerialNumber == device]
            if not found:
                raise RuntimeError(f"Error: open_device(): no device with serial {device}")
            device = found[0]
        if device._open:
            raise RuntimeError(
                "Error: open_device(): icsneoOpenNeoDevice() Failed: the device is in use"
            )
        device._open = True
        device.NumberOfClients = 1
        _sim.queues[id(device)] = collections.deque()
        _sim.errors[id(device)] = []
    return device


def close_device(device: NeoDevice) -> int:
    with _sim.cond:
        _open_device_of(device, "close_device")
        device._open = False
        device.NumberOfClients = 0
        _sim.queues.pop(id(device), None)
        errors = _sim.errors.pop(id(device), [])
        _sim.cond.notify_all()
    return len(errors)


def _stamp(msg: SpyMessage) -> None:
    now = _sim.now()
    msg.TimeHardware2 = int(now // _TICK2)
    msg.TimeHardware = round((now - msg.TimeHardware2 * _TICK2) / _TICK)
    msg.TimeStampHardwareID = 9  # neoVI hardware clock
    msg.TimeSystem = int(time.time() * 1000) & 0xFFFFFFFF


def _deliver(device: NeoDevice, msg: SpyMessage) -> None:
    queue = _sim.queues.get(id(device))
    if queue is None:
        return
    if len(queue) >= _sim.capacity:
        _sim.errors[id(device)].append(
            (2, "Rx buffer overflow", "The receive buffer overflowed", 0x10, 0)
        )
        return
    queue.append(msg)


def transmit_messages(device: NeoDevice, messages: Any) -> None:
    _check_fail("transmit_messages")
    batch = messages if isinstance(messages, (tuple, list)) else (messages,)
    with _sim.cond:
        _open_device_of(device, "transmit_messages")
        for msg in batch:
            if not isinstance(msg, SpyMessage):
                raise TypeError("transmit_messages takes ics.SpyMessage objects")
            if msg.NetworkID not in CAN_NETWORKS:
                raise RuntimeError(
                    f"Error: transmit_messages(): icsneoTxMessages() Failed: "
                    f"network {msg.NetworkID} is not on this device"
                )
            sent = msg._copy()
            sent.StatusBitField &= ~SPY_STATUS_TX_MSG
            _stamp(sent)
            for other in _sim.devices:
                if other._open:
                    copy = sent._copy()
                    if other is device:
                        copy.StatusBitField |= SPY_STATUS_TX_MSG
                    _deliver(other, copy)
        _sim.cond.notify_all()


def get_messages(
    device: NeoDevice, j1850: bool = False, timeout: float = 0.1
) -> tuple[tuple[SpyMessage, ...], int]:
    _check_fail("get_messages")
    deadline = time.monotonic() + max(0.0, float(timeout))
    with _sim.cond:
        _open_device_of(device, "get_messages")
        while True:
            queue = _sim.queues.get(id(device))
            if queue is None:
                raise RuntimeError("Error: get_messages(): the device was closed")
            if queue:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            _sim.cond.wait(remaining)
        msgs = tuple(queue)
        queue.clear()
        errors = len(_sim.errors.get(id(device), ()))
    return msgs, errors


def get_error_messages(
    device: NeoDevice, j1850: bool = False, timeout: float = 0.1
) -> list[tuple[int, str, str, int, int]]:
    with _sim.cond:
        _open_device_of(device, "get_error_messages")
        errors = _sim.errors[id(device)]
        taken = list(errors)
        errors.clear()
    return taken


def get_timestamp_for_msg(device: NeoDevice, msg: SpyMessage) -> float:
    _open_device_of(device, "get_timestamp_for_msg")
    return msg.TimeHardware2 * _TICK2 + msg.TimeHardware * _TICK


def set_bit_rate(device: NeoDevice, bit_rate: int, network_id: int) -> None:
    _open_device_of(device, "set_bit_rate")
    if network_id not in CAN_NETWORKS or bit_rate not in CAN_BIT_RATES:
        raise RuntimeError(
            f"Error: set_bit_rate(): icsneoSetBitRate() Failed: {bit_rate} on network {network_id}"
        )
    _sim.bitrates[(device.SerialNumber, network_id)] = bit_rate


def set_fd_bit_rate(device: NeoDevice, bit_rate: int, network_id: int) -> None:
    _open_device_of(device, "set_fd_bit_rate")
    if network_id not in CAN_NETWORKS or bit_rate not in (
        1000000,
        2000000,
        4000000,
        5000000,
        8000000,
    ):
        raise RuntimeError(
            f"Error: set_fd_bit_rate(): icsneoSetFDBitRate() Failed: {bit_rate} on {network_id}"
        )
    _sim.fd_bitrates[(device.SerialNumber, network_id)] = bit_rate


def base36enc(serial: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if serial < 0:
        raise RuntimeError("Error: base36enc(): negative serial")
    text = ""
    while True:
        serial, rest = divmod(serial, 36)
        text = digits[rest] + text
        if not serial:
            return text


def validate_hobject(device: Any) -> bool:
    """True while ``device`` is open (python-ics: handles are valid only then)."""
    return isinstance(device, NeoDevice) and device._open


def get_serial_number(device: NeoDevice) -> int:
    return device.SerialNumber


# -- simulation control (not python-ics) -------------------------------------------------------


def sim_reset(
    devices: tuple[tuple[int, str], ...] = ((53123, "neoVI FIRE 2"), (604661761, "ValueCAN 4-2")),
) -> None:
    """Forget every device and queue; the devices become ``(serial, name)`` pairs."""
    with _sim.cond:
        for d in _sim.devices:
            d._open = False
        _sim.devices = [NeoDevice(serial, name, NEODEVICE_FIRE2) for serial, name in devices]
        _sim.queues.clear()
        _sim.errors.clear()
        _sim.bitrates.clear()
        _sim.fd_bitrates.clear()
        _sim.fail.clear()
        _sim.library = None
        _sim.cond.notify_all()


def sim_inject(
    network_id: int,
    arb_id: int,
    data: bytes = b"",
    status: int = 0,
    status3: int = 0,
    protocol: int = SPY_PROTOCOL_CAN,
    status2: int = 0,
) -> None:
    """A frame from another node on ``network_id``: every open device receives it."""
    msg = SpyMessage()
    msg.NetworkID = network_id
    msg.ArbIDOrHeader = arb_id
    msg.StatusBitField = status
    msg.StatusBitField2 = status2
    msg.StatusBitField3 = status3
    msg.Protocol = protocol
    if len(data) > 8:
        msg.ExtraDataPtr = tuple(data)
    else:
        msg.Data = tuple(data)
    with _sim.cond:
        _stamp(msg)
        for device in _sim.devices:
            if device._open:
                _deliver(device, msg._copy())
        _sim.cond.notify_all()


def sim_error(device: NeoDevice, error: tuple[int, str, str, int, int]) -> None:
    """Queue one of the device's error messages (as get_error_messages returns them)."""
    with _sim.cond:
        _sim.errors[id(device)].append(error)


def sim_fail(function: str, reason: str) -> None:
    """Make ``function`` raise :class:`RuntimeError` with ``reason`` until the next reset."""
    _sim.fail[function] = reason


def sim_state() -> _Sim:
    return _sim


sim_reset()
