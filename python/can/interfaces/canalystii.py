"""The ``canalystii`` interface: CANalyst-II(+) and other USBCAN-II adapters through the ZLG
``ControlCAN`` driver library (manual section 4.13).

This follows python-can 3.3.2 (the manual): the vendor's library over ctypes, ``ControlCAN.dll``
on Windows and ``libcontrolcan.so`` on Linux, rather than python-can 4.x's ``canalystii``
package that talks USB directly. The library is what the adapter's maker ships and supports on
both systems, and it is tested here the way every other vendor library is, against a simulated
library with the same C functions. 4.x's arguments (``bitrate``, ``timing``,
``rx_queue_size``, several channels) are accepted too.

Function signatures, structures and codes are those of the public header ``ControlCAN.h``.
"""

from __future__ import annotations

import collections
import ctypes
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Optional, Union

from can import _core
from can.bit_timing import BitTiming
from can.bus import BusABC, BusState, CanFilters
from can.ctypesutil import HostClock, VendorLibrary
from can.exceptions import CanInitializationError, CanOperationError
from can.message import Message

__all__ = ["TIMINGS", "CANalystIIBus"]

LOG = logging.getLogger("can.canalystii")

_DWORD = ctypes.c_uint  # ControlCAN.h: DWORD, UINT and ULONG are unsigned int
_BYTE = ctypes.c_ubyte
VCI_USBCAN2 = 4  # ControlCAN.h device type of the USBCAN-II / CANalyst-II
STATUS_OK = 1
_DEVICE_LEVEL = 0xFFFFFFFF  # VCI_ReadErrInfo: errors of the device, not of a channel
_RECEIVE_ERROR = 0xFFFFFFFF
# ControlCAN.h error bits
ERROR_BITS: dict[int, str] = {
    0x0001: "CAN controller FIFO overflow",
    0x0002: "CAN controller error warning",
    0x0004: "CAN controller error passive",
    0x0008: "CAN controller arbitration lost",
    0x0010: "CAN controller bus error",
    0x0100: "the device is already open",
    0x0200: "the device cannot be opened",
    0x0400: "the device is not open",
    0x0800: "buffer overflow",
    0x1000: "the device does not exist",
    0x2000: "the driver library failed to load",
    0x4000: "the command failed",
    0x8000: "out of memory",
}

#: bit/s -> (Timing0, Timing1): the SJA1000 bus timing registers for the adapter's 8 MHz CAN
#: clock, as the vendor's manual tabulates them (each checks out with
#: ``BitTiming.from_registers(8_000_000, Timing0, Timing1).bitrate``).
TIMINGS: dict[int, tuple[int, int]] = {
    10000: (0x31, 0x1C),
    20000: (0x18, 0x1C),
    40000: (0x87, 0xFF),
    50000: (0x09, 0x1C),
    80000: (0x83, 0xFF),
    100000: (0x04, 0x1C),
    125000: (0x03, 0x1C),
    200000: (0x81, 0xFA),
    250000: (0x01, 0x1C),
    400000: (0x80, 0xFA),
    500000: (0x00, 0x1C),
    666000: (0x80, 0xB6),
    800000: (0x00, 0x16),
    1000000: (0x00, 0x14),
}
_F_CLOCK = 8_000_000
_BATCH = 256
_TICK = 1e-4  # TimeStamp unit: 0.1 ms
_WRAP = 1 << 32


class CanObj(ctypes.Structure):
    """ControlCAN.h ``VCI_CAN_OBJ``."""

    _fields_ = [
        ("ID", _DWORD),
        ("TimeStamp", _DWORD),
        ("TimeFlag", _BYTE),
        ("SendType", _BYTE),
        ("RemoteFlag", _BYTE),
        ("ExternFlag", _BYTE),
        ("DataLen", _BYTE),
        ("Data", _BYTE * 8),
        ("Reserved", _BYTE * 3),
    ]


class InitConfig(ctypes.Structure):
    """ControlCAN.h ``VCI_INIT_CONFIG``."""

    _fields_ = [
        ("AccCode", _DWORD),
        ("AccMask", _DWORD),
        ("Reserved", _DWORD),
        ("Filter", _BYTE),
        ("Timing0", _BYTE),
        ("Timing1", _BYTE),
        ("Mode", _BYTE),
    ]


class ErrInfo(ctypes.Structure):
    """ControlCAN.h ``VCI_ERR_INFO``."""

    _fields_ = [("ErrCode", _DWORD), ("Passive_ErrData", _BYTE * 3), ("ArLost_ErrData", _BYTE)]


class CanStatus(ctypes.Structure):
    """ControlCAN.h ``VCI_CAN_STATUS``."""

    _fields_ = [
        ("ErrInterrupt", _BYTE),
        ("regMode", _BYTE),
        ("regStatus", _BYTE),
        ("regALCapture", _BYTE),
        ("regECCapture", _BYTE),
        ("regEWLimit", _BYTE),
        ("regRECounter", _BYTE),
        ("regTECounter", _BYTE),
        ("Reserved", _DWORD),
    ]


LIBRARY = VendorLibrary(
    "ControlCAN (CANalyst-II)",
    {
        "win32": ("ControlCAN.dll",),
        "linux": ("libcontrolcan.so",),
        "darwin": ("libcontrolcan.dylib",),
    },
    "CAN_CANALYSTII_LIBRARY",
    "install the adapter maker's ControlCAN library (ControlCAN.dll / libcontrolcan.so)",
    stdcall=True,
)

_new_message = _core.new_message_from_fields


def _functions() -> dict[str, Any]:
    d = _DWORD
    return LIBRARY.declare(
        {
            "VCI_OpenDevice": (d, [d, d, d]),
            "VCI_CloseDevice": (d, [d, d]),
            "VCI_InitCAN": (d, [d, d, d, ctypes.POINTER(InitConfig)]),
            "VCI_StartCAN": (d, [d, d, d]),
            "VCI_ResetCAN": (d, [d, d, d]),
            "VCI_ClearBuffer": (d, [d, d, d]),
            "VCI_Transmit": (d, [d, d, d, ctypes.POINTER(CanObj), d]),
            "VCI_Receive": (d, [d, d, d, ctypes.POINTER(CanObj), d, ctypes.c_int]),
            "VCI_ReadErrInfo": (d, [d, d, d, ctypes.POINTER(ErrInfo)]),
            "VCI_ReadCANStatus": (d, [d, d, d, ctypes.POINTER(CanStatus)]),
        }
    )


def _error_text(code: int) -> str:
    parts = [text for bit, text in ERROR_BITS.items() if code & bit]
    return ", ".join(parts) or "no error information"


def _channels(channel: Any) -> list[int]:
    items = channel.split(",") if isinstance(channel, str) else channel
    if isinstance(items, (int, str)):
        items = [items]
    try:
        found = [int(item) for item in items]
    except (TypeError, ValueError):
        raise ValueError(f"CANalyst-II channels are 0 and 1, not {channel!r}") from None
    if not found or any(c not in (0, 1) for c in found) or len(set(found)) != len(found):
        raise ValueError(f"CANalyst-II channels are 0 and 1, not {channel!r}")
    return found


class CANalystIIBus(BusABC):
    """A CANalyst-II (USBCAN-II) adapter.

    :param channel: the channel (0 or 1), a list of both, or ``"0, 1"`` (4.x's default).
    :param device: the device index, 0 for the first adapter.
    :param baud: bit/s, one of :data:`TIMINGS` (``bitrate`` is 4.x's name for it).
    :param Timing0: / :param Timing1: the SJA1000 bus timing registers, when ``baud`` is not
        given.
    :param can_filters: see :meth:`can.BusABC.set_filters` (applied in software).
    :param bitrate: python-can 4.x's name for ``baud``.
    :param timing: a :class:`can.BitTiming` for the adapter's 8 MHz clock (4.x).
    :param rx_queue_size: accepted for 4.x compatibility; the driver sizes its own queue.
    :raises ValueError: for an unknown rate, a timing for another clock, or no timing at all.
    :raises CanInitializationError: if the device cannot be opened or started.
    """

    CONFIG_KEYS: ClassVar[Mapping[str, str]] = {
        "device": "int",
        "baud": "rate",
        "Timing0": "int",
        "Timing1": "int",
        "rx_queue_size": "int",
    }

    def __init__(
        self,
        channel: Union[int, str, Sequence[int]] = (0, 1),
        device: int = 0,
        baud: Optional[int] = None,
        Timing0: Optional[int] = None,
        Timing1: Optional[int] = None,
        can_filters: Optional[CanFilters] = None,
        *,
        bitrate: Optional[int] = None,
        timing: Optional[BitTiming] = None,
        rx_queue_size: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        self.channels = _channels(channel)
        self.device = int(device)
        btr0, btr1 = self._registers(baud, bitrate, Timing0, Timing1, timing)
        self._f = _functions()
        self._clock = HostClock()
        self._last_raw: dict[int, int] = {}
        self._wraps: dict[int, int] = {}
        self._queue: collections.deque[Message] = collections.deque()
        self._buffer = (CanObj * _BATCH)()
        self._open = False
        self._state = BusState.ACTIVE
        f = self._f
        if f["VCI_OpenDevice"](VCI_USBCAN2, self.device, 0) != STATUS_OK:
            raise CanInitializationError(
                f"cannot open CANalyst-II device {self.device}: {self._device_error()}"
            )
        self._open = True
        try:
            # Acceptance code 0 with a mask of all ones: the controller lets every frame in.
            config = InitConfig(
                AccCode=0, AccMask=0xFFFFFFFF, Filter=1, Timing0=btr0, Timing1=btr1, Mode=0
            )
            for ch in self.channels:
                if f["VCI_InitCAN"](VCI_USBCAN2, self.device, ch, ctypes.byref(config)) != 1:
                    raise CanInitializationError(
                        f"cannot initialise channel {ch} of CANalyst-II device {self.device} "
                        f"with Timing0=0x{btr0:02X} Timing1=0x{btr1:02X}: "
                        f"{self._channel_error(ch)}"
                    )
                if f["VCI_StartCAN"](VCI_USBCAN2, self.device, ch) != STATUS_OK:
                    raise CanInitializationError(
                        f"cannot start channel {ch} of CANalyst-II device {self.device}: "
                        f"{self._channel_error(ch)}"
                    )
        except BaseException:
            self._close()
            raise
        self.channel_info = (
            f"CANalyst-II device {self.device} channel(s) {', '.join(map(str, self.channels))}"
        )
        super().__init__(channel=channel, can_filters=can_filters, **kwargs)

    @staticmethod
    def _registers(
        baud: Optional[int],
        bitrate: Optional[int],
        timing0: Optional[int],
        timing1: Optional[int],
        timing: Optional[BitTiming],
    ) -> tuple[int, int]:
        if baud is not None and bitrate is not None and baud != bitrate:
            raise ValueError(f"baud={baud} and bitrate={bitrate} disagree; give one")
        rate = baud if baud is not None else bitrate
        if timing is not None:
            if not isinstance(timing, BitTiming):
                raise ValueError("the CANalyst-II takes a can.BitTiming (classic CAN only)")
            if timing.f_clock != _F_CLOCK:
                raise ValueError(
                    f"the CANalyst-II's CAN clock is 8 MHz; this timing is for {timing.f_clock} Hz"
                )
            return timing.btr0, timing.btr1
        if rate is not None:
            if rate not in TIMINGS:
                raise ValueError(
                    f"the CANalyst-II has no timing for {rate} bit/s; it has "
                    f"{', '.join(map(str, sorted(TIMINGS)))}, or give Timing0 and Timing1"
                )
            return TIMINGS[rate]
        if timing0 is not None and timing1 is not None:
            if not (0 <= timing0 <= 255 and 0 <= timing1 <= 255):
                raise ValueError("Timing0 and Timing1 are register values 0..255")
            return timing0, timing1
        raise ValueError("give the bit rate (baud or bitrate), Timing0 and Timing1, or timing")

    # -- errors ----------------------------------------------------------------------------

    def _read_error(self, channel: int) -> int:
        info = ErrInfo()
        if self._f["VCI_ReadErrInfo"](VCI_USBCAN2, self.device, channel, ctypes.byref(info)) != 1:
            return 0
        return int(info.ErrCode)

    def _device_error(self) -> str:
        return _error_text(self._read_error(_DEVICE_LEVEL))

    def _channel_error(self, channel: int) -> str:
        return _error_text(self._read_error(channel))

    # -- receiving -------------------------------------------------------------------------

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        if self._queue:
            return self._queue.popleft(), False
        deadline = None if timeout is None else time.monotonic() + timeout
        single = len(self.channels) == 1
        while True:
            if not self._open:
                raise CanOperationError("the CANalyst-II bus is shut down")
            if deadline is None:
                wait_ms = 500
            else:
                wait_ms = max(0, int((deadline - time.monotonic()) * 1000))
            # One channel: wait inside the driver. Two: look at both, then wait a little on
            # the first (the driver cannot wait on two channels at once).
            for ch in self.channels:
                self._fetch(ch, wait_ms if single else 0)
            if not self._queue and not single and wait_ms:
                self._fetch(self.channels[0], min(wait_ms, 5))
            if self._queue:
                return self._queue.popleft(), False
            if deadline is not None and time.monotonic() >= deadline:
                return None, False

    def _fetch(self, ch: int, wait_ms: int) -> None:
        buffer = self._buffer
        count = self._f["VCI_Receive"](VCI_USBCAN2, self.device, ch, buffer, _BATCH, wait_ms)
        if count == _RECEIVE_ERROR:
            raise CanOperationError(
                f"receiving on channel {ch} of CANalyst-II device {self.device} failed: "
                f"{self._channel_error(ch)}"
            )
        for i in range(count):
            self._queue.append(self._message(buffer[i], ch))

    def _timestamp(self, raw: int, ch: int) -> float:
        last = self._last_raw.get(ch)
        if last is not None and raw < last:
            self._wraps[ch] = self._wraps.get(ch, 0) + 1
        self._last_raw[ch] = raw
        return self._clock.to_host((raw + self._wraps.get(ch, 0) * _WRAP) * _TICK)

    def _message(self, obj: CanObj, ch: int) -> Message:
        remote = bool(obj.RemoteFlag)
        length = min(obj.DataLen, 8)
        timestamp = self._timestamp(obj.TimeStamp, ch) if obj.TimeFlag else time.time()
        msg: Message = _new_message(
            Message,
            (
                timestamp,
                obj.ID,
                bool(obj.ExternFlag),
                remote,
                False,
                ch,
                obj.DataLen if remote else length,
                bytearray() if remote else bytearray(bytes(obj.Data)[:length]),
                False,
                True,
                False,
                False,
            ),
        )
        return msg

    # -- sending ---------------------------------------------------------------------------

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """Transmit ``msg`` on its ``channel`` if that is one of the bus's, else on the first.

        :param timeout: not used (the manual says so): the driver takes the frame at once.
        :raises ValueError: for CAN FD or more than 8 bytes.
        :raises can.CanOperationError: if the driver does not take the frame; the message
            says why, from the driver's error information.
        """
        if not self._open:
            raise CanOperationError("the CANalyst-II bus is shut down")
        if msg.is_fd or len(msg.data) > 8:
            raise ValueError("the CANalyst-II sends classic CAN frames of up to 8 bytes")
        ch = msg.channel if msg.channel in self.channels else self.channels[0]
        obj = CanObj(
            ID=msg.arbitration_id,
            SendType=0,
            RemoteFlag=msg.is_remote_frame,
            ExternFlag=msg.is_extended_id,
            DataLen=msg.dlc if msg.is_remote_frame else len(msg.data),
        )
        if not msg.is_remote_frame:
            ctypes.memmove(obj.Data, bytes(msg.data), len(msg.data))
        if self._f["VCI_Transmit"](VCI_USBCAN2, self.device, ch, ctypes.byref(obj), 1) != 1:
            raise CanOperationError(
                f"channel {ch} of CANalyst-II device {self.device} did not take the frame: "
                f"{self._channel_error(ch)}"
            )

    def flush_tx_buffer(self) -> None:
        """Discard every message queued in the driver's buffers of the bus's channels."""
        if not self._open:
            raise CanOperationError("the CANalyst-II bus is shut down")
        for ch in self.channels:
            self._f["VCI_ClearBuffer"](VCI_USBCAN2, self.device, ch)

    # -- state and life cycle --------------------------------------------------------------

    @property
    def state(self) -> BusState:
        """From the CAN controller's status register and error counters
        (``VCI_ReadCANStatus``) of the first channel: bus off is :attr:`BusState.ERROR`,
        an error counter over 127 :attr:`BusState.PASSIVE`."""
        if self._open:
            status = CanStatus()
            ch = self.channels[0]
            if self._f["VCI_ReadCANStatus"](VCI_USBCAN2, self.device, ch, ctypes.byref(status)):
                if status.regStatus & 0x80:
                    self._state = BusState.ERROR
                elif max(status.regTECounter, status.regRECounter) > 127:
                    self._state = BusState.PASSIVE
                else:
                    self._state = BusState.ACTIVE
        return self._state

    @state.setter
    def state(self, new_state: BusState) -> None:
        raise NotImplementedError("a CANalyst-II bus cannot change its bus state")

    def _close(self) -> None:
        if self._open:
            self._open = False
            for ch in self.channels:
                self._f["VCI_ResetCAN"](VCI_USBCAN2, self.device, ch)
            self._f["VCI_CloseDevice"](VCI_USBCAN2, self.device)

    def shutdown(self) -> None:
        """Stop the channels and close the device."""
        if self._is_shutdown:
            return
        super().shutdown()
        self._close()

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        """None: the ControlCAN library cannot list adapters without opening them."""
        return []
