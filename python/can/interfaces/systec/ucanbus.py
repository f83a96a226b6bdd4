"""The SYS TEC USB-CANmodul bus (manual section 4.14)."""

from __future__ import annotations

import collections
import ctypes
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Optional

from can import _core
from can.bus import BusABC, BusState, CanFilters
from can.ctypesutil import HostClock
from can.exceptions import CanError, CanOperationError
from can.interfaces.systec import ucan
from can.message import Message

__all__ = ["UcanBus"]

LOG = logging.getLogger("can.systec")

_new_message = _core.new_message_from_fields
_BATCH = 64
_WRAP = 1 << 32  # m_dwTime: a 32-bit millisecond counter
_WAIT_SLICE = 0.5
_STD_DONT_CARE = 0x1FFFFF  # usbcan32.h: below the 11-bit id, RTR and data bits (std frames)
_EXT_DONT_CARE = 0x7  # below the 29-bit id: RTR and unused bits (ext frames)


class UcanBus(BusABC):
    """A channel of a SYS TEC USB-CANmodul.

    :param channel: the channel, 0 or 1.
    :param can_filters: see :meth:`can.BusABC.set_filters`. One filter is given to the module's
        acceptance filter; every filter is also checked in software.
    :param bitrate: bit/s (default 500000): 10k, 20k, 50k, 100k, 125k, 250k, 500k, 800k or 1M.
    :param device_number: the module's device number, 0 to 254; 255 (the default) takes the
        first module found.
    :param state: :attr:`BusState.ACTIVE` (default) or :attr:`BusState.PASSIVE` (listen only).
    :param receive_own_messages: also receive the frames this bus sent.
    :param rx_buffer_entries: / :param tx_buffer_entries: the library's buffer sizes
        (default 4096 each).
    :raises ValueError: for a bad channel, bitrate, state or buffer size.
    :raises can.CanError: if the module or the channel cannot be initialised.
    """

    CONFIG_KEYS: ClassVar[Mapping[str, str]] = {
        "device_number": "int",
        "rx_buffer_entries": "int",
        "tx_buffer_entries": "int",
        "receive_own_messages": "bool",
        "state": "str",
    }

    def __init__(
        self, channel: int, can_filters: Optional[CanFilters] = None, **kwargs: Any
    ) -> None:
        try:
            self.channel = int(channel)
        except (TypeError, ValueError):
            raise ValueError(f"a USB-CANmodul channel is 0 or 1, not {channel!r}") from None
        if self.channel not in (0, 1):
            raise ValueError(f"a USB-CANmodul channel is 0 or 1, not {channel!r}")
        bitrate = int(kwargs.pop("bitrate", 500000))
        if bitrate not in ucan.BAUDEX_G3:
            raise ValueError(
                f"the USB-CANmodul has no bit rate {bitrate}; it has "
                f"{', '.join(map(str, sorted(ucan.BAUDEX_G3)))}"
            )
        device_number = int(kwargs.pop("device_number", ucan.USBCAN_ANY_MODULE))
        if not 0 <= device_number <= 255:
            raise ValueError(f"device_number is 0..254 (or 255 for any), not {device_number}")
        state = self._parse_state(kwargs.pop("state", BusState.ACTIVE))
        self.receive_own_messages = bool(kwargs.pop("receive_own_messages", False))
        rx_entries = int(kwargs.pop("rx_buffer_entries", ucan.USBCAN_DEFAULT_BUFFER_ENTRIES))
        tx_entries = int(kwargs.pop("tx_buffer_entries", ucan.USBCAN_DEFAULT_BUFFER_ENTRIES))
        for name, value in (("rx_buffer_entries", rx_entries), ("tx_buffer_entries", tx_entries)):
            if not 1 <= value <= 0xFFFF:
                raise ValueError(f"{name} is 1..65535, not {value}")
        self._f = ucan.functions()
        self._bitrate = bitrate
        self._entries = (rx_entries, tx_entries)
        self._filter = self._hardware_filter(can_filters)
        self._queue: collections.deque[Message] = collections.deque()
        self._buffer = (ucan.CanMsg * _BATCH)()
        self._arrived = threading.Event()
        self._clock = HostClock()
        self._last_ms: Optional[int] = None
        self._wraps = 0
        self._tx_timeout: Optional[int] = None
        self._handle: Optional[int] = None
        self._channel_up = False
        self._callback = ucan.CallbackFktEx(self._on_event)  # kept: the library calls it
        handle = ctypes.c_uint8()
        rc = self._f["UcanInitHardwareEx"](
            ctypes.byref(handle), device_number, self._callback, None
        )
        if rc != ucan.USBCAN_SUCCESSFUL:
            raise ucan.error_for("UcanInitHardwareEx", rc, initialising=True)
        self._handle = handle.value
        try:
            info = ucan.HardwareInfoEx(m_dwSize=ctypes.sizeof(ucan.HardwareInfoEx))
            rc = self._f["UcanGetHardwareInfoEx2"](self._handle, ctypes.byref(info), None, None)
            if rc != ucan.USBCAN_SUCCESSFUL:
                raise ucan.error_for("UcanGetHardwareInfoEx2", rc, initialising=True)
            self.device_number = int(info.m_bDeviceNr)
            self.serial_number = int(info.m_dwSerialNr)
            self._g4 = bool(info.m_dwProductCode & ucan.USBCAN_PRODCODE_PID_G4)
            self._init_channel(state)
        except BaseException:
            self._release()
            raise
        self._state = state
        self.channel_info = (
            f"USB-CANmodul device {self.device_number} (serial {self.serial_number}) "
            f"channel {self.channel}"
        )
        super().__init__(channel=self.channel, can_filters=can_filters, **kwargs)

    @staticmethod
    def _parse_state(state: Any) -> BusState:
        if isinstance(state, str):
            try:
                state = BusState[state.strip().upper().replace("BUSSTATE.", "")]
            except KeyError:
                raise ValueError(f"state is ACTIVE or PASSIVE, not {state!r}") from None
        if state not in (BusState.ACTIVE, BusState.PASSIVE):
            raise ValueError(f"state is BusState.ACTIVE or BusState.PASSIVE, not {state!r}")
        return BusState(state)

    @staticmethod
    def _hardware_filter(can_filters: Optional[CanFilters]) -> tuple[int, int]:
        """(AMR, ACR) for the module's single acceptance filter: the filter when there is
        exactly one, else accept all (usbcan32.h bit layout: 11-bit ids from bit 21, 29-bit ids
        from bit 3; an AMR bit of 1 is "don't care")."""
        if not can_filters or len(can_filters) != 1 or "extended" not in can_filters[0]:
            return ucan.USBCAN_AMR_ALL, ucan.USBCAN_ACR_ALL
        flt = can_filters[0]
        if flt["extended"]:
            top, shift, low = 0x1FFFFFFF, 3, _EXT_DONT_CARE
        else:
            top, shift, low = 0x7FF, 21, _STD_DONT_CARE
        mask = flt["can_mask"] & top
        amr = ((~mask & top) << shift) | low
        acr = (flt["can_id"] & mask) << shift
        return amr & 0xFFFFFFFF, acr & 0xFFFFFFFF

    @staticmethod
    def create_filter(
        extended: bool, from_id: int, to_id: int, rtr_only: bool, rtr_too: bool
    ) -> list[dict[str, Any]]:
        """The filter that passes the ids ``from_id`` to ``to_id``, as the module's acceptance
        mask and code compute it (usbcan32.h ``USBCAN_CALCULATE_AMR/ACR``): the ids that
        share the bits where the two agree. Exact only when the range is aligned (0x400 to
        0x4FF, not 0x101 to 0x202). ``rtr_only`` and ``rtr_too`` are ignored by 3rd and 4th
        generation modules and here.

        :returns: a list with one filter: ``can_id``, ``can_mask`` and ``extended``.
        """
        top = 0x1FFFFFFF if extended else 0x7FF
        return [
            {
                "can_id": from_id & to_id & top,
                "can_mask": ~(from_id ^ to_id) & top,
                "extended": extended,
            }
        ]

    def _init_channel(self, state: BusState) -> None:
        mode = ucan.kUcanModeNormal
        if state == BusState.PASSIVE:
            mode |= ucan.kUcanModeListenOnly
        if self.receive_own_messages:
            mode |= ucan.kUcanModeTxEcho
        table = ucan.BAUDEX_G4 if self._g4 else ucan.BAUDEX_G3
        amr, acr = self._filter
        param = ucan.InitCanParam(
            m_dwSize=ctypes.sizeof(ucan.InitCanParam),
            m_bMode=mode,
            m_bBTR0=0,
            m_bBTR1=0,
            m_bOCR=ucan.USBCAN_OCR_DEFAULT,
            m_dwAMR=amr,
            m_dwACR=acr,
            m_dwBaudrate=table[self._bitrate],
            m_wNrOfRxBufferEntries=self._entries[0],
            m_wNrOfTxBufferEntries=self._entries[1],
        )
        rc = self._f["UcanInitCanEx2"](self._handle, self.channel, ctypes.byref(param))
        if rc != ucan.USBCAN_SUCCESSFUL:
            raise ucan.error_for("UcanInitCanEx2", rc, initialising=True)
        self._channel_up = True

    def _on_event(self, handle: int, event: int, channel: int, arg: Any) -> None:
        # Called from the library's thread.
        if event == ucan.USBCAN_EVENT_RECEIVE and channel == self.channel:
            self._arrived.set()

    # -- receiving -------------------------------------------------------------------------

    def _read_batch(self) -> bool:
        """Move what the library holds for this channel into the queue; False if nothing."""
        handle = self._handle
        if handle is None or not self._channel_up:
            raise CanOperationError("the USB-CANmodul bus is shut down")
        channel = ctypes.c_uint8(self.channel)
        count = ctypes.c_uint32(_BATCH)
        rc = self._f["UcanReadCanMsgEx"](
            handle, ctypes.byref(channel), self._buffer, ctypes.byref(count)
        )
        if rc == ucan.USBCAN_WARN_NODATA:
            return False
        if rc != ucan.USBCAN_SUCCESSFUL:
            if rc < ucan.USBCAN_WARNING:
                raise ucan.error_for("UcanReadCanMsgEx", rc)
            LOG.warning("%s: %s", self.channel_info, ucan.RETURN_TEXTS.get(rc, hex(rc)))
        for i in range(count.value):
            self._queue.append(self._message(self._buffer[i]))
        return count.value > 0

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._queue:
                return self._queue.popleft(), False
            self._arrived.clear()
            if self._read_batch():
                continue
            if deadline is None:
                wait = _WAIT_SLICE
            else:
                wait = deadline - time.monotonic()
                if wait <= 0:
                    return None, False
            # The library's callback sets the event when this channel receives; a short
            # slice also covers a frame that arrived between the read and the clear.
            self._arrived.wait(min(wait, _WAIT_SLICE))

    def _timestamp(self, ms: int) -> float:
        if self._last_ms is not None and ms < self._last_ms:
            self._wraps += 1
        self._last_ms = ms
        return self._clock.to_host((ms + self._wraps * _WRAP) / 1000.0)

    def _message(self, raw: ucan.CanMsg) -> Message:
        ff = raw.m_bFF
        remote = bool(ff & ucan.USBCAN_MSG_FF_RTR)
        length = min(raw.m_bDLC, 8)
        msg: Message = _new_message(
            Message,
            (
                self._timestamp(raw.m_dwTime),
                raw.m_dwID,
                bool(ff & ucan.USBCAN_MSG_FF_EXT),
                remote,
                False,
                self.channel,
                raw.m_bDLC if remote else length,
                bytearray() if remote else bytearray(bytes(raw.m_bData)[:length]),
                False,
                not ff & ucan.USBCAN_MSG_FF_ECHO,
                False,
                False,
            ),
        )
        return msg

    # -- sending ---------------------------------------------------------------------------

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """Send one CAN message.

        :param timeout: the firmware's transmit timeout in seconds: a message it cannot send
            within it puts the channel in "auto delete" state, where its transmit messages are
            deleted so they do not block the other channel; 0 switches that off. None leaves
            the setting as it is.
        :raises ValueError: for CAN FD or more than 8 bytes.
        :raises can.CanError: if the message could not be sent.
        """
        handle = self._handle
        if handle is None or not self._channel_up:
            raise CanOperationError("the USB-CANmodul bus is shut down")
        if msg.is_fd or len(msg.data) > 8:
            raise ValueError("the USB-CANmodul sends classic CAN frames of up to 8 bytes")
        if timeout is not None:
            ms = int(timeout * 1000)
            if ms != self._tx_timeout:
                rc = self._f["UcanSetTxTimeout"](handle, self.channel, ms)
                if rc != ucan.USBCAN_SUCCESSFUL:
                    raise ucan.error_for("UcanSetTxTimeout", rc)
                self._tx_timeout = ms
        ff = ucan.USBCAN_MSG_FF_STD
        if msg.is_extended_id:
            ff |= ucan.USBCAN_MSG_FF_EXT
        if msg.is_remote_frame:
            ff |= ucan.USBCAN_MSG_FF_RTR
        raw = ucan.CanMsg(
            m_dwID=msg.arbitration_id,
            m_bFF=ff,
            m_bDLC=msg.dlc if msg.is_remote_frame else len(msg.data),
        )
        if not msg.is_remote_frame:
            ctypes.memmove(raw.m_bData, bytes(msg.data), len(msg.data))
        count = ctypes.c_uint32(1)
        rc = self._f["UcanWriteCanMsgEx"](
            handle, self.channel, ctypes.byref(raw), ctypes.byref(count)
        )
        if rc != ucan.USBCAN_SUCCESSFUL or count.value != 1:
            raise ucan.error_for("UcanWriteCanMsgEx", rc if rc else 0x91)

    def flush_tx_buffer(self) -> None:
        """Flush the transmit buffers (library, driver and firmware) of the channel.

        :raises can.CanError: if flushing the transmit buffer failed.
        """
        if self._handle is None or not self._channel_up:
            raise CanOperationError("the USB-CANmodul bus is shut down")
        rc = self._f["UcanResetCanEx"](self._handle, self.channel, ucan.USBCAN_RESET_ONLY_TX_BUFF)
        if rc != ucan.USBCAN_SUCCESSFUL:
            raise ucan.error_for("UcanResetCanEx", rc)

    # -- state and life cycle --------------------------------------------------------------

    @property
    def state(self) -> BusState:
        """The current state of the hardware: :attr:`BusState.ERROR` when the channel is bus
        off, else :attr:`BusState.PASSIVE` while listening only or error passive, else
        :attr:`BusState.ACTIVE`. Setting ACTIVE or PASSIVE (listen only) reinitialises the
        channel in that mode."""
        if self._handle is None or not self._channel_up:
            return self._state
        status = ucan.Status()
        rc = self._f["UcanGetStatusEx"](self._handle, self.channel, ctypes.byref(status))
        if rc != ucan.USBCAN_SUCCESSFUL:
            raise ucan.error_for("UcanGetStatusEx", rc)
        bits = status.m_wCanStatus
        if bits & ucan.USBCAN_CANERR_BUSOFF:
            return BusState.ERROR
        if bits & ucan.USBCAN_CANERR_BUSHEAVY:
            return BusState.PASSIVE
        return self._state

    @state.setter
    def state(self, new_state: BusState) -> None:
        state = self._parse_state(new_state)
        if self._handle is None:
            raise CanOperationError("the USB-CANmodul bus is shut down")
        if state == self._state:
            return
        self._f["UcanDeinitCanEx"](self._handle, self.channel)
        self._channel_up = False
        self._init_channel(state)
        self._state = state

    def _release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            if self._channel_up:
                self._channel_up = False
                self._f["UcanDeinitCanEx"](handle, self.channel)
            rc = self._f["UcanDeinitHardware"](handle)
            if rc != ucan.USBCAN_SUCCESSFUL:
                LOG.warning("UcanDeinitHardware: %s", ucan.RETURN_TEXTS.get(rc, hex(rc)))

    def shutdown(self) -> None:
        """Shut down the CAN channel and the module."""
        if self._is_shutdown:
            return
        super().shutdown()
        self._release()

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        """Both channels of every free module the library enumerates (none without it)."""
        try:
            enumerate_hw = ucan.functions()["UcanEnumerateHardware"]
        except CanError:
            return []
        found: list[dict[str, Any]] = []

        def collect(index: int, used: int, info: Any, init: Any, arg: Any) -> None:
            if not used:
                number = int(info.contents.m_bDeviceNr)
                found.extend(
                    {"interface": "systec", "channel": ch, "device_number": number} for ch in (0, 1)
                )

        callback = ucan.EnumCallback(collect)
        enumerate_hw(callback, None, False, 0, 254, 0, 0xFFFFFFFF, 0, 0xFFFFFFFF)
        return found
