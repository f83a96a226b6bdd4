"""The USB2CAN bus over the CANAL functions of the adapter's driver library."""

from __future__ import annotations

import ctypes
import logging
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Optional

from can import _core
from can.bus import BusABC, BusState, CanFilters
from can.ctypesutil import HostClock
from can.exceptions import CanInitializationError, CanOperationError
from can.interfaces.usb2can import usb2canabstractionlayer as canal
from can.interfaces.usb2can.serial_selector import find_serial_devices
from can.message import Message

__all__ = ["Usb2canBus"]

LOG = logging.getLogger("can.usb2can")

_new_message = _core.new_message_from_fields
# A receive with no timeout waits in slices this long (ms), so shutdown() is noticed.
_WAIT_SLICE_MS = 500
_WRAP = 1 << (8 * ctypes.sizeof(ctypes.c_ulong))  # the timestamp counter's range
_STATES = {
    canal.CANAL_STATUSMSG_OK: BusState.ACTIVE,
    canal.CANAL_STATUSMSG_BUSLIGHT: BusState.ACTIVE,
    canal.CANAL_STATUSMSG_BUSHEAVY: BusState.PASSIVE,
    canal.CANAL_STATUSMSG_BUSOFF: BusState.ERROR,
}


class Usb2canBus(BusABC):
    """An 8devices USB2CAN adapter.

    :param channel: the adapter's serial number (8 characters, e.g. ``"ED000200"``); default:
        ``serial``, else the first adapter :func:`find_serial_devices` finds.
    :param dll: the driver library's file name or path; default: ``usb2can.dll`` on Windows
        (``CAN_USB2CAN_LIBRARY`` overrides it).
    :param flags: CANAL open flags (``0x00000008``: the driver's default, queue replacement).
    :param bitrate: bit/s; the adapter takes 10k, 20k, 50k, 100k, 125k, 250k, 500k, 800k, 1M.
    :param serial: the serial number, if not given as ``channel``.
    :param can_filters: see :meth:`can.BusABC.set_filters` (applied in software: the CANAL
        library has no working mask, as the manual notes).
    :raises CanInitializationError: no adapter, or it cannot be opened.
    """

    CONFIG_KEYS: ClassVar[Mapping[str, str]] = {"dll": "str", "serial": "str", "flags": "int"}

    def __init__(
        self,
        channel: Optional[str] = None,
        dll: Optional[str] = None,
        flags: int = 0x00000008,
        *,
        bitrate: int = 500000,
        serial: Optional[str] = None,
        can_filters: Optional[CanFilters] = None,
        **kwargs: Any,
    ) -> None:
        device = channel or serial
        if not device:
            found = find_serial_devices()
            if not found:
                raise CanInitializationError(
                    "no USB2CAN adapter found: give its serial number as channel"
                )
            device = found[0]
        device = str(device)
        if bitrate % 1000:
            raise ValueError(f"the USB2CAN bit rate is a whole number of kbit/s, not {bitrate}")
        self._lib = canal.library(dll)
        self._f = canal.functions(self._lib)
        self._clock = HostClock()
        self._last_raw: Optional[int] = None
        self._wraps = 0
        self._state = BusState.ACTIVE
        self._rx = canal.CanalMsg()
        config = f"{device}; {bitrate // 1000}".encode("ascii")
        handle = self._f["CanalOpen"](config, flags)
        if handle <= 0:
            raise CanInitializationError(
                f"cannot open the USB2CAN adapter {device} at {bitrate} bit/s "
                f"(CanalOpen returned {handle}): is it attached, free, and the rate one it has?"
            )
        self._handle: Optional[int] = handle
        self.channel = device
        self.channel_info = f"USB2CAN {device}"
        super().__init__(channel=device, can_filters=can_filters, **kwargs)

    # -- receiving -------------------------------------------------------------------------

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        raw = self._rx
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            handle = self._handle
            if handle is None:
                raise CanOperationError("the USB2CAN bus is shut down")
            if deadline is None:
                status = self._f["CanalBlockingReceive"](handle, ctypes.byref(raw), _WAIT_SLICE_MS)
            else:
                left_ms = int((deadline - time.monotonic()) * 1000)
                if left_ms <= 0:
                    status = self._f["CanalReceive"](handle, ctypes.byref(raw))
                else:
                    status = self._f["CanalBlockingReceive"](handle, ctypes.byref(raw), left_ms)
            if status == canal.CANAL_ERROR_SUCCESS:
                return self._message(raw), False
            if status not in (
                canal.CANAL_ERROR_TIMEOUT,
                canal.CANAL_ERROR_FIFO_EMPTY,
                canal.CANAL_ERROR_RCV_EMPTY,
            ):
                raise canal.CanalError(
                    f"CanalReceive failed: {canal.describe(status)[1]}", error_code=status
                )
            if deadline is not None and time.monotonic() >= deadline:
                return None, False

    def _timestamp(self, raw_us: int) -> float:
        # The driver's microsecond counter wraps (at 2**32 where unsigned long has 32 bits).
        if self._last_raw is not None and raw_us < self._last_raw:
            self._wraps += 1
        self._last_raw = raw_us
        return self._clock.to_host((raw_us + self._wraps * _WRAP) / 1e6)

    def _message(self, raw: canal.CanalMsg) -> Message:
        flags = raw.flags
        timestamp = self._timestamp(raw.timestamp)
        if flags & canal.CANAL_IDFLAG_STATUS:
            code = raw.id
            self._state = _STATES.get(code, self._state)
            # A status indication: an error frame whose data is the CANAL status code.
            return Message(
                timestamp=timestamp,
                is_error_frame=True,
                arbitration_id=0,
                channel=self.channel,
                data=[code & 0xFF],
            )
        remote = bool(flags & canal.CANAL_IDFLAG_RTR)
        length = min(raw.sizeData, 8)
        msg: Message = _new_message(
            Message,
            (
                timestamp,
                raw.id,
                bool(flags & canal.CANAL_IDFLAG_EXTENDED),
                remote,
                False,
                self.channel,
                raw.sizeData if remote else length,
                bytearray() if remote else bytearray(bytes(raw.data)[:length]),
                False,
                True,
                False,
                False,
            ),
        )
        return msg

    # -- sending ---------------------------------------------------------------------------

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """Transmit ``msg``; with a ``timeout``, wait up to that long for room in the
        adapter's transmit queue (the driver's blocking send).

        :raises ValueError: for CAN FD or more than 8 bytes.
        :raises CanalError: if the driver refuses the frame.
        """
        handle = self._handle
        if handle is None:
            raise CanOperationError("the USB2CAN bus is shut down")
        if msg.is_fd or len(msg.data) > 8:
            raise ValueError("USB2CAN sends classic CAN frames of up to 8 bytes")
        flags = canal.CANAL_IDFLAG_STANDARD
        if msg.is_extended_id:
            flags |= canal.CANAL_IDFLAG_EXTENDED
        if msg.is_remote_frame:
            flags |= canal.CANAL_IDFLAG_RTR
        raw = canal.CanalMsg(
            flags=flags,
            id=msg.arbitration_id,
            sizeData=msg.dlc if msg.is_remote_frame else len(msg.data),
        )
        if not msg.is_remote_frame:
            ctypes.memmove(raw.data, bytes(msg.data), len(msg.data))
        try:
            if timeout:
                self._f["CanalBlockingSend"](handle, ctypes.byref(raw), int(timeout * 1000))
            else:
                self._f["CanalSend"](handle, ctypes.byref(raw))
        except canal.CanalError:
            self._refresh_state()
            raise

    # -- state, statistics and life cycle --------------------------------------------------

    def _status(self) -> canal.CanalStatus:
        handle = self._handle
        if handle is None:
            raise CanOperationError("the USB2CAN bus is shut down")
        status = canal.CanalStatus()
        self._f["CanalGetStatus"](handle, ctypes.byref(status))
        return status

    def _refresh_state(self) -> None:
        bits = self._status().channel_status
        if bits & canal.CANAL_STATUS_BUS_OFF:
            self._state = BusState.ERROR
        elif bits & canal.CANAL_STATUS_PASSIVE:
            self._state = BusState.PASSIVE
        else:
            self._state = BusState.ACTIVE

    @property
    def state(self) -> BusState:
        """The adapter's bus state, asked of the driver (``CanalGetStatus``)."""
        if self._handle is not None:
            self._refresh_state()
        return self._state

    @state.setter
    def state(self, new_state: BusState) -> None:
        raise NotImplementedError("a USB2CAN bus cannot change its bus state")

    def get_statistics(self) -> dict[str, int]:
        """The driver's counters (``CanalGetStatistics``): frames and data bytes received and
        transmitted, overruns, bus warnings and bus-off events."""
        handle = self._handle
        if handle is None:
            raise CanOperationError("the USB2CAN bus is shut down")
        stats = canal.CanalStatistics()
        self._f["CanalGetStatistics"](handle, ctypes.byref(stats))
        return {name: int(getattr(stats, name)) for name, *_ in stats._fields_}

    def shutdown(self) -> None:
        """Close the adapter."""
        if self._is_shutdown:
            return
        super().shutdown()
        handle, self._handle = self._handle, None
        if handle is not None:
            self._f["CanalClose"](handle)

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        """One configuration per attached adapter (Windows with pywin32; none elsewhere)."""
        return [{"interface": "usb2can", "channel": serial} for serial in find_serial_devices()]
