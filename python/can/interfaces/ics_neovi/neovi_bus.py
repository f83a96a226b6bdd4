"""Intrepid Control Systems neoVI / ValueCAN devices over ``python-ics`` (manual section 4.10).

python-ics (``pip install can[neovi]``) wraps ICS's driver library; this bus calls the part of
it documented for CAN: :func:`ics.find_devices`, :func:`ics.open_device`,
:func:`ics.set_bit_rate` / :func:`ics.set_fd_bit_rate`, :func:`ics.transmit_messages`,
:func:`ics.get_messages` (which waits for frames inside the driver), :func:`ics.get_error_messages`,
:func:`ics.get_timestamp_for_msg` and :func:`ics.close_device`.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Optional, Union

from can import _core
from can.bus import BusABC, BusState, CanFilters
from can.ctypesutil import HostClock
from can.exceptions import (
    CanError,
    CanInitializationError,
    CanInterfaceNotImplementedError,
    CanOperationError,
)
from can.message import Message

__all__ = [
    "ICSApiError",
    "ICSInitializationError",
    "ICSOperationError",
    "NeoViBus",
]

LOG = logging.getLogger("can.neovi")

_new_message = _core.new_message_from_fields
# A receive with no timeout waits in slices this long, so shutdown() is noticed.
_WAIT_SLICE = 0.5
# Serial numbers from this one on are shown in base 36 by ICS's tools ("A00000" in base 36).
_BASE36_FROM = 604661760


class ICSApiError(CanError):
    """An error python-ics reported, with the driver's error details where it gave them.

    :param message: what failed.
    :param error_code: the driver's error number, if known.
    :param description_short: / :param description_long: the driver's texts.
    :param severity: the driver's severity value.
    :param restart_needed: whether the driver says the device must be reopened.
    """

    def __init__(
        self,
        message: str = "",
        error_code: Optional[int] = None,
        description_short: str = "",
        description_long: str = "",
        severity: int = 0,
        restart_needed: int = 0,
    ) -> None:
        super().__init__(message, error_code)
        self.description_short = description_short
        self.description_long = description_long
        self.severity = severity
        self.restart_needed = bool(restart_needed)

    def __reduce__(self) -> Any:
        return (
            type(self),
            (
                self.message,
                self.error_code,
                self.description_short,
                self.description_long,
                self.severity,
                int(self.restart_needed),
            ),
        )


class ICSInitializationError(ICSApiError, CanInitializationError):
    """The device could not be found, opened or configured."""


class ICSOperationError(ICSApiError, CanOperationError):
    """Sending or receiving failed."""


def _import_ics() -> Any:
    try:
        import ics  # type: ignore[import-not-found,unused-ignore]
    except ImportError as e:
        raise CanInterfaceNotImplementedError(
            "the neovi interface needs python-ics: pip install can[neovi] "
            "(and Intrepid's driver library for the device)"
        ) from e
    return ics


def _base36(number: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


class NeoViBus(BusABC):
    """A bus on one or more CAN networks of an Intrepid neoVI / ValueCAN device.

    :param channel: the network(s): an ICS network id (``1`` is ``NETID_HSCAN``), a network
        name (``"HSCAN"``, ``"MSCAN"``, ``"HSCAN2"``: ``ics.NETID_<name>``), a comma-separated
        string of either, or a list.
    :param can_filters: see :meth:`can.BusABC.set_filters` (applied in software).
    :param receive_own_messages: also receive the frames this bus sent (the device reports
        each transmitted frame back).
    :param use_system_timestamp: stamp messages with the host's time at reception instead of
        the device's hardware time.
    :param serial: the device's serial number as ICS shows it (``"53123"``, ``"CY0024"``);
        default: the first device found.
    :param bitrate: bit/s of every channel; default: the device's setting (its auto bitrate).
    :param fd: send CAN FD frames as CAN FD.
    :param data_bitrate: the CAN FD data-phase bit/s; default: ``bitrate``.
    :param override_library_name: the ICS driver library to load instead of the default.
    :raises CanInterfaceNotImplementedError: without python-ics.
    :raises ICSInitializationError: no such device or network, or the device cannot be opened.
    """

    CONFIG_KEYS: ClassVar[Mapping[str, str]] = {
        "serial": "str",
        "use_system_timestamp": "bool",
        "receive_own_messages": "bool",
        "override_library_name": "str",
        "fd": "bool",
        "data_bitrate": "rate",
    }

    def __init__(
        self,
        channel: Union[int, str, list[Union[int, str]], tuple[Union[int, str], ...]],
        can_filters: Optional[CanFilters] = None,
        *,
        receive_own_messages: bool = False,
        use_system_timestamp: bool = False,
        serial: Optional[Union[str, int]] = None,
        bitrate: Optional[int] = None,
        fd: bool = False,
        data_bitrate: Optional[int] = None,
        override_library_name: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        ics = _import_ics()
        self._ics = ics
        self._device: Any = None
        if override_library_name is not None:
            ics.override_library_name(override_library_name)
        self.channels = self._network_ids(ics, channel)
        self.receive_own_messages = receive_own_messages
        self.use_system_timestamp = use_system_timestamp
        self.fd = fd
        self._queue: collections.deque[Any] = collections.deque()
        self._clock = HostClock()
        self._state = BusState.ACTIVE
        self._device = self._open(ics, serial)
        try:
            for netid in self.channels:
                if bitrate is not None:
                    ics.set_bit_rate(self._device, int(bitrate), netid)
                if fd and (data_bitrate or bitrate):
                    ics.set_fd_bit_rate(self._device, int(data_bitrate or bitrate or 0), netid)
        except ics.RuntimeError as e:
            self._close_device()
            raise ICSInitializationError(
                f"cannot set the bit rate of {self._device_text()}: {e}"
            ) from None
        self.channel_info = f"{self._device_text()} network(s) {', '.join(map(str, self.channels))}"
        super().__init__(channel=channel, can_filters=can_filters, **kwargs)

    # -- opening ---------------------------------------------------------------------------

    @staticmethod
    def _network_ids(ics: Any, channel: Any) -> list[int]:
        if channel is None:
            raise ValueError("the neovi interface needs a channel (an ICS network id or name)")
        items = channel.split(",") if isinstance(channel, str) else channel
        if not isinstance(items, (list, tuple)):
            items = [items]
        ids: list[int] = []
        for item in items:
            if isinstance(item, str):
                text = item.strip()
                if text.lstrip("-").isdigit():
                    ids.append(int(text))
                    continue
                value = getattr(ics, f"NETID_{text.upper()}", None)
                if not isinstance(value, int):
                    raise ValueError(f"{text!r} is not an ICS network name (ics.NETID_<name>)")
                ids.append(value)
            elif isinstance(item, int) and not isinstance(item, bool):
                ids.append(item)
            else:
                raise ValueError(f"{item!r} is not an ICS network id or name")
        if not ids:
            raise ValueError(f"no network in channel {channel!r}")
        return ids

    def _open(self, ics: Any, serial: Optional[Union[str, int]]) -> Any:
        try:
            devices = ics.find_devices()
        except ics.RuntimeError as e:
            raise ICSInitializationError(f"cannot look for neoVI devices: {e}") from None
        if not devices:
            raise ICSInitializationError("no neoVI / ValueCAN device found")
        if serial is None:
            device = devices[0]
        else:
            wanted = str(serial).strip().upper()
            matches = [d for d in devices if self.get_serial_number(d) == wanted]
            if not matches:
                found = ", ".join(self.get_serial_number(d) for d in devices)
                raise ICSInitializationError(
                    f"no neoVI device with serial {wanted}; found: {found}"
                )
            device = matches[0]
        try:
            return ics.open_device(device)
        except ics.RuntimeError as e:
            raise ICSInitializationError(
                f"cannot open {device.Name} {self.get_serial_number(device)}: {e}"
            ) from None

    @staticmethod
    def get_serial_number(device: Any) -> str:
        """The device's serial number as ICS shows it: newer devices' numbers in base 36.

        :param device: a device from ``ics.find_devices()``.
        """
        number = int(device.SerialNumber)
        return _base36(number) if number >= _BASE36_FROM else str(number)

    def _device_text(self) -> str:
        device = self._device
        if device is None:
            return "neoVI (closed)"
        return f"{device.Name} {self.get_serial_number(device)}"

    # -- receiving -------------------------------------------------------------------------

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            while self._queue:
                msg = self._convert(self._queue.popleft())
                if msg is not None:
                    return msg, False
            if self._device is None:
                raise CanOperationError("the neoVI bus is shut down")
            if deadline is None:
                wait = _WAIT_SLICE
            else:
                wait = deadline - time.monotonic()
                if wait <= 0 and timeout != 0:
                    return None, False
                wait = max(wait, 0.0)
            self._fetch(wait)
            if not self._queue and deadline is not None and time.monotonic() >= deadline:
                return None, False

    def _fetch(self, wait: float) -> None:
        ics = self._ics
        try:
            messages, errors = ics.get_messages(self._device, False, wait)
        except ics.RuntimeError as e:
            raise ICSOperationError(f"cannot receive from {self._device_text()}: {e}") from None
        self._queue.extend(messages)
        if errors:
            self._report_errors()

    def _report_errors(self) -> None:
        ics = self._ics
        try:
            errors = ics.get_error_messages(self._device)
        except ics.RuntimeError as e:
            LOG.warning("%s: cannot read its error messages: %s", self._device_text(), e)
            return
        for number, short, long, severity, restart in errors:
            LOG.warning(
                "%s: error %s: %s (%s), severity %s%s",
                self._device_text(),
                number,
                short,
                long,
                severity,
                ", the device must be reopened" if restart else "",
            )

    def _convert(self, spy: Any) -> Optional[Message]:
        ics = self._ics
        if spy.NetworkID not in self.channels:
            return None
        status = spy.StatusBitField
        own = bool(status & ics.SPY_STATUS_TX_MSG)
        if own and not self.receive_own_messages:
            return None
        # Bus state: from the status bits every frame carries.
        if status & ics.SPY_STATUS_CAN_BUS_OFF:
            self._state = BusState.ERROR
        elif status & ics.SPY_STATUS_CAN_ERROR_PASSIVE:
            self._state = BusState.PASSIVE
        elif not status & ics.SPY_STATUS_GLOBAL_ERR:
            self._state = BusState.ACTIVE
        error_frame = bool(spy.StatusBitField2 & ics.SPY_STATUS2_ERROR_FRAME)
        status3 = spy.StatusBitField3
        is_fd = spy.Protocol == ics.SPY_PROTOCOL_CANFD and bool(status3 & ics.SPY_STATUS3_CANFD_FDF)
        data = spy.ExtraDataPtr if spy.ExtraDataPtrEnabled else spy.Data
        remote = bool(status & ics.SPY_STATUS_REMOTE_FRAME)
        payload = bytearray(data[: spy.NumberBytesData] if data else b"")
        if self.use_system_timestamp:
            timestamp = time.time()
        else:
            timestamp = self._clock.to_host(ics.get_timestamp_for_msg(self._device, spy))
        msg: Message = _new_message(
            Message,
            (
                timestamp,
                spy.ArbIDOrHeader,
                bool(status & ics.SPY_STATUS_XTD_FRAME),
                remote,
                error_frame,
                spy.NetworkID,
                spy.NumberBytesData if remote else len(payload),
                bytearray() if remote else payload,
                is_fd,
                not own,
                is_fd and bool(status3 & ics.SPY_STATUS3_CANFD_BRS),
                is_fd and bool(status3 & ics.SPY_STATUS3_CANFD_ESI),
            ),
        )
        return msg

    # -- sending ---------------------------------------------------------------------------

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """Transmit ``msg`` on its ``channel`` if that is one of this bus's networks, else on
        the first.

        :param timeout: accepted for compatibility; the driver queues the frame at once.
        :raises ICSOperationError: if the driver refuses it.
        """
        ics = self._ics
        if self._device is None:
            raise CanOperationError("the neoVI bus is shut down")
        spy = ics.SpyMessage()
        spy.ArbIDOrHeader = msg.arbitration_id
        status = 0
        if msg.is_extended_id:
            status |= ics.SPY_STATUS_XTD_FRAME
        if msg.is_remote_frame:
            status |= ics.SPY_STATUS_REMOTE_FRAME
        spy.StatusBitField = status
        data = tuple(msg.data)
        if msg.is_fd:
            spy.Protocol = ics.SPY_PROTOCOL_CANFD
            status3 = ics.SPY_STATUS3_CANFD_FDF
            if msg.bitrate_switch:
                status3 |= ics.SPY_STATUS3_CANFD_BRS
            if msg.error_state_indicator:
                status3 |= ics.SPY_STATUS3_CANFD_ESI
            spy.StatusBitField3 = status3
        else:
            spy.Protocol = ics.SPY_PROTOCOL_CAN
        if len(data) > 8:
            spy.ExtraDataPtr = data
        else:
            spy.Data = data
        if msg.is_remote_frame:
            spy.NumberBytesData = msg.dlc
        spy.NetworkID = msg.channel if msg.channel in self.channels else self.channels[0]
        try:
            ics.transmit_messages(self._device, spy)
        except ics.RuntimeError as e:
            raise ICSOperationError(f"cannot send on {self._device_text()}: {e}") from None

    # -- state and life cycle --------------------------------------------------------------

    @property
    def state(self) -> BusState:
        """:attr:`BusState.ERROR` after a frame flagged bus-off, :attr:`BusState.PASSIVE` after
        one flagged error-passive, else :attr:`BusState.ACTIVE` (from the status of the last
        frame received)."""
        return self._state

    @state.setter
    def state(self, new_state: BusState) -> None:
        raise NotImplementedError("a neoVI bus cannot change its bus state")

    def _close_device(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            try:
                self._ics.close_device(device)
            except self._ics.RuntimeError as e:
                LOG.warning("closing %s failed: %s", device.Name, e)

    def shutdown(self) -> None:
        """Close the device."""
        if self._is_shutdown:
            return
        super().shutdown()
        self._close_device()

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        """One configuration per device python-ics finds (none without python-ics): its
        serial number and its first CAN network."""
        try:
            ics = _import_ics()
            devices = ics.find_devices()
        except Exception:  # no python-ics, no driver library: nothing to offer
            return []
        return [
            {
                "interface": "neovi",
                "serial": NeoViBus.get_serial_number(device),
                "channel": ics.NETID_HSCAN,
            }
            for device in devices
        ]
