"""The Kvaser CANlib backend (manual section 4.2): :class:`KvaserBus`.

CANlib is Kvaser's C library (``canlib32.dll`` on Windows, ``libcanlib.so.1`` from the Linux
SDK); this module loads it with :mod:`ctypes` through :class:`can.ctypesutil.VendorLibrary`
(``CAN_KVASER_LIBRARY`` names another file). Function signatures, constants and status codes
are those of Kvaser's public headers ``canlib.h`` and ``canstat.h``.

A bus is one CANlib handle (``single_handle=True``) or two on the same channel: one read, one
write, as the manual describes. ``recv`` waits inside ``canReadWait``, which ctypes calls with
the GIL released. Hardware timestamps (a 10 microsecond timer, set with
``canIOCTL_SET_TIMER_SCALE``) become host time by the offset between ``canReadTimer`` and
:func:`time.time` read at open.
"""

from __future__ import annotations

import ctypes
import logging
import math
import struct
import time
from typing import Any, ClassVar, NamedTuple, Optional, Union

from can import _core
from can.bit_timing import BitTiming, BitTimingFd
from can.bus import BusABC, BusState, CanFilters, CanProtocol
from can.ctypesutil import VendorLibrary, function_address, native_rx_enabled
from can.exceptions import (
    CanError,
    CanInitializationError,
    CanOperationError,
    CanTimeoutError,
)
from can.interfaces.kvaser.structures import BusStatistics
from can.message import Message

__all__ = [
    "CANLIBError",
    "CANLIBInitializationError",
    "CANLIBOperationError",
    "CANLIBTimeoutError",
    "ErrorCounters",
    "KvaserBus",
    "get_channel_info",
]

LOG = logging.getLogger("can.kvaser")

# -- canstat.h ---------------------------------------------------------------------------------
canOK = 0
canERR_PARAM = -1
canERR_NOMSG = -2
canERR_NOTFOUND = -3
canERR_TIMEOUT = -7
canERR_NOTINITIALIZED = -8
canERR_INVHANDLE = -10

canSTAT_ERROR_PASSIVE = 0x00000001
canSTAT_BUS_OFF = 0x00000002

canMSG_RTR = 0x0001
canMSG_STD = 0x0002
canMSG_EXT = 0x0004
canMSG_ERROR_FRAME = 0x0020
canMSG_TXACK = 0x0040
canMSGERR_OVERRUN = 0x0600
canMSG_LOCAL_TXACK = 0x10000000
canFDMSG_FDF = 0x010000
canFDMSG_BRS = 0x020000
canFDMSG_ESI = 0x040000

# -- canlib.h ----------------------------------------------------------------------------------
canOPEN_EXCLUSIVE = 0x0008
canOPEN_ACCEPT_VIRTUAL = 0x0020
canOPEN_CAN_FD = 0x0400
canOPEN_CAN_FD_NONISO = 0x0800

canDRIVER_SILENT = 1
canDRIVER_NORMAL = 4

canIOCTL_SET_TIMER_SCALE = 6
canIOCTL_SET_TXACK = 7
canIOCTL_FLUSH_TX_BUFFER = 11
canIOCTL_SET_LOCAL_TXECHO = 32
canIOCTL_SET_LOCAL_TXACK = 46

canCHANNELDATA_CHANNEL_CAP = 1
canCHANNELDATA_CHAN_NO_ON_CARD = 6
canCHANNELDATA_CARD_SERIAL_NO = 7
canCHANNELDATA_CHANNEL_NAME = 13
canCHANNELDATA_DEVDESCR_ASCII = 26
canCHANNEL_CAP_VIRTUAL = 0x00010000
canCHANNEL_CAP_CAN_FD = 0x00080000

kvLED_ACTION_ALL_LEDS_ON = 0
kvLED_ACTION_ALL_LEDS_OFF = 1

#: The predefined bit rates canlib.h names (canBITRATE_xxx), by bit/s.
BITRATE_OBJS: dict[int, int] = {
    1_000_000: -1,
    500_000: -2,
    250_000: -3,
    125_000: -4,
    100_000: -5,
    62_000: -6,
    50_000: -7,
    83_000: -8,
    10_000: -9,
}
#: CAN FD presets (canFD_BITRATE_xxx), by bit/s.
BITRATE_FD: dict[int, int] = {
    500_000: -1000,
    1_000_000: -1001,
    2_000_000: -1002,
    4_000_000: -1003,
    8_000_000: -1004,
}

#: The timestamp unit asked of the driver, in microseconds.
TIMER_SCALE_US = 10
_TIMER_RESOLUTION = TIMER_SCALE_US / 1_000_000
_INFINITE = 0xFFFFFFFF
#: kvFlashLeds duration, milliseconds.
_FLASH_MS = 30_000
#: BTR0/BTR1 (canSetBusParamsC200): canlib.h says CANlib "will always behave as if the clock
#: frequency is 16 MHz", whatever the device's clock.
_C200_CLOCK = 16_000_000
#: Kvaser's CAN FD controllers run on 80 MHz.
_FD_CLOCK = 80_000_000

_new_message = _core.new_message_from_fields
_c_long = ctypes.c_long
_c_ulong = ctypes.c_ulong
_WAIT_FOREVER = ctypes.c_ulong(_INFINITE)


class CANLIBError(CanError):
    """A CANlib call failed; ``error_code`` is the ``canERR_xxx`` status."""


class CANLIBInitializationError(CANLIBError, CanInitializationError):
    """The library, the channel or its settings could not be set up."""


class CANLIBOperationError(CANLIBError, CanOperationError):
    """A call on an open bus failed."""


class CANLIBTimeoutError(CANLIBOperationError, CanTimeoutError):
    """A call with a timeout (``canWriteWait``) ran out of time (``canERR_TIMEOUT``)."""


class _RxHeader(ctypes.Structure):
    # canRead's id, dlc, flag and time out-parameters, laid out as struct "@lIIL" reads them.
    _fields_ = [
        ("id", ctypes.c_long),
        ("dlc", ctypes.c_uint),
        ("flags", ctypes.c_uint),
        ("time", ctypes.c_ulong),
    ]


class ErrorCounters(NamedTuple):
    """The controller's error counters and the driver's overrun count."""

    tx_errors: int
    rx_errors: int
    overruns: int


_LIB = VendorLibrary(
    "Kvaser CANlib",
    {
        "win32": ("canlib32.dll",),
        "linux": ("libcanlib.so.1", "libcanlib.so"),
    },
    "CAN_KVASER_LIBRARY",
    "install Kvaser's CANlib driver (Windows) or the Linux driver and SDK (linuxcan) from "
    "https://www.kvaser.com/downloads/",
    error=CANLIBOperationError,
)

_u = ctypes.c_uint
_ul = ctypes.c_ulong
_p = ctypes.POINTER
_status = ctypes.c_int


class _Api:
    """The CANlib functions this backend calls, declared once per process."""

    def __init__(self) -> None:
        lib = _LIB
        init = lib.function("canInitializeLibrary", None, [])
        init()
        checked = lib.declare(
            {
                "canGetErrorText": (_status, [_status, ctypes.c_char_p, _u]),
            }
        )
        self.canGetErrorText = checked["canGetErrorText"]
        describe = self.describe
        # Checked calls raise CANLIBOperationError with canGetErrorText's text.
        f = lib.declare(
            {
                "canGetNumberOfChannels": (_status, [_p(ctypes.c_int)]),
                "canGetChannelData": (
                    _status,
                    [ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t],
                ),
                "canClose": (_status, [ctypes.c_int]),
                "canBusOn": (_status, [ctypes.c_int]),
                "canBusOff": (_status, [ctypes.c_int]),
                "canSetBusParams": (
                    _status,
                    [ctypes.c_int, ctypes.c_long, _u, _u, _u, _u, _u],
                ),
                "canSetBusParamsC200": (_status, [ctypes.c_int, ctypes.c_ubyte, ctypes.c_ubyte]),
                "canSetBusParamsFd": (_status, [ctypes.c_int, ctypes.c_long, _u, _u, _u]),
                "canSetBusOutputControl": (_status, [ctypes.c_int, _u]),
                "canSetAcceptanceFilter": (_status, [ctypes.c_int, _u, _u, ctypes.c_int]),
                "canIoCtl": (_status, [ctypes.c_int, _u, ctypes.c_void_p, _u]),
                "canReadTimer": (_status, [ctypes.c_int, _p(_ul)]),
                "canReadStatus": (_status, [ctypes.c_int, _p(_ul)]),
                "canReadErrorCounters": (_status, [ctypes.c_int, _p(_u), _p(_u), _p(_u)]),
                "canRequestBusStatistics": (_status, [ctypes.c_int]),
                "canGetBusStatistics": (
                    _status,
                    [ctypes.c_int, _p(BusStatistics), ctypes.c_size_t],
                ),
                "kvFlashLeds": (_status, [ctypes.c_int, ctypes.c_int, ctypes.c_int]),
            },
            describe,
        )
        self.__dict__.update(f)
        # canOpenChannel returns a handle or a negative status.
        self.canOpenChannel = lib.function("canOpenChannel", ctypes.c_int, [ctypes.c_int] * 2)
        # The per-frame calls: declared (so a missing one is reported like any other), then
        # called through a second function object without argtypes, which ctypes calls about
        # 2 us faster; their status is checked inline. Callers pass ctypes objects for every
        # argument that is not a C int (the long identifier, the unsigned long timeout) and
        # byref() pointers, so nothing relies on ctypes' default conversions for wider types.
        read_args = [ctypes.c_int, _p(ctypes.c_long), ctypes.c_void_p, _p(_u), _p(_u), _p(_ul)]
        signatures: dict[str, list[Any]] = {
            "canWrite": [ctypes.c_int, ctypes.c_long, ctypes.c_void_p, _u, _u],
            "canWriteWait": [ctypes.c_int, ctypes.c_long, ctypes.c_void_p, _u, _u, _ul],
            "canRead": read_args,
            "canReadWait": [*read_args, _ul],
        }
        dll = lib.load()
        for name, argtypes in signatures.items():
            lib.function(name, _status, argtypes)
            fast = dll[name]
            fast.restype = _status
            setattr(self, name, fast)

    # Declared attributes (set from the dict above), for the type checker.
    canWrite: Any
    canWriteWait: Any
    canRead: Any
    canReadWait: Any
    canGetNumberOfChannels: Any
    canGetChannelData: Any
    canClose: Any
    canBusOn: Any
    canBusOff: Any
    canSetBusParams: Any
    canSetBusParamsC200: Any
    canSetBusParamsFd: Any
    canSetBusOutputControl: Any
    canSetAcceptanceFilter: Any
    canIoCtl: Any
    canReadTimer: Any
    canReadStatus: Any
    canReadErrorCounters: Any
    canRequestBusStatistics: Any
    canGetBusStatistics: Any
    kvFlashLeds: Any

    def text(self, status: int) -> str:
        """CANlib's own text for ``status``."""
        buf = ctypes.create_string_buffer(128)
        try:
            if self.canGetErrorText(status, buf, ctypes.sizeof(buf)) == canOK:
                return buf.value.decode("ascii", "replace") or f"status {status}"
        except (OSError, ValueError):
            pass
        return f"status {status}"

    def describe(self, status: int) -> tuple[bool, str]:
        return status < 0, self.text(status)

    def error(self, function: str, status: int, init: bool = False) -> CANLIBError:
        """The exception for ``function`` failing with ``status``."""
        message = f"{function} failed: {self.text(status)}"
        if init:
            return CANLIBInitializationError(message, error_code=status)
        if status == canERR_TIMEOUT:
            return CANLIBTimeoutError(message, error_code=status)
        return CANLIBOperationError(message, error_code=status)


_api: Optional[_Api] = None


def _get_api() -> _Api:
    """The declared CANlib functions (loading and initializing the library on first use)."""
    global _api
    if _api is None:
        _api = _Api()
    return _api


def _channel_data(api: _Api, channel: int, item: int, kind: Any) -> Any:
    value = kind()
    api.canGetChannelData(channel, item, ctypes.byref(value), ctypes.sizeof(value))
    return value.value


def _channel_text(api: _Api, channel: int, item: int) -> str:
    buf = ctypes.create_string_buffer(256)
    api.canGetChannelData(channel, item, buf, ctypes.sizeof(buf))
    return str(buf.value.decode("ascii", "replace"))


def get_channel_info(channel: int) -> str:
    """``"<device name>, S/N <serial> (#<channel on the device, from 1>)"`` of a channel, as
    python-can 4.x words a Kvaser bus's ``channel_info``."""
    api = _get_api()
    name = _channel_text(api, channel, canCHANNELDATA_DEVDESCR_ASCII)
    serial = _channel_data(api, channel, canCHANNELDATA_CARD_SERIAL_NO, ctypes.c_uint64)
    number = _channel_data(api, channel, canCHANNELDATA_CHAN_NO_ON_CARD, ctypes.c_uint32)
    return f"{name}, S/N {serial} (#{number + 1})"


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"Kvaser: {name} must be an int, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"Kvaser: {name} must be an integer, got {value!r}") from None


class KvaserBus(BusABC):
    """A bus on a Kvaser CANlib channel.

    :param channel: the CANlib channel number (0, 1, ...; ``_detect_available_configs`` lists
        them).
    :param can_filters: see :meth:`can.BusABC.set_filters`; one filter is set in the
        hardware (``canSetAcceptanceFilter``), and every filter is checked in software too.
    :param bitrate: arbitration bit rate in bit/s (default 500000).
    :param accept_virtual: open Kvaser's virtual channels too (default True).
    :param tseg1: quanta before the sample point; with ``tseg2`` (and ``sjw``, ``no_samp``)
        the bit timing is set as given, without them the driver chooses.
    :param tseg2: quanta after the sample point.
    :param sjw: synchronisation jump width (1 when ``tseg1``/``tseg2`` are given without it).
    :param no_samp: samples per bit, 1 or 3.
    :param driver_mode: True (default) for normal, False for silent (listen only).
    :param single_handle: use one CANlib handle for reading and writing.
    :param receive_own_messages: also receive what this bus sends (as ``is_rx=False``).
    :param fd: open the channel for CAN FD.
    :param data_bitrate: CAN FD data-phase bit rate (default: ``bitrate``).
    :param fd_non_iso: non-ISO CAN FD (python-can 4.x).
    :param exclusive: open the channel exclusively (python-can 4.x).
    :param timing: a :class:`~can.BitTiming` (converted to the 16 MHz clock CANlib reads
        BTR0/BTR1 on, and set with ``canSetBusParamsC200``) or :class:`~can.BitTimingFd`
        (80 MHz; implies ``fd``); it replaces ``bitrate``, ``tseg1``, ``tseg2``, ``sjw``,
        ``no_samp`` and ``data_bitrate``.
    """

    CONFIG_KEYS: ClassVar[dict[str, str]] = {
        "bitrate": "rate",
        "accept_virtual": "bool",
        "tseg1": "int",
        "tseg2": "int",
        "sjw": "int",
        "no_samp": "int",
        "driver_mode": "bool",
        "single_handle": "bool",
        "receive_own_messages": "bool",
        "fd": "bool",
        "data_bitrate": "rate",
        "fd_non_iso": "bool",
        "exclusive": "bool",
    }

    def __init__(
        self,
        channel: Union[int, str],
        can_filters: Optional[CanFilters] = None,
        *,
        bitrate: int = 500_000,
        accept_virtual: bool = True,
        tseg1: int = 0,
        tseg2: int = 0,
        sjw: int = 0,
        no_samp: int = 1,
        driver_mode: bool = True,
        single_handle: bool = False,
        receive_own_messages: bool = False,
        fd: bool = False,
        data_bitrate: Optional[int] = None,
        fd_non_iso: bool = False,
        exclusive: bool = False,
        timing: Optional[Union[BitTiming, BitTimingFd]] = None,
        **kwargs: Any,
    ) -> None:
        self._handles: list[int] = []
        self._read_handle = -1
        self._write_handle = -1
        number = _as_int("channel", channel)
        bitrate = _as_int("bitrate", bitrate)
        tseg1, tseg2, sjw = _as_int("tseg1", tseg1), _as_int("tseg2", tseg2), _as_int("sjw", sjw)
        no_samp = _as_int("no_samp", no_samp)
        if no_samp not in (1, 3):
            raise ValueError(f"Kvaser: no_samp must be 1 or 3, got {no_samp}")
        if timing is not None and not isinstance(timing, (BitTiming, BitTimingFd)):
            raise TypeError(f"Kvaser: timing must be a BitTiming or BitTimingFd, got {timing!r}")
        if isinstance(timing, BitTimingFd):
            fd = True
            if timing.f_clock != _FD_CLOCK:
                raise ValueError(
                    f"Kvaser: a BitTimingFd must be for the {_FD_CLOCK} Hz CAN FD clock, "
                    f"got f_clock={timing.f_clock}"
                )
        elif isinstance(timing, BitTiming) and timing.f_clock != _C200_CLOCK:
            try:
                timing = timing.recreate_with_f_clock(_C200_CLOCK)
            except ValueError as exc:
                raise ValueError(
                    f"Kvaser: the BitTiming cannot be expressed on the {_C200_CLOCK} Hz clock "
                    f"that canSetBusParamsC200 uses: {exc}"
                ) from None
        data_rate = bitrate if data_bitrate is None else _as_int("data_bitrate", data_bitrate)

        api = _get_api()
        self._api = api
        self.channel = number
        flags = 0
        if accept_virtual:
            flags |= canOPEN_ACCEPT_VIRTUAL
        if fd or fd_non_iso:
            flags |= canOPEN_CAN_FD_NONISO if fd_non_iso else canOPEN_CAN_FD
        if exclusive:
            flags |= canOPEN_EXCLUSIVE
        self._is_fd = bool(flags & (canOPEN_CAN_FD | canOPEN_CAN_FD_NONISO))
        self._can_protocol = (
            (CanProtocol.CAN_FD_NON_ISO if fd_non_iso else CanProtocol.CAN_FD)
            if self._is_fd
            else CanProtocol.CAN_20
        )
        self._receive_own = bool(receive_own_messages)
        try:
            read = self._open(number, flags)
            self._read_handle = read
            self._set_timing(read, bitrate, tseg1, tseg2, sjw, no_samp, data_rate, timing)
            api.canSetBusOutputControl(read, canDRIVER_NORMAL if driver_mode else canDRIVER_SILENT)
            self._ioctl_dword(read, canIOCTL_SET_TIMER_SCALE, TIMER_SCALE_US)
            if single_handle:
                self._write_handle = read
                if receive_own_messages:
                    self._ioctl_dword(read, canIOCTL_SET_TXACK, 1)
            else:
                # The read handle hears the write handle through CANlib's local transmit
                # echo, which is on by default; off, it hears only the other nodes.
                echo = ctypes.c_ubyte(1 if receive_own_messages else 0)
                api.canIoCtl(read, canIOCTL_SET_LOCAL_TXECHO, ctypes.byref(echo), 1)
                if receive_own_messages:
                    api.canIoCtl(read, canIOCTL_SET_LOCAL_TXACK, ctypes.byref(echo), 1)
                write = self._open(number, flags)
                self._write_handle = write
            for handle in self._handles:
                api.canBusOn(handle)
            now = ctypes.c_ulong()
            api.canReadTimer(read, ctypes.byref(now))
            self._time_offset = time.time() - now.value * _TIMER_RESOLUTION
        except CANLIBOperationError as exc:
            self._close_handles()
            raise CANLIBInitializationError(str(exc.message), error_code=exc.error_code) from None
        except BaseException:
            self._close_handles()
            raise
        # Reused per frame by recv.
        # Reused per frame by recv: canRead's four out values in one structure, read back with
        # one struct.unpack_from, and the data buffer, a bytearray that CANlib writes into
        # (through a ctypes array sharing its memory), so a frame's data is one slice of it.
        header = _RxHeader()
        self._rx_header = memoryview(header).cast("B")
        self._rx_unpack = struct.Struct("@lIIL").unpack_from
        self._rx_data = bytearray(64)
        self._rx_args = (
            ctypes.byref(header, _RxHeader.id.offset),
            (ctypes.c_char * 64).from_buffer(self._rx_data),
            ctypes.byref(header, _RxHeader.dlc.offset),
            ctypes.byref(header, _RxHeader.flags.offset),
            ctypes.byref(header, _RxHeader.time.offset),
        )
        self._rx_keep = header
        self._kinds: dict[int, tuple[bool, bool, bool, bool, bool, bool, bool]] = {}
        self._timeout_s = -1.0
        self._timeout_c = _c_ulong(0)
        self._timeout_ms = 0
        self._native: Optional[Any] = None
        self._native_tx: Optional[Any] = None
        self._canRead = api.canRead
        self._canReadWait = api.canReadWait
        self._canWrite = api.canWrite
        self._tx_ids: dict[int, ctypes.c_long] = {}
        self._wrap_bits = 8 * ctypes.sizeof(ctypes.c_ulong)
        self._last_raw = 0
        self._wraps = 0
        self._hw_filtered = True
        try:
            self.channel_info = get_channel_info(number)
        except CANLIBError:
            self.channel_info = f"Kvaser channel {number}"
        try:
            super().__init__(channel=number, can_filters=can_filters, **kwargs)
            # The native helpers (Linux): canRead / canReadWait / canWrite called by their C
            # addresses, the messages built in Rust.
            self._native = self._native_reader(header)
            if native_rx_enabled():
                self._native_tx = _core.KvaserWriter(
                    function_address(self._canWrite), self._write_handle
                )
        except BaseException:
            self._close_handles()
            raise

    # -- opening -------------------------------------------------------------------------------

    def _open(self, number: int, flags: int) -> int:
        handle = int(self._api.canOpenChannel(number, flags))
        if handle < 0:
            error = self._api.error(f"canOpenChannel({number})", handle, init=True)
            if handle == canERR_NOTFOUND and not flags & canOPEN_ACCEPT_VIRTUAL:
                error = CANLIBInitializationError(
                    f"{error.message}; channel {number} may be a virtual channel, which "
                    "needs accept_virtual=True",
                    error_code=handle,
                )
            raise error
        self._handles.append(handle)
        return handle

    def _ioctl_dword(self, handle: int, function: int, value: int) -> None:
        word = ctypes.c_uint32(value)
        self._api.canIoCtl(handle, function, ctypes.byref(word), 4)

    def _set_timing(
        self,
        handle: int,
        bitrate: int,
        tseg1: int,
        tseg2: int,
        sjw: int,
        no_samp: int,
        data_rate: int,
        timing: Optional[Union[BitTiming, BitTimingFd]],
    ) -> None:
        api = self._api
        if isinstance(timing, BitTimingFd):
            api.canSetBusParams(
                handle, timing.nom_bitrate, timing.nom_tseg1, timing.nom_tseg2, timing.nom_sjw, 1, 0
            )
            api.canSetBusParamsFd(
                handle, timing.data_bitrate, timing.data_tseg1, timing.data_tseg2, timing.data_sjw
            )
            return
        if isinstance(timing, BitTiming):
            api.canSetBusParamsC200(handle, timing.btr0, timing.btr1)
            return
        if bitrate <= 0:
            raise ValueError(f"Kvaser: bitrate must be positive, got {bitrate}")
        explicit = bool(tseg1 or tseg2)
        if explicit:
            freq = bitrate
            sjw = sjw or 1
        elif self._is_fd:
            freq = BITRATE_FD.get(bitrate, bitrate)
        else:
            freq = BITRATE_OBJS.get(bitrate, bitrate)
        api.canSetBusParams(handle, freq, tseg1, tseg2, sjw, no_samp, 0)
        if self._is_fd:
            if data_rate <= 0:
                raise ValueError(f"Kvaser: data_bitrate must be positive, got {data_rate}")
            api.canSetBusParamsFd(handle, BITRATE_FD.get(data_rate, data_rate), 0, 0, 0)

    # -- sending and receiving -----------------------------------------------------------------

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        """Queue ``msg`` for transmission (``canWrite``); with ``timeout`` > 0, wait up to that
        many seconds for it to be sent (``canWriteWait``).

        :raises CANLIBTimeoutError: if it was not sent in time (a
            :class:`~can.CanOperationError` and a :class:`~can.CanTimeoutError`).
        :raises CANLIBOperationError: if CANlib refused it (e.g. a CAN FD frame on a classic
            bus, or the transmit buffer is full).
        """
        if self._is_shutdown:
            raise CanOperationError(f"cannot send: the bus {self.channel_info!r} is shut down")
        writer = self._native_tx
        if writer is not None and (timeout is None or timeout <= 0):
            # canWrite by its C address; None for a message the code below sends instead.
            status = writer.write(msg)
            if status is not None:
                if status < 0:
                    raise self._api.error("canWrite", status)
                return
        flags = canMSG_EXT if msg.is_extended_id else canMSG_STD
        data = bytes(msg.data)
        length = len(data)
        if msg.is_fd:
            flags |= canFDMSG_FDF
            if msg.bitrate_switch:
                flags |= canFDMSG_BRS
            if msg.error_state_indicator:
                flags |= canFDMSG_ESI
        if msg.is_remote_frame:
            flags |= canMSG_RTR
            length = msg.dlc
        if msg.is_error_frame:
            flags |= canMSG_ERROR_FRAME
        can_id = self._tx_ids.get(msg.arbitration_id)
        if can_id is None:
            arbitration_id = msg.arbitration_id
            if 0 <= arbitration_id <= 0x1FFFFFFF:
                can_id = _c_long(arbitration_id)
                if len(self._tx_ids) < 4096:  # a bus's ids repeat: keep their C values
                    self._tx_ids[arbitration_id] = can_id
            else:  # not truncated into a valid one: CANlib refuses -1 (canERR_PARAM)
                can_id = _c_long(-1)
        if timeout is None or timeout <= 0:
            status = self._canWrite(self._write_handle, can_id, data, length, flags)
            name = "canWrite"
        else:
            status = self._api.canWriteWait(
                self._write_handle,
                can_id,
                data,
                length,
                flags,
                _c_ulong(min(_INFINITE - 1, math.ceil(timeout * 1000))),
            )
            name = "canWriteWait"
        if status < 0:
            raise self._api.error(name, status)

    def _native_reader(self, header: _RxHeader) -> Optional[Any]:
        """The native receive helper (``_core.KvaserReader``) that calls canRead and
        canReadWait by their C addresses into the same buffers, or None where the ctypes
        path is used: off Linux, where ``unsigned long`` is 32 bits (its timer wraps), or
        with ``CAN_VENDOR_NATIVE_RX=0``."""
        if not native_rx_enabled() or self._wrap_bits != 64:
            return None
        address = ctypes.addressof
        data = self._rx_args[1]
        return _core.KvaserReader(
            function_address(self._canRead),
            function_address(self._canReadWait),
            self._read_handle,
            (
                address(header) + _RxHeader.id.offset,
                address(data),
                address(header) + _RxHeader.dlc.offset,
                address(header) + _RxHeader.flags.offset,
                address(header) + _RxHeader.time.offset,
            ),
            (header, data, self._rx_data),
            _TIMER_RESOLUTION,
            self._time_offset,
            self.channel,
            Message,
        )

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        # BusABC.recv refuses a shut-down bus before calling this; its handles are -1 then
        # and _native is None.
        native = self._native
        if native is not None:
            if timeout is None:
                got = native.read(_INFINITE)
            elif timeout <= 0:
                got = native.read()
            else:
                if timeout != self._timeout_s:
                    self._timeout_s = timeout
                    self._timeout_ms = min(_INFINITE - 1, math.ceil(timeout * 1000))
                got = native.read(self._timeout_ms)
            if got.__class__ is Message:
                return got, self._filters is None
            if got is not None:
                return self._read_failed(got)
            can_id, _, flags, raw = self._rx_unpack(self._rx_header)
            return self._special(flags, raw * _TIMER_RESOLUTION + self._time_offset, can_id)
        if timeout is None:
            status = self._canReadWait(self._read_handle, *self._rx_args, _WAIT_FOREVER)
        elif timeout <= 0:
            status = self._canRead(self._read_handle, *self._rx_args)
        else:
            if timeout != self._timeout_s:
                self._timeout_s = timeout
                self._timeout_c = _c_ulong(min(_INFINITE - 1, math.ceil(timeout * 1000)))
            status = self._canReadWait(self._read_handle, *self._rx_args, self._timeout_c)
        if status != canOK:
            return self._read_failed(status)
        can_id, length, flags, raw = self._rx_unpack(self._rx_header)
        if self._wrap_bits == 32:  # a 32-bit unsigned long (Windows) wraps after 11.9 hours
            if raw < self._last_raw:
                self._wraps += 1
            self._last_raw = raw
            raw += self._wraps << 32
        kind = self._kinds.get(flags)
        if kind is None:
            kind = self._kind(flags)
        if kind[0]:  # error frame or overrun: the rare paths
            return self._special(flags, raw * _TIMER_RESOLUTION + self._time_offset, can_id)
        msg = _new_message(
            Message,
            (
                raw * _TIMER_RESOLUTION + self._time_offset,
                can_id,
                kind[1],
                kind[2],
                False,
                self.channel,
                length,
                bytearray() if kind[2] else self._rx_data[:length],
                kind[3],
                kind[4],
                kind[5],
                kind[6],
            ),
        )
        return msg, self._filters is None

    def _read_failed(self, status: int) -> tuple[None, bool]:
        """canRead / canReadWait gave ``status`` instead of a frame."""
        if status == canERR_NOMSG:
            return None, False
        if self._is_shutdown or status == canERR_INVHANDLE:
            raise CanOperationError(
                f"receiving on {self.channel_info!r} failed: the bus was shut down",
                error_code=status,
            )
        raise self._api.error("canReadWait", status)

    def _kind(self, flags: int) -> tuple[bool, bool, bool, bool, bool, bool, bool]:
        """What a received frame's CANlib flags say: (special, extended, remote, fd, is_rx,
        bitrate switch, error state indicator); cached per flags value."""
        kind = (
            bool(flags & (canMSG_ERROR_FRAME | canMSGERR_OVERRUN)),
            bool(flags & canMSG_EXT),
            bool(flags & canMSG_RTR),
            bool(flags & canFDMSG_FDF),
            not flags & (canMSG_TXACK | canMSG_LOCAL_TXACK),
            bool(flags & canFDMSG_BRS),
            bool(flags & canFDMSG_ESI),
        )
        if len(self._kinds) < 256:
            self._kinds[flags] = kind
        return kind

    def _special(self, flags: int, timestamp: float, can_id: int) -> tuple[Message, bool]:
        """An error frame, or a frame that arrived after the receive queue overran."""
        if flags & canMSGERR_OVERRUN:
            LOG.warning("%s: the receive queue overran, frames were lost", self.channel_info)
            flags &= ~canMSGERR_OVERRUN
            if not flags & canMSG_ERROR_FRAME:
                kind = self._kind(flags)
                length = self._rx_unpack(self._rx_header)[1]
                fields = (timestamp, can_id, kind[1], kind[2], False, self.channel, length)
                data = bytearray() if kind[2] else self._rx_data[:length]
                msg = _new_message(Message, (*fields, data, *kind[3:]))
                return msg, self._filters is None
        error = (timestamp, 0, False, False, True, self.channel)
        error_fields = (*error, 0, bytearray(), False, True, False, False)
        return _new_message(Message, error_fields), self._filters is None

    # -- filters -------------------------------------------------------------------------------

    def _apply_filters(self, filters: Optional[CanFilters]) -> None:
        """One filter goes to the hardware (the manual's "one filter per handle"); recv checks
        every filter in software as well, since CANlib's code/mask filter cannot express the
        ``extended`` key and lets through what only the other identifier type's filter
        would stop."""
        std = (0, 0)
        ext = (0, 0)
        if filters and len(filters) == 1:
            only = filters[0]
            can_id, mask = int(only["can_id"]), int(only["can_mask"])
            extended = only.get("extended")
            if extended is None or not extended:
                std = (can_id & 0x7FF, mask & 0x7FF)
            if extended is None or extended:
                ext = (can_id & 0x1FFFFFFF, mask & 0x1FFFFFFF)
        handle = self._read_handle
        if handle < 0:
            return
        self._api.canSetAcceptanceFilter(handle, std[0], std[1], 0)
        self._api.canSetAcceptanceFilter(handle, ext[0], ext[1], 1)

    # -- Kvaser's own methods ------------------------------------------------------------------

    def flash(self, flash: bool = True) -> None:
        """Turn the device's LEDs on (``flash=True``, for 30 s) or back off, to find it."""
        self._check_open("flash")
        action = kvLED_ACTION_ALL_LEDS_ON if flash else kvLED_ACTION_ALL_LEDS_OFF
        self._api.kvFlashLeds(self._read_handle, action, _FLASH_MS)

    def flush_tx_buffer(self) -> None:
        """Wipe out the transmit buffer (``canIOCTL_FLUSH_TX_BUFFER``)."""
        self._check_open("flush_tx_buffer")
        self._api.canIoCtl(self._write_handle, canIOCTL_FLUSH_TX_BUFFER, None, 0)

    def get_stats(self) -> BusStatistics:
        """The bus statistics (``canRequestBusStatistics``, then ``canGetBusStatistics``).

        >>> print(bus.get_stats())  # doctest: +SKIP
        std_data: 0, std_remote: 0, ext_data: 0, ext_remote: 0, err_frame: 0, bus_load: 0.0%, overruns: 0
        """  # noqa: E501 - the manual's output line
        self._check_open("get_stats")
        self._api.canRequestBusStatistics(self._read_handle)
        stats = BusStatistics()
        self._api.canGetBusStatistics(self._read_handle, ctypes.byref(stats), ctypes.sizeof(stats))
        return stats

    def get_error_counters(self) -> ErrorCounters:
        """The transmit and receive error counters and the overrun count
        (``canReadErrorCounters``)."""
        self._check_open("get_error_counters")
        tx, rx, over = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
        self._api.canReadErrorCounters(
            self._read_handle, ctypes.byref(tx), ctypes.byref(rx), ctypes.byref(over)
        )
        return ErrorCounters(tx.value, rx.value, over.value)

    @property
    def state(self) -> BusState:
        """ERROR when the controller is bus-off, PASSIVE when error passive, else ACTIVE
        (``canReadStatus``). Setting ACTIVE takes the channel off and on the bus again, which
        recovers from bus-off, in normal driver mode; setting PASSIVE makes it silent."""
        self._check_open("state")
        flags = ctypes.c_ulong()
        self._api.canReadStatus(self._read_handle, ctypes.byref(flags))
        if flags.value & canSTAT_BUS_OFF:
            return BusState.ERROR
        if flags.value & canSTAT_ERROR_PASSIVE:
            return BusState.PASSIVE
        return BusState.ACTIVE

    @state.setter
    def state(self, new_state: BusState) -> None:
        self._check_open("state")
        if new_state == BusState.ACTIVE:
            for handle in self._handles:
                self._api.canBusOff(handle)
            self._api.canSetBusOutputControl(self._read_handle, canDRIVER_NORMAL)
            for handle in self._handles:
                self._api.canBusOn(handle)
        elif new_state == BusState.PASSIVE:
            self._api.canSetBusOutputControl(self._read_handle, canDRIVER_SILENT)
        else:
            raise ValueError(
                f"Kvaser: the bus state can be set to ACTIVE or PASSIVE, not {new_state}"
            )

    def _check_open(self, what: str) -> None:
        if self._is_shutdown:
            raise CanOperationError(f"cannot {what}: the bus {self.channel_info!r} is shut down")

    # -- life cycle ----------------------------------------------------------------------------

    def _close_handles(self) -> None:
        handles, self._handles = self._handles, []
        self._native = self._native_tx = None
        self._read_handle = self._write_handle = -1
        error: Optional[BaseException] = None
        for handle in reversed(handles):
            try:
                self._api.canBusOff(handle)
            except CANLIBError:
                pass
            try:
                self._api.canClose(handle)
            except CANLIBError as exc:
                error = error or exc
        if error is not None:
            raise error

    def shutdown(self) -> None:
        """Stop periodic tasks, take the channel off the bus and close every handle."""
        try:
            super().shutdown()
        finally:
            self._close_handles()

    @staticmethod
    def _detect_available_configs() -> list[dict[str, Any]]:
        """Every CANlib channel: ``interface``, ``channel``, ``device_name``, ``serial`` and
        ``dongle_channel`` (from 1), as python-can 4.x lists them; empty when CANlib is not
        installed."""
        try:
            api = _get_api()
            count = ctypes.c_int()
            api.canGetNumberOfChannels(ctypes.byref(count))
            configs = []
            for number in range(count.value):
                configs.append(
                    {
                        "interface": "kvaser",
                        "channel": number,
                        "device_name": _channel_text(api, number, canCHANNELDATA_DEVDESCR_ASCII),
                        "serial": _channel_data(
                            api, number, canCHANNELDATA_CARD_SERIAL_NO, ctypes.c_uint64
                        ),
                        "dongle_channel": _channel_data(
                            api, number, canCHANNELDATA_CHAN_NO_ON_CARD, ctypes.c_uint32
                        )
                        + 1,
                    }
                )
            return configs
        except CanError as exc:
            LOG.debug("no Kvaser channels: %s", exc)
            return []
