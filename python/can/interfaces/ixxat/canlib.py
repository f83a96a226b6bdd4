"""The IXXAT bus over the VCI V3 C-API (manual section 4.5)."""

from __future__ import annotations

import ctypes
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any, Callable, ClassVar, Optional, Union

from can import _core
from can.broadcastmanager import (
    CyclicSendTaskABC,
    LimitedDurationCyclicSendTaskABC,
    RestartableCyclicTaskABC,
)
from can.bus import BusABC, BusState, CanFilters
from can.ctypesutil import HostClock
from can.exceptions import CanOperationError
from can.interfaces.ixxat import vci
from can.message import Message

__all__ = ["CyclicSendTask", "IXXATBus"]

LOG = logging.getLogger("can.ixxat")

_new_message = _core.new_message_from_fields
_WAIT_SLICE_MS = 500


class IXXATBus(BusABC):
    """A CAN controller of an IXXAT device.

    :param channel: the controller number on the device (0 for the first).
    :param can_filters: see :meth:`can.BusABC.set_filters`. Given here, they become the
        controller's filter list (only the ids they match pass); every filter is also checked
        in software.
    :param receive_own_messages: also receive the frames this bus sent (self reception).
    :param unique_hardware_id: the device's unique hardware id (``"HW123456"``); default: the
        first device found. ``UniqueHardwareId`` (3.3.2's configuration key) works too.
    :param extended: also receive 29-bit ids (the controller's extended mode; the manual's
        default is False). Frames with 29-bit ids can be sent either way.
    :param bitrate: bit/s, one of the CiA rates (10k, 20k, 50k, 100k, 125k, 250k, 500k, 800k,
        1M); default 500000.
    :param rx_fifo_size: / :param tx_fifo_size: the message channel's FIFO sizes (default 16
        as the manual says; 3.3.2's ``rxFifoSize`` / ``txFifoSize`` keys work too).
    :raises ValueError: for a bad channel or bitrate.
    :raises can.CanInitializationError: no device, or it cannot be set up.
    """

    CONFIG_KEYS: ClassVar[Mapping[str, str]] = {
        "UniqueHardwareId": "str",
        "unique_hardware_id": "str",
        "rxFifoSize": "int",
        "txFifoSize": "int",
        "rx_fifo_size": "int",
        "tx_fifo_size": "int",
        "extended": "bool",
        "receive_own_messages": "bool",
    }

    def __init__(
        self,
        channel: int,
        can_filters: Optional[CanFilters] = None,
        receive_own_messages: bool = False,
        unique_hardware_id: Optional[str] = None,
        extended: bool = False,
        bitrate: int = 500000,
        rx_fifo_size: Optional[int] = None,
        tx_fifo_size: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        unique_hardware_id = kwargs.pop("UniqueHardwareId", unique_hardware_id)
        rx = int(kwargs.pop("rxFifoSize", rx_fifo_size or 16))
        tx = int(kwargs.pop("txFifoSize", tx_fifo_size or 16))
        try:
            self.channel = int(channel)
        except (TypeError, ValueError):
            raise ValueError(f"an IXXAT channel is a controller number, not {channel!r}") from None
        if self.channel < 0:
            raise ValueError(f"an IXXAT channel is a controller number, not {channel!r}")
        if bitrate not in vci.BITRATES:
            raise ValueError(
                f"IXXAT has no predefined timing for {bitrate} bit/s; it has "
                f"{', '.join(map(str, sorted(vci.BITRATES)))}"
            )
        for name, size in (("rx_fifo_size", rx), ("tx_fifo_size", tx)):
            if not 1 <= size <= 0xFFFF:
                raise ValueError(f"{name} is 1..65535, not {size}")
        self.receive_own_messages = receive_own_messages
        self.extended = extended
        self._f = vci.functions()
        self._device: Optional[int] = None
        self._control: Optional[int] = None
        self._channel: Optional[int] = None
        self._scheduler: Optional[int] = None
        self._scheduler_tick = 0.0
        self._clock = HostClock()
        self._overruns = 0
        self._last_tick: Optional[int] = None
        self._state = BusState.ACTIVE
        self._rx = vci.CanMsg()
        try:
            self._open(unique_hardware_id, bitrate, rx, tx, can_filters)
        except BaseException:
            self._close()
            raise
        self.channel_info = f"IXXAT {self.hardware_id} CAN {self.channel}"
        super().__init__(channel=self.channel, can_filters=can_filters, **kwargs)

    def _open(
        self,
        hardware_id: Optional[str],
        bitrate: int,
        rx: int,
        tx: int,
        can_filters: Optional[CanFilters],
    ) -> None:
        f = self._f
        devices = vci.enumerate_devices()
        chosen = [
            d for d in devices if hardware_id is None or vci.hardware_id(d) == str(hardware_id)
        ]
        if not chosen:
            found = ", ".join(vci.hardware_id(d) for d in devices) or "none"
            wanted = f" with unique hardware id {hardware_id}" if hardware_id else ""
            raise vci.VCIDeviceNotFoundError(f"no IXXAT device{wanted} found (found: {found})")
        info = chosen[0]
        self.hardware_id = vci.hardware_id(info)
        handle = vci.HANDLE()
        vci.check(
            "vciDeviceOpen",
            f["vciDeviceOpen"](ctypes.byref(info.VciObjectId), ctypes.byref(handle)),
            True,
        )
        self._device = handle.value
        channel = vci.HANDLE()
        vci.check(
            "canChannelOpen",
            f["canChannelOpen"](self._device, self.channel, 0, ctypes.byref(channel)),
            True,
        )
        self._channel = channel.value
        vci.check(
            "canChannelInitialize", f["canChannelInitialize"](self._channel, rx, 1, tx, 1), True
        )
        vci.check("canChannelActivate", f["canChannelActivate"](self._channel, 1), True)
        control = vci.HANDLE()
        hr = f["canControlOpen"](self._device, self.channel, ctypes.byref(control)) & 0xFFFFFFFF
        if hr == vci.VCI_E_ACCESSDENIED:
            # Another application controls the controller: use it as it is set up.
            LOG.warning(
                "%s CAN %d is controlled by another application", self.hardware_id, self.channel
            )
        else:
            vci.check("canControlOpen", hr, True)
            self._control = control.value
            mode = vci.CAN_OPMODE_STANDARD | vci.CAN_OPMODE_ERRFRAME
            if self.extended:
                mode |= vci.CAN_OPMODE_EXTENDED
            bt0, bt1 = vci.BITRATES[bitrate]
            vci.check(
                "canControlInitialize",
                f["canControlInitialize"](self._control, mode, bt0, bt1),
                True,
            )
            self._program_filters(can_filters)
            vci.check("canControlStart", f["canControlStart"](self._control, 1), True)
        caps = vci.Capabilities()
        vci.check(
            "canControlGetCaps",
            f["canControlGetCaps"](self._control or self._channel, ctypes.byref(caps)),
            True,
        )
        self._tick = caps.dwTscDivisor / caps.dwClockFreq if caps.dwClockFreq else 1e-6
        self._scheduler_tick = caps.dwCmsDivisor / caps.dwClockFreq if caps.dwClockFreq else 0.0
        self._cms_max_ticks = int(caps.dwCmsMaxTicks)

    def _program_filters(self, can_filters: Optional[CanFilters]) -> None:
        """The controller's filter list from the filters (a whitelist: the acceptance filter
        rejects everything, the list lets the filtered ids through). The VCI compares
        ``(id << 1) | rtr``; bit 0 (RTR) is left "don't care"."""
        if not can_filters:
            return
        f = self._f
        kinds = (False, True) if self.extended else (False,)
        for ext in kinds:
            vci.check(
                "canControlSetAccFilter",
                f["canControlSetAccFilter"](
                    self._control, ext, vci.CAN_ACC_CODE_NONE, vci.CAN_ACC_MASK_NONE
                ),
                True,
            )
        for flt in can_filters:
            ext = bool(flt.get("extended", False))
            if ext and not self.extended:
                continue
            top = 0x1FFFFFFF if ext else 0x7FF
            code = (flt["can_id"] & top) << 1
            mask = (flt["can_mask"] & top) << 1
            if "extended" not in flt:  # either kind: list it for both
                for kind in kinds:
                    vci.check(
                        "canControlAddFilterIds",
                        f["canControlAddFilterIds"](self._control, kind, code, mask),
                        True,
                    )
                continue
            vci.check(
                "canControlAddFilterIds",
                f["canControlAddFilterIds"](self._control, ext, code, mask),
                True,
            )

    # -- receiving -------------------------------------------------------------------------

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        deadline = None if timeout is None else time.monotonic() + timeout
        raw = self._rx
        read = self._f["canChannelReadMessage"]
        while True:
            channel = self._channel
            if channel is None:
                raise CanOperationError("the IXXAT bus is shut down")
            if deadline is None:
                wait_ms = _WAIT_SLICE_MS
            else:
                wait_ms = max(0, int((deadline - time.monotonic()) * 1000))
            hr = read(channel, wait_ms, ctypes.byref(raw)) & 0xFFFFFFFF
            if hr == vci.VCI_OK:
                msg = self._convert(raw)
                if msg is not None:
                    return msg, False
            elif hr not in (vci.VCI_E_TIMEOUT, vci.VCI_E_RXQUEUE_EMPTY):
                vci.check("canChannelReadMessage", hr)
            if deadline is not None and time.monotonic() >= deadline:
                return None, False

    def _timestamp(self, ticks: int) -> float:
        if self._last_tick is not None and ticks < self._last_tick:
            self._overruns += 1  # a 32-bit wrap without a timer-overrun message seen
        self._last_tick = ticks
        return self._clock.to_host((ticks + (self._overruns << 32)) * self._tick)

    def _convert(self, raw: vci.CanMsg) -> Optional[Message]:
        kind = raw.uMsgInfo.bType
        flags = raw.uMsgInfo.bFlags
        if kind == vci.CAN_MSGTYPE_DATA:
            remote = bool(flags & vci.CAN_MSGFLAGS_RTR)
            dlc = flags & vci.CAN_MSGFLAGS_DLC
            length = min(dlc, 8)
            own = bool(flags & vci.CAN_MSGFLAGS_SRR)
            msg: Message = _new_message(
                Message,
                (
                    self._timestamp(raw.dwTime),
                    raw.dwMsgId,
                    bool(flags & vci.CAN_MSGFLAGS_EXT),
                    remote,
                    False,
                    self.channel,
                    dlc if remote else length,
                    bytearray() if remote else bytearray(bytes(raw.abData)[:length]),
                    False,
                    not own,
                    False,
                    False,
                ),
            )
            return msg
        if kind == vci.CAN_MSGTYPE_ERROR:
            status = raw.abData[1]
            if status & vci.CAN_STATUS_BUSOFF:
                self._state = BusState.ERROR
            elif status & vci.CAN_STATUS_ERRLIM:
                self._state = BusState.PASSIVE
            # abData[0] is the error kind (CAN_ERROR_STUFF, _FORM, _ACK, _BIT, _CRC, _OTHER).
            return Message(
                timestamp=self._timestamp(raw.dwTime),
                is_error_frame=True,
                arbitration_id=0,
                channel=self.channel,
                data=bytes(raw.abData)[: max(2, raw.uMsgInfo.bFlags & vci.CAN_MSGFLAGS_DLC)],
            )
        if kind == vci.CAN_MSGTYPE_STATUS:
            status = raw.abData[0]
            if status & vci.CAN_STATUS_BUSOFF:
                self._state = BusState.ERROR
            elif status & vci.CAN_STATUS_ERRLIM:
                self._state = BusState.PASSIVE
            else:
                self._state = BusState.ACTIVE
        elif kind == vci.CAN_MSGTYPE_TIMEOVR:
            self._overruns += raw.dwMsgId  # the number of timer overruns
            self._last_tick = None
        return None  # info, wakeup, timer messages: nothing for the user

    # -- sending ---------------------------------------------------------------------------

    def _raw(self, msg: Message) -> vci.CanMsg:
        if msg.is_fd or len(msg.data) > 8:
            raise ValueError("this IXXAT interface sends classic CAN frames of up to 8 bytes")
        dlc = msg.dlc if msg.is_remote_frame else len(msg.data)
        flags = dlc & vci.CAN_MSGFLAGS_DLC
        if msg.is_extended_id:
            flags |= vci.CAN_MSGFLAGS_EXT
        if msg.is_remote_frame:
            flags |= vci.CAN_MSGFLAGS_RTR
        if self.receive_own_messages:
            flags |= vci.CAN_MSGFLAGS_SRR
        raw = vci.CanMsg(dwMsgId=msg.arbitration_id)
        raw.uMsgInfo.bType = vci.CAN_MSGTYPE_DATA
        raw.uMsgInfo.bFlags = flags
        if not msg.is_remote_frame:
            ctypes.memmove(raw.abData, bytes(msg.data), len(msg.data))
        return raw

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """Queue ``msg`` in the transmit FIFO; with a ``timeout``, wait up to that long for
        room in it.

        :raises VCIError: if the FIFO is full (:class:`VCIBusOffError` when the controller
            is bus off).
        """
        channel = self._channel
        if channel is None:
            raise CanOperationError("the IXXAT bus is shut down")
        raw = self._raw(msg)
        if timeout:
            hr = self._f["canChannelSendMessage"](channel, int(timeout * 1000), ctypes.byref(raw))
            name = "canChannelSendMessage"
        else:
            hr = self._f["canChannelPostMessage"](channel, ctypes.byref(raw))
            name = "canChannelPostMessage"
        if hr & 0xFFFFFFFF != vci.VCI_OK:
            if self.state == BusState.ERROR:
                raise vci.VCIBusOffError(
                    f"{name} failed: the controller is bus off", error_code=hr & 0xFFFFFFFF
                )
            vci.check(name, hr)

    def _send_periodic_internal(
        self,
        msgs: Union[Message, Sequence[Message]],
        period: float,
        duration: Optional[float] = None,
        autostart: bool = True,
        modifier_callback: Optional[Callable[[Message], None]] = None,
    ) -> CyclicSendTaskABC:
        """The device's cyclic transmit list for a single message (the manual: it cannot
        be modified; stop it and start a new one). Several messages, a modifier callback, a
        period the list cannot hold, or a controller without a scheduler fall back to the
        library's timer loop."""
        single = msgs if isinstance(msgs, Message) else (msgs[0] if len(msgs) == 1 else None)
        ticks = round(period / self._scheduler_tick) if self._scheduler_tick else 0
        if (
            single is None
            or modifier_callback is not None
            or not 1 <= ticks <= min(self._cms_max_ticks, 0xFFFF)
            or self._device is None
        ):
            return super()._send_periodic_internal(
                msgs, period, duration, autostart, modifier_callback
            )
        if self._scheduler is None:
            handle = vci.HANDLE()
            hr = self._f["canSchedulerOpen"](self._device, self.channel, ctypes.byref(handle))
            if hr & 0xFFFFFFFF != vci.VCI_OK:
                LOG.info("no cyclic scheduler on %s: %s", self.channel_info, vci.format_error(hr))
                return super()._send_periodic_internal(
                    msgs, period, duration, autostart, modifier_callback
                )
            self._scheduler = handle.value
            vci.check("canSchedulerActivate", self._f["canSchedulerActivate"](self._scheduler, 1))
        task = CyclicSendTask(self, single, period, duration, ticks)
        if autostart:
            task.start()
        return task

    # -- state and life cycle --------------------------------------------------------------

    @property
    def state(self) -> BusState:
        """From the controller's status (``canControlGetStatus``): bus off is
        :attr:`BusState.ERROR`, the error warning limit exceeded :attr:`BusState.PASSIVE`."""
        handle = self._control or self._channel
        if handle is not None:
            status = vci.LineStatus()
            if self._f["canControlGetStatus"](handle, ctypes.byref(status)) == vci.VCI_OK:
                bits = status.dwStatus
                if bits & vci.CAN_STATUS_BUSOFF:
                    self._state = BusState.ERROR
                elif bits & vci.CAN_STATUS_ERRLIM:
                    self._state = BusState.PASSIVE
                else:
                    self._state = BusState.ACTIVE
        return self._state

    @state.setter
    def state(self, new_state: BusState) -> None:
        raise NotImplementedError("an IXXAT bus cannot change its bus state")

    def _close(self) -> None:
        f = self._f
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            f["canSchedulerClose"](scheduler)
        channel, self._channel = self._channel, None
        if channel is not None:
            f["canChannelClose"](channel)
        control, self._control = self._control, None
        if control is not None:
            f["canControlStart"](control, 0)
            f["canControlReset"](control)
            f["canControlClose"](control)
        device, self._device = self._device, None
        if device is not None:
            f["vciDeviceClose"](device)

    def shutdown(self) -> None:
        """Stop cyclic messages, close the channel, controller and device."""
        if self._is_shutdown:
            return
        super().shutdown()
        self._close()

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        """The first controller of every device the VCI lists (none without the VCI)."""
        try:
            devices = vci.enumerate_devices()
        except Exception:  # no VCI library or driver
            return []
        return [
            {"interface": "ixxat", "channel": 0, "unique_hardware_id": vci.hardware_id(d)}
            for d in devices
        ]


class CyclicSendTask(LimitedDurationCyclicSendTaskABC, RestartableCyclicTaskABC):
    """A message in the device's cyclic transmit list (``canScheduler*``): the device sends
    it every ``period`` without the host. ``duration`` becomes the list's repeat count."""

    def __init__(
        self, bus: IXXATBus, message: Message, period: float, duration: Optional[float], ticks: int
    ) -> None:
        super().__init__(message, period, duration)
        self._bus = bus
        self._index: Optional[int] = None
        raw = bus._raw(message)
        self._cyclic = vci.CyclicTxMsg(wCycleTime=ticks, dwMsgId=raw.dwMsgId)
        self._cyclic.uMsgInfo.bType = raw.uMsgInfo.bType
        self._cyclic.uMsgInfo.bFlags = raw.uMsgInfo.bFlags & ~vci.CAN_MSGFLAGS_SRR
        ctypes.memmove(self._cyclic.abData, raw.abData, 8)
        repeat = 0 if duration is None else max(1, round(duration / period))
        if repeat > 0xFFFF:
            repeat = 0
            LOG.warning("duration too long for the cyclic list's repeat count: sent until stop()")
        self._repeat = repeat

    def start(self) -> None:
        bus = self._bus
        scheduler = bus._scheduler
        if scheduler is None:
            raise CanOperationError("the IXXAT bus is shut down")
        if self._index is None:
            index = vci.UINT32()
            vci.check(
                "canSchedulerAddMessage",
                bus._f["canSchedulerAddMessage"](
                    scheduler, ctypes.byref(self._cyclic), ctypes.byref(index)
                ),
            )
            self._index = index.value
        vci.check(
            "canSchedulerStartMessage",
            bus._f["canSchedulerStartMessage"](scheduler, self._index, self._repeat),
        )

    def stop(self) -> None:
        bus = self._bus
        scheduler = bus._scheduler
        if scheduler is not None and self._index is not None:
            bus._f["canSchedulerStopMessage"](scheduler, self._index)
            bus._f["canSchedulerRemMessage"](scheduler, self._index)
        self._index = None
