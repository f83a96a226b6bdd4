"""The Vector interface: :class:`VectorBus` on the Vector XL Driver Library (python-can 3.3.2
manual, section 4.11; CAN FD, ``timing=`` and the application-configuration helpers as in
python-can 4.x).

One bus is one XL *port* (``xlOpenPort``) on one or more channels. Classic CAN uses the
library's interface version 3 (``xlCanTransmit`` / ``xlReceive`` with ``XLevent``), CAN FD
(``fd=True`` or a :class:`~can.BitTimingFd`) version 4 (``xlCanTransmitEx`` /
``xlCanReceive`` with ``XLcanTxEvent`` / ``XLcanRxEvent``). The port that first opens a
channel gets *init access* and sets its bit rate; another port on the same channel shares the
bus as it is.

Waiting for frames: the port's notification handle (``xlSetNotification``) is waited on with
the GIL released; on Windows it is an event handle for ``WaitForSingleObject``, elsewhere (the
simulated library) a file descriptor for :func:`select.select`. Without either, the bus polls
every ``poll_interval`` seconds.
"""

from __future__ import annotations

import collections
import ctypes
import logging
import select
import struct
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, Callable, ClassVar, NamedTuple, Optional, Union

from can import _core
from can.bit_timing import BitTiming, BitTimingFd
from can.bus import BusABC, BusState, CanFilters, CanProtocol
from can.ctypesutil import HostClock
from can.exceptions import CanInitializationError, CanOperationError
from can.message import Message
from can.util import check_or_adjust_timing_clock

from . import xlclass, xldriver
from .exceptions import VectorError, VectorInitializationError, VectorOperationError
from .xldefine import (
    XL_AC_Flags,
    XL_AcceptanceFilter,
    XL_BusCapabilities,
    XL_BusStatus,
    XL_BusTypes,
    XL_CANFD_BusParams_CanOpMode,
    XL_CANFD_RX_EventTags,
    XL_CANFD_RX_MessageFlags,
    XL_CANFD_TX_EventTags,
    XL_CANFD_TX_MessageFlags,
    XL_ChannelCapabilities,
    XL_EventTags,
    XL_HardwareType,
    XL_InterfaceVersion,
    XL_MessageFlags,
    XL_OutputMode,
    XL_Status,
)

__all__ = [
    "VectorBus",
    "VectorBusParams",
    "VectorCanFdParams",
    "VectorCanParams",
    "VectorChannelConfig",
    "VectorChipState",
    "VectorError",
    "VectorInitializationError",
    "VectorOperationError",
    "get_channel_configs",
]

LOG = logging.getLogger("can.vector")

# Plain ints for the hot paths (an IntEnum member costs a lookup per use).
_RECEIVE_MSG = int(XL_EventTags.XL_RECEIVE_MSG)
_CHIP_STATE = int(XL_EventTags.XL_CHIP_STATE)
_TRANSMIT_MSG = int(XL_EventTags.XL_TRANSMIT_MSG)
_EXT = 0x80000000
_ID_MASK = 0x1FFFFFFF
_F_ERROR = int(XL_MessageFlags.XL_CAN_MSG_FLAG_ERROR_FRAME)
_F_OVERRUN = int(XL_MessageFlags.XL_CAN_MSG_FLAG_OVERRUN)
_F_REMOTE = int(XL_MessageFlags.XL_CAN_MSG_FLAG_REMOTE_FRAME)
_F_TX_COMPLETED = int(XL_MessageFlags.XL_CAN_MSG_FLAG_TX_COMPLETED)
_EV_OVERRUN = 0x01
_RX_OK = int(XL_CANFD_RX_EventTags.XL_CAN_EV_TAG_RX_OK)
_TX_OK = int(XL_CANFD_RX_EventTags.XL_CAN_EV_TAG_TX_OK)
_RX_ERROR = int(XL_CANFD_RX_EventTags.XL_CAN_EV_TAG_RX_ERROR)
_TX_ERROR = int(XL_CANFD_RX_EventTags.XL_CAN_EV_TAG_TX_ERROR)
_FD_CHIP_STATE = int(XL_CANFD_RX_EventTags.XL_CAN_EV_TAG_CHIP_STATE)
_RX_EDL = int(XL_CANFD_RX_MessageFlags.XL_CAN_RXMSG_FLAG_EDL)
_RX_BRS = int(XL_CANFD_RX_MessageFlags.XL_CAN_RXMSG_FLAG_BRS)
_RX_ESI = int(XL_CANFD_RX_MessageFlags.XL_CAN_RXMSG_FLAG_ESI)
_RX_RTR = int(XL_CANFD_RX_MessageFlags.XL_CAN_RXMSG_FLAG_RTR)
_QUEUE_OVERFLOW = 0x100
_TX_MSG = int(XL_CANFD_TX_EventTags.XL_CAN_EV_TAG_TX_MSG)
_TX_EDL = int(XL_CANFD_TX_MessageFlags.XL_CAN_TXMSG_FLAG_EDL)
_TX_BRS = int(XL_CANFD_TX_MessageFlags.XL_CAN_TXMSG_FLAG_BRS)
_TX_RTR = int(XL_CANFD_TX_MessageFlags.XL_CAN_TXMSG_FLAG_RTR)
_QUEUE_IS_EMPTY = int(XL_Status.XL_ERR_QUEUE_IS_EMPTY)
_QUEUE_IS_FULL = int(XL_Status.XL_ERR_QUEUE_IS_FULL)
_CAN = int(XL_BusTypes.XL_BUS_TYPE_CAN)

_EVENT = struct.Struct(xlclass.XLEVENT_FORMAT)
_TX_EVENT = struct.Struct(xlclass.XLCANTXEVENT_FORMAT)
_RX_HEAD = struct.Struct(xlclass.XLCANRXEVENT_HEAD_FORMAT)
_RX_DATA = _RX_HEAD.size  # XL_CAN_EV_RX_MSG.data starts here

#: XLevent structures read per xlReceive call.
_BATCH = 64
_DLC2LEN = (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64)
_new_message = _core.new_message_from_fields
_len2dlc = _core.len2dlc

#: The CAN controller clock a BitTiming / BitTimingFd must be given for (python-can 4.x uses
#: these: 16 MHz for classic CAN, 80 MHz for CAN FD).
_CAN_CLOCKS = (16_000_000, 8_000_000, 80_000_000)
_CANFD_CLOCKS = (80_000_000,)

#: The 3.3.2 manual's camelCase names of the CAN FD segment arguments -> python-can 4.x's.
_CAMEL_CASE = {
    "sjwAbr": "sjw_abr",
    "tseg1Abr": "tseg1_abr",
    "tseg2Abr": "tseg2_abr",
    "sjwDbr": "sjw_dbr",
    "tseg1Dbr": "tseg1_dbr",
    "tseg2Dbr": "tseg2_dbr",
}

# The positional parameters after receive_own_messages, in python-can 3.3.2's order (the
# manual's) and in 4.x's, which put ``timing`` first; VectorBus takes either.
_ORDER_332 = (
    "bitrate",
    "rx_queue_size",
    "app_name",
    "serial",
    "fd",
    "data_bitrate",
    "sjwAbr",
    "tseg1Abr",
    "tseg2Abr",
    "sjwDbr",
    "tseg1Dbr",
    "tseg2Dbr",
)
_ORDER_4X = (
    "timing",
    "bitrate",
    "rx_queue_size",
    "app_name",
    "serial",
    "fd",
    "data_bitrate",
    "sjw_abr",
    "tseg1_abr",
    "tseg2_abr",
    "sjw_dbr",
    "tseg1_dbr",
    "tseg2_dbr",
    "listen_only",
)


def _keyword_defaults() -> dict[str, Any]:
    """VectorBus's keyword-only parameters and their defaults."""
    import inspect

    return {
        name: p.default
        for name, p in inspect.signature(VectorBus.__init__).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def _is_rate(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_WaitForSingleObject: Optional[Callable[[int, int], int]] = None
if sys.platform == "win32":  # pragma: no cover - Windows only
    _WaitForSingleObject = ctypes.windll.kernel32.WaitForSingleObject  # type: ignore[attr-defined,unused-ignore]


class VectorChipState(NamedTuple):
    """A channel's CAN controller state from an ``XL_CHIP_STATE`` event."""

    #: ``XL_CHIPSTAT_*`` (bus-off 0x01, error passive 0x02, warning 0x04, active 0x08).
    bus_status: int
    tx_error_counter: int
    rx_error_counter: int

    @property
    def state(self) -> BusState:
        """The status as a :class:`~can.BusState`: bus-off is ``ERROR``, error passive
        ``PASSIVE``, warning and active ``ACTIVE``."""
        if self.bus_status & XL_BusStatus.XL_CHIPSTAT_BUSOFF:
            return BusState.ERROR
        if self.bus_status & XL_BusStatus.XL_CHIPSTAT_ERROR_PASSIVE:
            return BusState.PASSIVE
        return BusState.ACTIVE


class VectorCanParams(NamedTuple):
    bitrate: int
    sjw: int
    tseg1: int
    tseg2: int
    sam: int
    output_mode: XL_OutputMode
    can_op_mode: XL_CANFD_BusParams_CanOpMode


class VectorCanFdParams(NamedTuple):
    bitrate: int
    data_bitrate: int
    sjw_abr: int
    tseg1_abr: int
    tseg2_abr: int
    sam_abr: int
    sjw_dbr: int
    tseg1_dbr: int
    tseg2_dbr: int
    output_mode: XL_OutputMode
    can_op_mode: XL_CANFD_BusParams_CanOpMode


class VectorBusParams(NamedTuple):
    bus_type: XL_BusTypes
    can: VectorCanParams
    canfd: VectorCanFdParams


class VectorChannelConfig(NamedTuple):
    """One channel of ``xlGetDriverConfig`` (an ``XLchannelConfig``), python-can 4.x's
    fields."""

    name: str
    hw_type: Union[int, XL_HardwareType]
    hw_index: int
    hw_channel: int
    channel_index: int
    channel_mask: int
    channel_capabilities: XL_ChannelCapabilities
    channel_bus_capabilities: XL_BusCapabilities
    is_on_bus: bool
    connected_bus_type: XL_BusTypes
    bus_params: Optional[VectorBusParams]
    serial_number: int
    article_number: int
    transceiver_name: str


def _enum(kind: Callable[[int], Any], value: int) -> Any:
    try:
        return kind(value)
    except ValueError:
        return value


def _channel_config(c: xlclass.XLchannelConfig) -> VectorChannelConfig:
    bus_params: Optional[VectorBusParams] = None
    if c.busParams.busType == _CAN:
        can = c.busParams.data.can
        fd = c.busParams.data.canFD
        bus_params = VectorBusParams(
            bus_type=XL_BusTypes(c.busParams.busType),
            can=VectorCanParams(
                bitrate=can.bitRate,
                sjw=can.sjw,
                tseg1=can.tseg1,
                tseg2=can.tseg2,
                sam=can.sam,
                output_mode=_enum(XL_OutputMode, can.outputMode),
                can_op_mode=XL_CANFD_BusParams_CanOpMode(can.canOpMode),
            ),
            canfd=VectorCanFdParams(
                bitrate=fd.arbitrationBitRate,
                data_bitrate=fd.dataBitRate,
                sjw_abr=fd.sjwAbr,
                tseg1_abr=fd.tseg1Abr,
                tseg2_abr=fd.tseg2Abr,
                sam_abr=fd.samAbr,
                sjw_dbr=fd.sjwDbr,
                tseg1_dbr=fd.tseg1Dbr,
                tseg2_dbr=fd.tseg2Dbr,
                output_mode=_enum(XL_OutputMode, fd.outputMode),
                can_op_mode=XL_CANFD_BusParams_CanOpMode(fd.canOpMode),
            ),
        )
    return VectorChannelConfig(
        name=c.name.decode("latin-1"),
        hw_type=_enum(XL_HardwareType, c.hwType),
        hw_index=c.hwIndex,
        hw_channel=c.hwChannel,
        channel_index=c.channelIndex,
        channel_mask=c.channelMask,
        channel_capabilities=XL_ChannelCapabilities(c.channelCapabilities),
        channel_bus_capabilities=XL_BusCapabilities(
            c.channelBusCapabilities
            & (XL_BusCapabilities.XL_BUS_ACTIVE_CAP_CAN | XL_BusCapabilities.XL_BUS_COMPATIBLE_CAN)
        ),
        is_on_bus=bool(c.isOnBus),
        connected_bus_type=_enum(XL_BusTypes, c.connectedBusType),
        bus_params=bus_params,
        serial_number=c.serialNumber,
        article_number=c.articleNumber,
        transceiver_name=c.transceiverName.decode("latin-1"),
    )


def _read_driver_config() -> list[VectorChannelConfig]:
    """Every channel the driver knows (the driver must be open)."""
    config = xlclass.XLdriverConfig()
    xldriver.driver().xlGetDriverConfig(ctypes.byref(config))
    count = min(int(config.channelCount), len(config.channel))
    return [_channel_config(config.channel[i]) for i in range(count)]


def get_channel_configs() -> list[VectorChannelConfig]:
    """The channels of every Vector device the driver sees (``xlGetDriverConfig``); empty
    when the library cannot be loaded or the driver not opened (python-can 4.x)."""
    try:
        drv = xldriver.driver()
        drv.xlOpenDriver()
    except (CanInitializationError, VectorError) as exc:
        LOG.debug("no Vector channel configuration: %s", exc)
        return []
    try:
        return _read_driver_config()
    except VectorError as exc:
        LOG.debug("xlGetDriverConfig failed: %s", exc)
        return []
    finally:
        drv.xlCloseDriver()


def _is_can(config: VectorChannelConfig) -> bool:
    return bool(config.channel_bus_capabilities & XL_BusCapabilities.XL_BUS_ACTIVE_CAP_CAN)


def _parse_channels(channel: Any) -> list[int]:
    """The manual's channel forms: an int, a list of ints, or a comma separated string."""
    if isinstance(channel, str):
        parts = [p.strip() for p in channel.split(",")]
        try:
            values: list[Any] = [int(p, 0) for p in parts]
        except ValueError:
            raise ValueError(
                f"VectorBus channel {channel!r}: expected channel indexes such as '0' or '0, 1'"
            ) from None
    elif isinstance(channel, int) and not isinstance(channel, bool):
        values = [channel]
    elif isinstance(channel, Sequence):
        values = list(channel)
    else:
        raise TypeError(
            f"VectorBus channel must be an int, a list of ints or a string like '0, 1', "
            f"not {type(channel).__name__}"
        )
    if not values:
        raise ValueError("VectorBus channel: no channel given")
    for value in values:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"VectorBus channel {value!r}: channel indexes are ints >= 0")
    if len(set(values)) != len(values):
        raise ValueError(f"VectorBus channel {channel!r}: a channel is given twice")
    return values


def _check_queue_size(rx_queue_size: Any, fd: bool) -> int:
    low, high = (8192, 524288) if fd else (16, 32768)
    what = "bytes for CAN FD" if fd else "events for CAN"
    if (
        not isinstance(rx_queue_size, int)
        or isinstance(rx_queue_size, bool)
        or not low <= rx_queue_size <= high
        or rx_queue_size & (rx_queue_size - 1)
    ):
        raise ValueError(
            f"VectorBus rx_queue_size={rx_queue_size!r}: must be a power of 2 from {low} to "
            f"{high} ({what})"
        )
    return rx_queue_size


class VectorBus(BusABC):
    """The CAN bus of a Vector interface (python-can 3.3.2 manual, section 4.11).

    :param channel: the channel index, a list of them, or a comma separated string
        (``"0, 1"``); with ``app_name`` they are the application's channels (CAN 1 is 0),
        with ``serial`` the channels of that device, with neither the driver's global channel
        indexes.
    :param can_filters: see :meth:`~can.BusABC.set_filters`; one filter per identifier kind
        is set in the hardware (``xlCanSetChannelAcceptance``), more are applied in software.
    :param poll_interval: seconds between polls when the library gives no handle to wait on.
    :param receive_own_messages: receive the frames this bus sends (``is_rx`` False).
    :param timing: a :class:`~can.BitTiming` (classic CAN, 16 MHz or 8 MHz clock) or a
        :class:`~can.BitTimingFd` (CAN FD, 80 MHz clock); takes precedence over ``bitrate``,
        ``data_bitrate`` and the segment arguments (python-can 4.x).
    :param bitrate: bit rate in bit/s (the arbitration bit rate with CAN FD); None keeps the
        channel's.
    :param rx_queue_size: receive queue size, a power of 2: 16 to 32768 events for CAN, 8192
        to 524288 bytes for CAN FD.
    :param app_name: the application in Vector Hardware Config whose channels ``channel``
        names; None: ``channel`` is a global channel index.
    :param serial: the serial number of the device to use; ``channel`` then counts that
        device's channels and ``app_name`` is not used.
    :param fd: open the channels for CAN FD.
    :param data_bitrate: CAN FD data phase bit rate; defaults to ``bitrate``.
    :param sjw_abr: CAN FD arbitration phase SJW (3.3.2 manual: ``sjwAbr``).
    :param tseg1_abr: CAN FD arbitration phase TSEG1 (``tseg1Abr``).
    :param tseg2_abr: CAN FD arbitration phase TSEG2 (``tseg2Abr``).
    :param sjw_dbr: CAN FD data phase SJW (``sjwDbr``).
    :param tseg1_dbr: CAN FD data phase TSEG1 (``tseg1Dbr``).
    :param tseg2_dbr: CAN FD data phase TSEG2 (``tseg2Dbr``).
    :param listen_only: switch the transceiver to silent mode (python-can 4.x).
    :raises can.CanInitializationError: if the library is missing, a channel is not
        assigned, or the bus parameters cannot be set (a :class:`VectorInitializationError`
        when the library refused).
    """

    CONFIG_KEYS: ClassVar[dict[str, str]] = {
        "poll_interval": "float",
        "receive_own_messages": "bool",
        "rx_queue_size": "int",
        "app_name": "str",
        "serial": "int",
        "fd": "bool",
        "data_bitrate": "rate",
        "sjw_abr": "int",
        "tseg1_abr": "int",
        "tseg2_abr": "int",
        "sjw_dbr": "int",
        "tseg1_dbr": "int",
        "tseg2_dbr": "int",
        "sjwAbr": "int",
        "tseg1Abr": "int",
        "tseg2Abr": "int",
        "sjwDbr": "int",
        "tseg1Dbr": "int",
        "tseg2Dbr": "int",
        "listen_only": "bool",
    }

    def __init__(
        self,
        channel: Union[int, Sequence[int], str],
        can_filters: Optional[CanFilters] = None,
        poll_interval: float = 0.01,
        receive_own_messages: bool = False,
        *args: Any,
        timing: Optional[Union[BitTiming, BitTimingFd]] = None,
        bitrate: Optional[int] = None,
        rx_queue_size: int = 2**14,
        app_name: Optional[str] = "CANalyzer",
        serial: Optional[int] = None,
        fd: bool = False,
        data_bitrate: Optional[int] = None,
        sjw_abr: int = 2,
        tseg1_abr: int = 6,
        tseg2_abr: int = 3,
        sjw_dbr: int = 2,
        tseg1_dbr: int = 6,
        tseg2_dbr: int = 3,
        listen_only: Optional[bool] = False,
        **kwargs: Any,
    ) -> None:
        if args:
            # Positional arguments after receive_own_messages: 3.3.2's order starts with
            # bitrate (an int), 4.x's with timing (a BitTiming, or None).
            order = _ORDER_332 if _is_rate(args[0]) else _ORDER_4X
            if len(args) > len(order):
                raise TypeError(
                    f"VectorBus takes at most {4 + len(order)} positional arguments "
                    f"({4 + len(args)} given)"
                )
            given = dict(zip(order, args))
            passed: dict[str, Any] = {
                "timing": timing,
                "bitrate": bitrate,
                "rx_queue_size": rx_queue_size,
                "app_name": app_name,
                "serial": serial,
                "fd": fd,
                "data_bitrate": data_bitrate,
                "sjw_abr": sjw_abr,
                "tseg1_abr": tseg1_abr,
                "tseg2_abr": tseg2_abr,
                "sjw_dbr": sjw_dbr,
                "tseg1_dbr": tseg1_dbr,
                "tseg2_dbr": tseg2_dbr,
                "listen_only": listen_only,
            }
            defaults = _keyword_defaults()
            for name, value in given.items():
                key = _CAMEL_CASE.get(name, name)
                if name in kwargs or passed[key] != defaults[key]:
                    raise TypeError(f"VectorBus got multiple values for argument {name!r}")
                passed[key] = value
            timing = passed["timing"]
            bitrate = passed["bitrate"]
            rx_queue_size = passed["rx_queue_size"]
            app_name = passed["app_name"]
            serial = passed["serial"]
            fd = passed["fd"]
            data_bitrate = passed["data_bitrate"]
            sjw_abr, tseg1_abr, tseg2_abr = (
                passed["sjw_abr"],
                passed["tseg1_abr"],
                passed["tseg2_abr"],
            )
            sjw_dbr, tseg1_dbr, tseg2_dbr = (
                passed["sjw_dbr"],
                passed["tseg1_dbr"],
                passed["tseg2_dbr"],
            )
            listen_only = passed["listen_only"]
        segments = {
            "sjw_abr": sjw_abr,
            "tseg1_abr": tseg1_abr,
            "tseg2_abr": tseg2_abr,
            "sjw_dbr": sjw_dbr,
            "tseg1_dbr": tseg1_dbr,
            "tseg2_dbr": tseg2_dbr,
        }
        for camel, snake in _CAMEL_CASE.items():
            if camel in kwargs:
                segments[snake] = kwargs.pop(camel)
        for name, value in segments.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"VectorBus {name}={value!r}: must be an int >= 1")
        if not isinstance(poll_interval, (int, float)) or not poll_interval > 0:
            raise ValueError(f"VectorBus poll_interval={poll_interval!r}: must be > 0 seconds")
        if isinstance(timing, BitTimingFd):
            fd = True
        elif timing is not None and not isinstance(timing, BitTiming):
            raise TypeError(
                f"VectorBus timing must be a can.BitTiming or can.BitTimingFd, not "
                f"{type(timing).__name__}"
            )
        for name, rate in (("bitrate", bitrate), ("data_bitrate", data_bitrate)):
            if rate is not None and (
                not isinstance(rate, int) or isinstance(rate, bool) or rate <= 0
            ):
                raise ValueError(f"VectorBus {name}={rate!r}: must be a positive int (bit/s)")
        channels = _parse_channels(channel)
        rx_queue_size = _check_queue_size(rx_queue_size, bool(fd))
        if serial is not None and (not isinstance(serial, int) or isinstance(serial, bool)):
            raise ValueError(f"VectorBus serial={serial!r}: must be an int")
        if timing is not None:
            timing = check_or_adjust_timing_clock(
                timing, _CANFD_CLOCKS if isinstance(timing, BitTimingFd) else _CAN_CLOCKS
            )

        self.poll_interval = float(poll_interval)
        self.channels = channels
        self.fd = bool(fd)
        self._can_protocol = CanProtocol.CAN_FD if self.fd else CanProtocol.CAN_20
        self._app_name = app_name.encode() if app_name is not None else b""
        self.port_handle = xlclass.XLportHandle(-1)
        self.mask = 0
        self.permission_mask = 0
        self.channel_masks: dict[int, int] = {}
        self.index_to_channel: dict[int, int] = {}
        self._by_index: list[Optional[int]] = [None] * 64
        self._driver_open = False
        self._pending: collections.deque[Message] = collections.deque()
        self._chip_states: dict[int, VectorChipState] = {}
        # One reader of the port at a time (recv and chip_states may run in two threads).
        self._read_lock = threading.Lock()
        self._hw_filtered = True
        self._clock = HostClock()
        self._fileno: Optional[int] = None
        self._event_handle: Optional[int] = None

        self._drv = xldriver.driver()
        try:
            self._drv.xlOpenDriver()
            self._driver_open = True
            configs = _read_driver_config()
            names = self._resolve_channels(channels, app_name, serial, configs)
            self._open_port(rx_queue_size)
            self._configure(configs, timing, bitrate, data_bitrate, segments, listen_only)
            self._set_own_messages(receive_own_messages)
            self._set_notification()
            self._activate()
        except VectorError as exc:
            self._release()
            if isinstance(exc, CanInitializationError):
                raise
            raise VectorInitializationError.from_generic(exc) from exc
        except BaseException:
            self._release()
            raise
        self.channel_info = f"Vector {', '.join(names)}"
        if app_name is not None and serial is None:
            self.channel_info = f"Application {app_name}: {', '.join(names)}"

        # Hot-path bindings.
        # (exact ctypes objects, no argtypes conversion: see xldriver.raw)
        self._receive = xldriver.raw("xlReceive")
        self._can_receive = xldriver.raw("xlCanReceive")
        self._transmit = xldriver.raw("xlCanTransmit")
        self._transmit_ex = xldriver.raw("xlCanTransmitEx")
        self._port_c = xlclass.XLportHandle(self._port)
        self._mask_c = xlclass.XLaccess(self.mask)
        self._masks_c = {ch: xlclass.XLaccess(m) for ch, m in self.channel_masks.items()}
        self._one = ctypes.c_uint(1)
        self._events = (xlclass.XLevent * _BATCH)()
        self._events_view = memoryview(self._events).cast("B")
        self._count = ctypes.c_uint(0)
        self._count_ref = ctypes.byref(self._count)
        self._rx_event = xlclass.XLcanRxEvent()
        self._rx_ref = ctypes.byref(self._rx_event)
        self._rx_view = memoryview(self._rx_event).cast("B")
        self._tx_buffer = (ctypes.c_ubyte * _TX_EVENT.size)()
        self._tx_event_buffer = (ctypes.c_ubyte * _EVENT.size)()
        self._sent = ctypes.c_uint(0)
        self._sent_ref = ctypes.byref(self._sent)
        try:
            super().__init__(channel=channel, can_filters=can_filters, **kwargs)
        except BaseException:
            self._release()  # a malformed filter: the port is not left open
            raise

    # -- opening ------------------------------------------------------------------------------

    def _resolve_channels(
        self,
        channels: list[int],
        app_name: Optional[str],
        serial: Optional[int],
        configs: list[VectorChannelConfig],
    ) -> list[str]:
        by_index = {c.channel_index: c for c in configs}
        names = []
        for ch in channels:
            if serial is not None:
                found = [
                    c
                    for c in configs
                    if c.serial_number == serial and c.hw_channel == ch and _is_can(c)
                ]
                if not found:
                    raise CanInitializationError(
                        f"VectorBus: the Vector device with serial number {serial} has no CAN "
                        f"channel {ch} (devices: "
                        f"{sorted({c.serial_number for c in configs if _is_can(c)}) or 'none'})"
                    )
                index = found[0].channel_index
            elif app_name is not None:
                index = self._application_channel(app_name, ch)
            else:
                index = ch
            config = by_index.get(index)
            if config is None or not _is_can(config):
                raise CanInitializationError(
                    f"VectorBus: channel {ch} is no CAN channel of the Vector driver (global "
                    f"index {index}; the driver has {len(configs)} channels)"
                )
            self.channel_masks[ch] = 1 << index
            self.index_to_channel[index] = ch
            self._by_index[index] = ch
            self.mask |= 1 << index
            names.append(
                f"CAN {ch + 1}" if app_name is not None and serial is None else config.name
            )
        return names

    def _application_channel(self, app_name: str, app_channel: int) -> int:
        hw_type, hw_index, hw_channel = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
        try:
            self._drv.xlGetApplConfig(
                app_name.encode(),
                app_channel,
                ctypes.byref(hw_type),
                ctypes.byref(hw_index),
                ctypes.byref(hw_channel),
                _CAN,
            )
        except VectorError as exc:
            raise VectorInitializationError(
                exc.error_code,
                f"{exc.error_string}: application {app_name!r} has no CAN channel "
                f"{app_channel}; assign one in Vector Hardware Config or with "
                "VectorBus.set_application_config()",
                "xlGetApplConfig",
            ) from exc
        index = int(
            self._drv.xlGetChannelIndex(
                int(hw_type.value), int(hw_index.value), int(hw_channel.value)
            )
        )
        if index < 0:
            raise CanInitializationError(
                f"VectorBus: channel {app_channel} of application {app_name!r} is assigned to "
                f"hardware type {hw_type.value}, index {hw_index.value}, channel "
                f"{hw_channel.value}, which is not connected"
            )
        return index

    def _open_port(self, rx_queue_size: int) -> None:
        permission = xlclass.XLaccess(self.mask)
        version = (
            XL_InterfaceVersion.XL_INTERFACE_VERSION_V4
            if self.fd
            else XL_InterfaceVersion.XL_INTERFACE_VERSION
        )
        self._drv.xlOpenPort(
            ctypes.byref(self.port_handle),
            self._app_name,
            self.mask,
            ctypes.byref(permission),
            rx_queue_size,
            int(version),
            _CAN,
        )
        self.permission_mask = int(permission.value)
        self._port = self.port_handle.value

    def _configure(
        self,
        configs: list[VectorChannelConfig],
        timing: Optional[Union[BitTiming, BitTimingFd]],
        bitrate: Optional[int],
        data_bitrate: Optional[int],
        segments: dict[str, int],
        listen_only: Optional[bool],
    ) -> None:
        port = self._port
        init = self.permission_mask
        by_index = {c.channel_index: c for c in configs}
        fd_conf: Optional[xlclass.XLcanFdConf] = None
        if isinstance(timing, BitTimingFd):
            fd_conf = xlclass.XLcanFdConf(
                arbitrationBitRate=timing.nom_bitrate,
                sjwAbr=timing.nom_sjw,
                tseg1Abr=timing.nom_tseg1,
                tseg2Abr=timing.nom_tseg2,
                dataBitRate=timing.data_bitrate,
                sjwDbr=timing.data_sjw,
                tseg1Dbr=timing.data_tseg1,
                tseg2Dbr=timing.data_tseg2,
            )
        elif self.fd:
            nominal = bitrate if bitrate is not None else 500_000
            fd_conf = xlclass.XLcanFdConf(
                arbitrationBitRate=nominal,
                sjwAbr=segments["sjw_abr"],
                tseg1Abr=segments["tseg1_abr"],
                tseg2Abr=segments["tseg2_abr"],
                dataBitRate=data_bitrate if data_bitrate is not None else nominal,
                sjwDbr=segments["sjw_dbr"],
                tseg1Dbr=segments["tseg1_dbr"],
                tseg2Dbr=segments["tseg2_dbr"],
            )
        chip: Optional[xlclass.XLchipParams] = None
        if isinstance(timing, BitTiming):
            chip = xlclass.XLchipParams(
                bitRate=timing.bitrate,
                sjw=timing.sjw,
                tseg1=timing.tseg1,
                tseg2=timing.tseg2,
                sam=timing.nof_samples,
            )
        requested = timing is not None or bitrate is not None or data_bitrate is not None
        for ch, mask in self.channel_masks.items():
            if init & mask:
                if fd_conf is not None:
                    self._drv.xlCanFdSetConfiguration(port, mask, ctypes.byref(fd_conf))
                elif chip is not None:
                    self._drv.xlCanSetChannelParams(port, mask, ctypes.byref(chip))
                elif bitrate is not None:
                    self._drv.xlCanSetChannelBitrate(port, mask, bitrate)
                if listen_only:
                    self._drv.xlCanSetChannelOutput(
                        port, mask, int(XL_OutputMode.XL_OUTPUT_MODE_SILENT)
                    )
                continue
            # Another application has init access: the bus runs as it set it. Requested
            # parameters must agree with that, else this bus would not talk to it.
            self._check_shared(
                ch,
                by_index[mask.bit_length() - 1],
                fd_conf if requested else None,
                chip,
                bitrate,
            )
            if listen_only:
                LOG.warning("VectorBus channel %s: no init access, listen_only is not applied", ch)

    def _check_shared(
        self,
        ch: int,
        config: VectorChannelConfig,
        fd_conf: Optional[xlclass.XLcanFdConf],
        chip: Optional[xlclass.XLchipParams],
        bitrate: Optional[int],
    ) -> None:
        params = config.bus_params
        if params is None:
            return
        running_fd = bool(
            params.canfd.can_op_mode & XL_CANFD_BusParams_CanOpMode.XL_BUS_PARAMS_CANOPMODE_CANFD
        )
        problem = ""
        if self.fd and not running_fd:
            problem = "it runs classic CAN, not CAN FD"
        elif fd_conf is not None:
            running = (params.canfd.bitrate, params.canfd.data_bitrate)
            wanted = (fd_conf.arbitrationBitRate, fd_conf.dataBitRate)
            if running != wanted:
                problem = f"it runs {running[0]}/{running[1]} bit/s, not {wanted[0]}/{wanted[1]}"
        else:
            wanted_rate = chip.bitRate if chip is not None else bitrate
            running_rate = params.canfd.bitrate if running_fd else params.can.bitrate
            if wanted_rate is not None and wanted_rate != running_rate:
                problem = f"it runs at {running_rate} bit/s, not {wanted_rate}"
        if problem:
            raise CanInitializationError(
                f"VectorBus channel {ch} ({config.name}): another application has init access "
                f"and {problem}; close it or open this bus without bus parameters"
            )

    def _set_own_messages(self, receive_own_messages: bool) -> None:
        # Transmit receipts (XL_CAN_MSG_FLAG_TX_COMPLETED / XL_CAN_EV_TAG_TX_OK) for this port.
        self._drv.xlCanSetChannelMode(self._port, self.mask, int(bool(receive_own_messages)), 0)

    def _set_notification(self) -> None:
        handle = xlclass.XLhandle()
        self._drv.xlSetNotification(self._port, ctypes.byref(handle), 1)
        value = int(handle.value or 0)
        if sys.platform == "win32":  # pragma: no cover - Windows only
            self._event_handle = value
        else:
            # The simulated library (there is no Vector driver elsewhere) gives a descriptor.
            self._fileno = value

    def _activate(self) -> None:
        self._drv.xlActivateChannel(
            self._port, self.mask, _CAN, int(XL_AC_Flags.XL_ACTIVATE_RESET_CLOCK)
        )
        # Timestamps count from the reset clock: device time 0 is now.
        self._clock.sync(0.0)
        self._offset = self._clock.to_host(0.0)

    def _release(self) -> None:
        drv = self._drv
        if self.port_handle.value >= 0:
            try:
                drv.xlDeactivateChannel(self._port, self.mask)
            except VectorError as exc:
                LOG.warning("VectorBus: xlDeactivateChannel during shutdown: %s", exc)
            try:
                drv.xlClosePort(self._port)
            except VectorError as exc:
                LOG.warning("VectorBus: xlClosePort during shutdown: %s", exc)
            self.port_handle.value = -1
        if self._driver_open:
            self._driver_open = False
            try:
                drv.xlCloseDriver()
            except VectorError as exc:
                LOG.warning("VectorBus: xlCloseDriver during shutdown: %s", exc)

    # -- filters ------------------------------------------------------------------------------

    def _apply_filters(self, filters: Optional[CanFilters]) -> None:
        std = ext = (0, 0)  # code, mask: open
        exact = True
        if filters:
            std_filters = [f for f in filters if not f.get("extended", False)]
            ext_filters = [f for f in filters if f.get("extended", True)]
            exact = len(filters) == 1
            # One filter of a kind goes to the hardware; more of one kind are left to software.
            std = self._hardware_filter(std_filters, 0x7FF)
            ext = self._hardware_filter(ext_filters, _ID_MASK)
        try:
            for (code, mask), id_range in (
                (std, XL_AcceptanceFilter.XL_CAN_STD),
                (ext, XL_AcceptanceFilter.XL_CAN_EXT),
            ):
                self._drv.xlCanSetChannelAcceptance(
                    self._port, self.mask, code, mask, int(id_range)
                )
        except VectorError as exc:
            LOG.warning("VectorBus: hardware filter not set, filtering in software: %s", exc)
            exact = False
        # The hardware check is exact for one filter (an "extended" key selects the kind);
        # with several, BusABC.recv checks each frame in software as well.
        self._hw_filtered = not filters or exact

    @staticmethod
    def _hardware_filter(filters: CanFilters, id_bits: int) -> tuple[int, int]:
        if not filters:
            # Closed (vxlapi.h: "Use mask=0xFFFF,code=0xFFFF or mask=0xFFFFFFFF,code=0xFFFFFFFF
            # to fully close the filter").
            return (0xFFFF, 0xFFFF) if id_bits == 0x7FF else (0xFFFFFFFF, 0xFFFFFFFF)
        if len(filters) > 1:
            return (0, 0)
        return (filters[0]["can_id"] & id_bits, filters[0]["can_mask"] & id_bits)

    # -- receiving ----------------------------------------------------------------------------

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        pending = self._pending
        if pending:
            return pending.popleft(), self._hw_filtered
        deadline = None if timeout is None else time.monotonic() + timeout
        read = self._read_fd if self.fd else self._read_classic
        while True:
            if self._is_shutdown:
                raise CanOperationError(
                    f"cannot receive: the bus {self.channel_info!r} is shut down"
                )
            with self._read_lock:
                read()
            if pending:
                return pending.popleft(), self._hw_filtered
            if deadline is None:
                left = None
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, True
            self._wait(left)

    def _wait(self, left: Optional[float]) -> None:
        """Sleep until the port has events or ``left`` seconds passed (GIL released)."""
        if self._fileno is not None:
            # Wake at least every second so that a shutdown in another thread is noticed.
            try:
                select.select([self._fileno], [], [], 1.0 if left is None else min(left, 1.0))
            except (OSError, ValueError) as exc:
                # The port (and its descriptor) was closed by a shutdown meanwhile.
                raise CanOperationError(
                    f"receiving on {self.channel_info!r} failed: {exc}"
                    + (" (the bus was shut down)" if self._is_shutdown else "")
                ) from exc
        elif (
            self._event_handle is not None and _WaitForSingleObject is not None
        ):  # pragma: no cover
            ms = 1000 if left is None else max(0, min(int(left * 1000) + 1, 1000))
            _WaitForSingleObject(self._event_handle, ms)
        else:  # pragma: no cover - a library without notification handle
            time.sleep(self.poll_interval if left is None else min(self.poll_interval, left))

    def _read_classic(self) -> None:
        """Moves up to _BATCH events of an interface-version-3 port into ``_pending``."""
        count = self._count
        count.value = _BATCH
        status = self._receive(self._port_c, self._count_ref, self._events)
        if status:
            if status == _QUEUE_IS_EMPTY:
                return
            raise self._error(status, "xlReceive")
        n = count.value
        offset = self._offset
        by_index = self._by_index
        append = self._pending.append
        for (
            tag,
            index,
            _trans,
            _port,
            ev_flags,
            _res,
            stamp,
            ident,
            flags,
            dlc,
            _r1,
            data,
            _r2,
        ) in _EVENT.iter_unpack(self._events_view[: n * 48]):
            if tag != _RECEIVE_MSG:
                if tag == _CHIP_STATE:
                    self._chip_states[index] = VectorChipState(
                        ident & 0xFF, (ident >> 8) & 0xFF, (ident >> 16) & 0xFF
                    )
                continue
            if ev_flags & _EV_OVERRUN or flags & _F_OVERRUN:
                self._overrun(index)
            if flags & _F_ERROR:
                fields: tuple[Any, ...] = (
                    stamp * 1e-9 + offset, 0, False, False, True, by_index[index], 0,
                    bytearray(), False, True, False, False,
                )  # fmt: skip
            else:
                remote = bool(flags & _F_REMOTE)
                fields = (
                    stamp * 1e-9 + offset,
                    ident & _ID_MASK,
                    ident >= _EXT,
                    remote,
                    False,
                    by_index[index],
                    dlc,
                    bytearray() if remote else bytearray(data[:dlc]),
                    False,
                    not flags & _F_TX_COMPLETED,
                    False,
                    False,
                )
            append(_new_message(Message, fields))

    def _read_fd(self) -> None:
        """Moves up to _BATCH events of an interface-version-4 port into ``_pending``
        (``xlCanReceive`` gives one event a call)."""
        receive, port, ref = self._can_receive, self._port_c, self._rx_ref
        view = self._rx_view
        unpack = _RX_HEAD.unpack_from
        offset = self._offset
        by_index = self._by_index
        append = self._pending.append
        for _ in range(_BATCH):
            status = receive(port, ref)
            if status:
                if status == _QUEUE_IS_EMPTY:
                    return
                raise self._error(status, "xlCanReceive")
            (
                _size,
                tag,
                index,
                _user,
                flags_chip,
                _r0,
                _r1,
                stamp,
                ident,
                flags,
                _crc,
                _bits,
                dlc,
            ) = unpack(view)
            if flags_chip & _QUEUE_OVERFLOW:
                self._overrun(index)
            if tag == _RX_OK or tag == _TX_OK:
                if flags & _RX_EDL:
                    length = 0 if flags & _RX_RTR else _DLC2LEN[dlc]
                    fields: tuple[Any, ...] = (
                        stamp * 1e-9 + offset, ident & _ID_MASK, ident >= _EXT,
                        False, False, by_index[index], length,
                        bytearray(view[_RX_DATA : _RX_DATA + length]), True,
                        tag == _RX_OK, bool(flags & _RX_BRS), bool(flags & _RX_ESI),
                    )  # fmt: skip
                else:
                    remote = bool(flags & _RX_RTR)
                    length = 0 if remote else min(dlc, 8)
                    fields = (
                        stamp * 1e-9 + offset, ident & _ID_MASK, ident >= _EXT,
                        remote, False, by_index[index], dlc,
                        bytearray(view[_RX_DATA : _RX_DATA + length]), False,
                        tag == _RX_OK, False, False,
                    )  # fmt: skip
            elif tag == _RX_ERROR or tag == _TX_ERROR:
                fields = (
                    stamp * 1e-9 + offset, 0, False, False, True, by_index[index], 0,
                    bytearray(), False, tag == _RX_ERROR, False, False,
                )  # fmt: skip
            else:
                if tag == _FD_CHIP_STATE:
                    # XL_CAN_EV_CHIP_STATE's first three bytes are where canId's are.
                    self._chip_states[index] = VectorChipState(
                        ident & 0xFF, (ident >> 8) & 0xFF, (ident >> 16) & 0xFF
                    )
                continue
            append(_new_message(Message, fields))

    def _overrun(self, index: int) -> None:
        LOG.warning(
            "VectorBus channel %s: the receive queue overflowed, frames were lost "
            "(read faster or open with a larger rx_queue_size)",
            self._by_index[index],
        )

    def _call(self, function: Callable[..., Any], *args: Any) -> None:
        """A checked library call on the open bus: its failure is a VectorOperationError."""
        if self._is_shutdown:
            raise CanOperationError(f"the bus {self.channel_info!r} is shut down")
        try:
            function(*args)
        except VectorError as exc:
            raise VectorOperationError.from_generic(exc) from None

    def _error(self, status: int, function: str) -> VectorOperationError:
        return VectorOperationError(status, xldriver.error_string(status), function)

    # -- sending ------------------------------------------------------------------------------

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """Transmit ``msg`` on the channel ``msg.channel`` names, or on every channel of the
        bus when it names none of them.

        :param timeout: while the transmit queue is full (``XL_ERR_QUEUE_IS_FULL``), retry
            for up to this many seconds; None retries for ever, 0 not at all.
        :raises VectorOperationError: if the library refuses the frame.
        :raises can.CanOperationError: if the bus is shut down.
        """
        if self._is_shutdown:
            raise CanOperationError(f"cannot send: the bus {self.channel_info!r} is shut down")
        channel = msg.channel
        mask = self._mask_c if channel is None else self._masks_c.get(channel, self._mask_c)  # type: ignore[arg-type]
        ident = msg.arbitration_id
        if msg.is_extended_id:
            ident |= _EXT
        if self.fd:
            flags = 0
            if msg.is_fd:
                flags = _TX_EDL | _TX_BRS if msg.bitrate_switch else _TX_EDL
            if msg.is_remote_frame:
                flags |= _TX_RTR
                dlc = msg.dlc
                data = b""
            else:
                data = bytes(msg.data)
                dlc = _len2dlc(len(data)) if msg.is_fd else len(data)
            _TX_EVENT.pack_into(self._tx_buffer, 0, _TX_MSG, 0, 0, ident, flags, dlc, data)
            status = self._transmit_ex(
                self._port_c, mask, self._one, self._sent_ref, self._tx_buffer
            )
            if status:
                self._send_retrying(
                    lambda: self._transmit_ex(
                        self._port_c, mask, self._one, self._sent_ref, self._tx_buffer
                    ),
                    status,
                    "xlCanTransmitEx",
                    timeout,
                )
            return
        if msg.is_fd:
            raise CanOperationError(
                "VectorBus: a CAN FD frame needs a bus opened with fd=True (or a BitTimingFd)"
            )
        if msg.is_remote_frame:
            flags, dlc, data = _F_REMOTE, msg.dlc, b""
        else:
            data = bytes(msg.data)
            flags, dlc = 0, len(data)
        _EVENT.pack_into(
            self._tx_event_buffer, 0, _TRANSMIT_MSG, 0, 0, 0, 0, 0, 0, ident, flags, dlc, 0, data, 0
        )
        count = self._sent
        count.value = 1
        status = self._transmit(self._port_c, mask, self._sent_ref, self._tx_event_buffer)
        if status:

            def again() -> int:
                count.value = 1
                return int(
                    self._transmit(self._port_c, mask, self._sent_ref, self._tx_event_buffer)
                )

            self._send_retrying(again, status, "xlCanTransmit", timeout)

    def _send_retrying(
        self, call: Callable[[], int], status: int, function: str, timeout: Optional[float]
    ) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while status == _QUEUE_IS_FULL and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.001)
            status = call()
        if status:
            raise self._error(status, function)

    def flush_tx_buffer(self) -> None:
        """Discard the frames waiting in the transmit queues (``xlCanFlushTransmitQueue``)."""
        self._call(self._drv.xlCanFlushTransmitQueue, self._port, self.mask)

    # -- state --------------------------------------------------------------------------------

    @property
    def chip_state(self) -> VectorChipState:
        """The CAN controller's state and error counters, freshly asked for
        (``xlCanRequestChipState``; the answer arrives as an ``XL_CHIP_STATE`` event, which
        is read here while the frames read with it wait for :meth:`recv`). With several
        channels, the first channel's."""
        return self.chip_states()[self.channels[0]]

    def chip_states(self) -> dict[int, VectorChipState]:
        """:attr:`chip_state` of every channel of the bus, by channel."""
        if self._is_shutdown:
            raise CanOperationError(f"the bus {self.channel_info!r} is shut down")
        self._chip_states.clear()
        self._call(self._drv.xlCanRequestChipState, self._port, self.mask)
        wanted = set(self.index_to_channel)
        deadline = time.monotonic() + 1.0
        read = self._read_fd if self.fd else self._read_classic
        while not wanted <= set(self._chip_states):
            with self._read_lock:
                read()
            left = deadline - time.monotonic()
            if left <= 0:
                raise VectorOperationError(
                    None, "no XL_CHIP_STATE event within 1 s", "xlCanRequestChipState"
                )
            if not wanted <= set(self._chip_states):
                self._wait(min(left, 0.01))
        return {self.index_to_channel[i]: s for i, s in self._chip_states.items() if i in wanted}

    @property
    def state(self) -> BusState:
        """:class:`~can.BusState` of the controller (the worst of the bus's channels)."""
        states = [s.state for s in self.chip_states().values()]
        for worst in (BusState.ERROR, BusState.PASSIVE):
            if worst in states:
                return worst
        return BusState.ACTIVE

    @state.setter
    def state(self, new_state: BusState) -> None:
        raise NotImplementedError("VectorBus cannot change its bus state; use listen_only=True")

    def reset(self) -> None:
        """Take the channels off the bus and on again (python-can 4.x); with init access this
        restarts a controller that went bus-off."""
        self._call(self._drv.xlDeactivateChannel, self._port, self.mask)
        self._call(self._drv.xlActivateChannel, self._port, self.mask, _CAN, 0)

    def fileno(self) -> int:
        """The port's notification descriptor: readable while events wait (the simulated
        library on Linux; Windows has an event handle instead)."""
        if self._fileno is None:  # pragma: no cover - Windows
            raise NotImplementedError("the Vector library gave an event handle, not a descriptor")
        return self._fileno

    def shutdown(self) -> None:
        """Stop periodic tasks, take the channels off the bus, close the port and the driver."""
        super().shutdown()
        self._release()

    # -- application configuration and discovery -----------------------------------------------

    @staticmethod
    def get_application_config(
        app_name: str, app_channel: int
    ) -> tuple[Union[int, XL_HardwareType], int, int]:
        """``(hw_type, hw_index, hw_channel)`` that channel ``app_channel`` of application
        ``app_name`` is assigned to in Vector Hardware Config (``xlGetApplConfig``).

        :raises VectorInitializationError: if the application has no such channel.
        """
        drv = xldriver.driver()
        hw_type, hw_index, hw_channel = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
        drv.xlOpenDriver()
        try:
            drv.xlGetApplConfig(
                app_name.encode(),
                app_channel,
                ctypes.byref(hw_type),
                ctypes.byref(hw_index),
                ctypes.byref(hw_channel),
                _CAN,
            )
        except VectorError as exc:
            raise VectorInitializationError.from_generic(exc) from None
        finally:
            drv.xlCloseDriver()
        return _enum(XL_HardwareType, hw_type.value), int(hw_index.value), int(hw_channel.value)

    @staticmethod
    def set_application_config(
        app_name: str,
        app_channel: int,
        hw_type: Union[int, XL_HardwareType],
        hw_index: int,
        hw_channel: int,
        **kwargs: Any,
    ) -> None:
        """Assign channel ``app_channel`` of application ``app_name`` to a device's channel
        (``xlSetApplConfig``; what Vector Hardware Config does). ``bus_type`` (keyword,
        default CAN) is passed on.

        :raises VectorInitializationError: if the driver refuses.
        """
        bus_type = int(kwargs.pop("bus_type", _CAN))
        if kwargs:
            raise TypeError(f"set_application_config: unexpected arguments {sorted(kwargs)}")
        drv = xldriver.driver()
        drv.xlOpenDriver()
        try:
            drv.xlSetApplConfig(
                app_name.encode(), app_channel, int(hw_type), hw_index, hw_channel, bus_type
            )
        except VectorError as exc:
            raise VectorInitializationError.from_generic(exc) from None
        finally:
            drv.xlCloseDriver()

    @staticmethod
    def popup_vector_hw_configuration(wait_for_finish: int = 0) -> None:
        """Open Vector Hardware Config (``xlPopupHwConfig``); ``wait_for_finish`` > 0 waits
        that many milliseconds for it to close."""
        drv = xldriver.driver()
        try:
            drv.xlPopupHwConfig(ctypes.c_char_p(None), int(wait_for_finish))
        except VectorError as exc:
            raise VectorOperationError.from_generic(exc) from None

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        configs = []
        for c in get_channel_configs():
            if not _is_can(c):
                continue
            configs.append(
                {
                    "interface": "vector",
                    "channel": c.hw_channel,
                    "serial": c.serial_number,
                    "channel_index": c.channel_index,
                    "hw_type": c.hw_type,
                    "hw_index": c.hw_index,
                    "hw_channel": c.hw_channel,
                    "supports_fd": bool(
                        c.channel_capabilities
                        & XL_ChannelCapabilities.XL_CHANNEL_FLAG_CANFD_ISO_SUPPORT
                    ),
                    "vector_channel_config": c,
                }
            )
        return configs
