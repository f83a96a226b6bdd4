"""The Vector interface (manual section 4.11) against the simulated XL Driver Library
(tests/simlibs/vector), loaded through CAN_VECTOR_LIBRARY exactly as the real vxlapi64.dll is
loaded on Windows.

Expected values: the manual's arguments and config example; status codes, flags and layouts of
Vector's public vxlapi.h (the simulated library's header cites it); the simulated devices'
documented configuration (tests/simlibs/vector/vxlapi_sim.c: VN1630 pairs, serial 1001 + i/2).
"""

from __future__ import annotations

import ctypes
import logging
import pathlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
import simctl
from bus_contract import BusContract

import can
from can import Message

XL_ERR_QUEUE_IS_FULL = 11
XL_ERR_TX_NOT_POSSIBLE = 12
XL_ERR_NO_LICENSE = 14
XL_ERR_WRONG_PARAMETER = 101
XL_ERR_INVALID_CHAN_INDEX = 111
XL_ERR_INVALID_PORT = 118
XL_ERR_HW_NOT_PRESENT = 129
XL_ERR_CANNOT_OPEN_DRIVER = 201
XL_CHIPSTAT_BUSOFF, XL_CHIPSTAT_ERROR_PASSIVE, XL_CHIPSTAT_ERROR_ACTIVE = 0x01, 0x02, 0x08
XL_HWTYPE_VN1630 = 57


class SimVector(simctl.SimControl):
    """simctl plus the simulated XL library's own test hooks."""

    def __init__(self, path: pathlib.Path) -> None:
        super().__init__(path)
        lib = self._lib
        lib.simvector_fail.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
        lib.simvector_layout.argtypes = [ctypes.c_char_p]
        lib.simvector_layout.restype = ctypes.c_long
        lib.simvector_reset.restype = None

    def fail(self, function: str, status: int, times: int = 1) -> None:
        assert self._lib.simvector_fail(function.encode(), status, times) == 0

    def clear_failures(self) -> None:
        self._lib.simvector_fail(None, 0, 0)

    def layout(self, what: str) -> int:
        return int(self._lib.simvector_layout(what.encode()))

    def xl_ports(self) -> int:
        return int(self._lib.simvector_open_xl_ports())

    def driver_refs(self) -> int:
        return int(self._lib.simvector_driver_refs())

    def popups(self) -> int:
        return int(self._lib.simvector_popups())

    def reset(self) -> None:
        self._lib.simvector_reset()


@pytest.fixture(scope="module")
def vector_path(simlib_path: Any) -> pathlib.Path:
    return pathlib.Path(simlib_path("vector"))


@pytest.fixture
def sim(vector_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimVector]:
    monkeypatch.setenv("CAN_VECTOR_LIBRARY", str(vector_path))
    control = SimVector(vector_path)
    control.reset()
    yield control
    control.reset()


def _recv(bus: can.BusABC, timeout: float = 2.0) -> Message:
    msg = bus.recv(timeout)
    assert msg is not None, "nothing received"
    return msg


# -- the module, the library ---------------------------------------------------------------------


def test_both_module_paths_name_one_class() -> None:
    import can.interfaces.vector as vector
    from can.interfaces.vector import canlib

    assert vector.VectorBus is canlib.VectorBus
    assert vector.VectorError is canlib.VectorError
    assert can.interfaces.resolve_interface("vector") is vector.VectorBus
    # The manual: VectorError(error_code, error_string, function), a CanError.
    err = vector.VectorError(118, "XL_ERR_INVALID_PORT", "xlCanTransmit")
    assert isinstance(err, can.CanError)
    assert (err.error_code, err.error_string, err.function) == (
        118,
        "XL_ERR_INVALID_PORT",
        "xlCanTransmit",
    )
    assert str(err) == "xlCanTransmit failed (XL_ERR_INVALID_PORT) [Error Code 118]"


def test_a_missing_library_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    from can.interfaces.vector import xldriver

    xldriver.reset()
    try:
        missing = tmp_path / "vxlapi64.dll"
        monkeypatch.setenv("CAN_VECTOR_LIBRARY", str(missing))
        with pytest.raises(can.CanInitializationError) as info:
            can.Bus(interface="vector", channel=0)
        assert f"CAN_VECTOR_LIBRARY={missing}" in str(info.value)
        monkeypatch.delenv("CAN_VECTOR_LIBRARY")
        monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))
        with pytest.raises(can.CanInitializationError) as info:
            can.Bus(interface="vector", channel=0)
        text = str(info.value)
        assert "Vector XL Driver" in text and "CAN_VECTOR_LIBRARY" in text
        assert "libvxlapi64.so" in text
        assert "exists for Windows only" in text
        # Nothing else broke: discovery says "nothing" instead of raising.
        assert can.interfaces.vector.VectorBus._detect_available_configs() == []
    finally:
        xldriver.reset()


def test_ctypes_layouts_match_the_library(sim: SimVector) -> None:
    import struct

    from can.interfaces.vector import xlclass

    checks = {
        "XLevent": ctypes.sizeof(xlclass.XLevent),
        "XLevent.timeStamp": xlclass.XLevent.timeStamp.offset,
        "XLevent.tagData": xlclass.XLevent.tagData.offset,
        "XLcanTxEvent": ctypes.sizeof(xlclass.XLcanTxEvent),
        "XLcanRxEvent": ctypes.sizeof(xlclass.XLcanRxEvent),
        "XLcanRxEvent.timeStampSync": xlclass.XLcanRxEvent.timeStampSync.offset,
        "XLcanRxEvent.tagData": xlclass.XLcanRxEvent.tagData.offset,
        "XL_CAN_EV_RX_MSG.data": xlclass.XL_CAN_EV_RX_MSG.data.offset,
        "XLcanFdConf": ctypes.sizeof(xlclass.XLcanFdConf),
        "XLchipParams": ctypes.sizeof(xlclass.XLchipParams),
        "XLbusParams": ctypes.sizeof(xlclass.XLbusParams),
        "XLchannelConfig": ctypes.sizeof(xlclass.XLchannelConfig),
        "XLchannelConfig.channelMask": xlclass.XLchannelConfig.channelMask.offset,
        "XLchannelConfig.busParams": xlclass.XLchannelConfig.busParams.offset,
        "XLchannelConfig.serialNumber": xlclass.XLchannelConfig.serialNumber.offset,
        "XLchannelConfig.transceiverName": xlclass.XLchannelConfig.transceiverName.offset,
        "XLdriverConfig": ctypes.sizeof(xlclass.XLdriverConfig),
        "XLdriverConfig.channel": xlclass.XLdriverConfig.channel.offset,
    }
    assert {k: sim.layout(k) for k in checks} == checks
    # vxlapi.h's own comments: XLevent 48 bytes, an XLcanRxEvent at most 128 with a 32 byte
    # header; the struct formats the hot paths use agree.
    assert checks["XLevent"] == 48 == struct.calcsize(xlclass.XLEVENT_FORMAT)
    assert checks["XLcanTxEvent"] == struct.calcsize(xlclass.XLCANTXEVENT_FORMAT)
    assert checks["XLcanRxEvent"] == 128 and checks["XLcanRxEvent.tagData"] == 32
    assert checks["XL_CAN_EV_RX_MSG.data"] + 32 == struct.calcsize(xlclass.XLCANRXEVENT_HEAD_FORMAT)


# -- frames ----------------------------------------------------------------------------------------


def test_two_handles_on_one_channel_exchange_frames(sim: SimVector) -> None:
    with (
        can.Bus(interface="vector", channel=0, bitrate=500_000) as a,
        can.Bus(interface="vector", channel=0) as b,
    ):
        frames = [
            Message(arbitration_id=0x123, is_extended_id=False, data=b"\x01\x02"),
            Message(arbitration_id=0x1ABCDEF, is_extended_id=True, data=bytes(range(8))),
            Message(arbitration_id=0x7, is_extended_id=False, is_remote_frame=True, dlc=5),
        ]
        for msg in frames:
            a.send(msg)
        for sent in frames:
            got = _recv(b)
            assert (got.arbitration_id, got.is_extended_id, got.is_remote_frame, got.dlc) == (
                sent.arbitration_id,
                sent.is_extended_id,
                sent.is_remote_frame,
                sent.dlc,
            )
            assert bytes(got.data) == (b"" if sent.is_remote_frame else bytes(sent.data))
            assert got.channel == 0 and got.is_rx and not got.is_fd
        assert a.recv(0) is None  # no echo unless asked for
        assert a.channel_info == "Application CANalyzer: CAN 1"


@pytest.mark.parametrize("channel", [[0, 1], "0, 1", "0,1"])
def test_the_manuals_channel_forms(sim: SimVector, channel: Any) -> None:
    with can.Bus(interface="vector", channel=channel) as bus:
        assert bus.channels == [0, 1]  # type: ignore[attr-defined]
        sim.inject_frame(1, 0x11, b"\x01")
        sim.inject_frame(0, 0x10, b"\x00")
        got = sorted((m.channel, m.arbitration_id) for m in (_recv(bus), _recv(bus)))
        assert got == [(0, 0x10), (1, 0x11)]
        with can.Bus(interface="vector", channel=1) as other:
            bus.send(Message(arbitration_id=5, is_extended_id=False, channel=1))
            assert _recv(other).arbitration_id == 5
            bus.send(Message(arbitration_id=6, is_extended_id=False, channel=0))
            bus.send(Message(arbitration_id=7, is_extended_id=False))  # every channel
            assert _recv(other).arbitration_id == 7


@pytest.mark.parametrize("bad", ["", "a", [0, 0], [-1], 1.5, [True]])
def test_bad_channels_are_value_or_type_errors(sim: SimVector, bad: Any) -> None:
    with pytest.raises((ValueError, TypeError), match="channel"):
        can.Bus(interface="vector", channel=bad)
    assert sim.xl_ports() == 0


def test_receive_own_messages(sim: SimVector) -> None:
    # Transmit receipts are the port's own setting: with or without init access.
    with (
        can.Bus(interface="vector", channel=0, receive_own_messages=True) as a,
        can.Bus(interface="vector", channel=0, receive_own_messages=True) as b,
        can.Bus(interface="vector", channel=0) as c,
    ):
        a.send(Message(arbitration_id=0x21, is_extended_id=False, data=b"a"))
        own = _recv(a)
        assert (own.arbitration_id, own.is_rx) == (0x21, False)
        assert _recv(b).is_rx and _recv(c).is_rx
        b.send(Message(arbitration_id=0x22, is_extended_id=False, data=b"b"))
        own = _recv(b)
        assert (own.arbitration_id, own.is_rx, bytes(own.data)) == (0x22, False, b"b")
        assert _recv(a).arbitration_id == 0x22 and _recv(c).arbitration_id == 0x22
        c.send(Message(arbitration_id=0x23, is_extended_id=False))
        assert _recv(a).arbitration_id == 0x23 and _recv(b).arbitration_id == 0x23
        assert c.recv(0.05) is None


def test_error_frames(sim: SimVector) -> None:
    with can.Bus(interface="vector", channel=0) as bus:
        sim.inject_error(0, 1, b"\x00\x01")
        got = _recv(bus)
        assert got.is_error_frame and got.channel == 0 and got.dlc == 0


# -- time ------------------------------------------------------------------------------------------


def test_timestamps_are_host_time_with_device_resolution(sim: SimVector) -> None:
    with can.Bus(interface="vector", channel=0) as bus:
        before = time.time()
        sim.inject_frame(0, 1)
        time.sleep(0.02)
        sim.inject_frame(0, 2)
        after = time.time()
        first, second = _recv(bus), _recv(bus)
        assert before - 0.01 <= first.timestamp < second.timestamp <= after + 0.01
        assert 0.019 <= second.timestamp - first.timestamp < 0.2


def test_recv_timeout_and_poll_interval_validation(sim: SimVector) -> None:
    with can.Bus(interface="vector", channel=0, poll_interval=0.05) as bus:
        assert bus.poll_interval == 0.05  # type: ignore[attr-defined]
        start = time.perf_counter()
        assert bus.recv(0.1) is None
        assert 0.09 <= time.perf_counter() - start < 1.0
    with pytest.raises(ValueError, match="poll_interval"):
        can.Bus(interface="vector", channel=0, poll_interval=0)


# -- filters ---------------------------------------------------------------------------------------


def test_one_filter_is_set_in_hardware(sim: SimVector) -> None:
    # A queue of 16 events: if 40 rejected frames took queue space, the matching frame
    # behind them would be lost (and an overrun reported).
    with (
        can.Bus(interface="vector", channel=0) as tx,
        can.Bus(
            interface="vector",
            channel=0,
            rx_queue_size=16,
            can_filters=[{"can_id": 0x100, "can_mask": 0x7F0, "extended": False}],
        ) as rx,
    ):
        for i in range(40):
            tx.send(Message(arbitration_id=0x200 + i, is_extended_id=False))
            tx.send(Message(arbitration_id=0x100, is_extended_id=True))
        tx.send(Message(arbitration_id=0x10A, is_extended_id=False, data=b"\x01"))
        got = _recv(rx)
        assert (got.arbitration_id, got.is_extended_id) == (0x10A, False)
        assert rx.recv(0.05) is None


def test_a_malformed_filter_leaves_nothing_open(sim: SimVector) -> None:
    with pytest.raises((ValueError, TypeError)):
        can.Bus(interface="vector", channel=0, can_filters=[{"can_mask": 0x7FF}])
    assert sim.xl_ports() == 0 and sim.open_ports(0) == 0 and sim.driver_refs() == 0


def test_several_filters_fall_back_to_software(sim: SimVector) -> None:
    filters = [
        {"can_id": 0x100, "can_mask": 0x7FF, "extended": False},
        {"can_id": 0x18FF0000, "can_mask": 0x1FFF0000, "extended": True},
        {"can_id": 0x300, "can_mask": 0x700},
    ]
    with (
        can.Bus(interface="vector", channel=0) as tx,
        can.Bus(interface="vector", channel=0, can_filters=filters) as rx,
    ):
        sent = [(0x100, False), (0x101, False), (0x18FF1234, True), (0x18FE0000, True),
                (0x3AB, False), (0x3AB, True), (0x4AB, True)]  # fmt: skip
        for ident, ext in sent:
            tx.send(Message(arbitration_id=ident, is_extended_id=ext))
        kept = []
        while (m := rx.recv(0.1)) is not None:
            kept.append((m.arbitration_id, m.is_extended_id))
        assert kept == [(0x100, False), (0x18FF1234, True), (0x3AB, False), (0x3AB, True)]


# -- CAN FD ----------------------------------------------------------------------------------------


def test_fd_frames_with_every_length(sim: SimVector) -> None:
    with (
        can.Bus(interface="vector", channel=1, fd=True, bitrate=500_000, data_bitrate=2_000_000)
        as a,
        can.Bus(interface="vector", channel=1, fd=True) as b,
    ):  # fmt: skip
        assert a.protocol == can.CanProtocol.CAN_FD
        for length in (0, 1, 8, 12, 16, 20, 24, 32, 48, 64):
            a.send(
                Message(
                    arbitration_id=0x123, is_extended_id=False, is_fd=True,
                    bitrate_switch=length % 16 == 0, data=bytes(range(length)),
                )
            )  # fmt: skip
            got = _recv(b)
            assert got.is_fd and got.dlc == length and bytes(got.data) == bytes(range(length))
            assert got.bitrate_switch == (length % 16 == 0)
        # A classic frame on an FD bus; an FD frame with ESI from another node.
        a.send(Message(arbitration_id=0x5, is_extended_id=True, data=b"\x05"))
        got = _recv(b)
        assert not got.is_fd and got.is_extended_id and bytes(got.data) == b"\x05"
        sim.inject_frame(1, 0x6, bytes(12), simctl.FD | simctl.ESI)
        got = _recv(b)
        assert got.is_fd and got.error_state_indicator and got.dlc == 12
        sim.inject_error(1, 6)
        assert _recv(b).is_error_frame
        # The driver configuration shows what the first handle set.
        (config,) = [c for c in can.interfaces.vector.get_channel_configs() if c.channel_index == 1]
        assert config.bus_params is not None
        assert (config.bus_params.canfd.bitrate, config.bus_params.canfd.data_bitrate) == (
            500_000,
            2_000_000,
        )
        assert (config.bus_params.canfd.sjw_abr, config.bus_params.canfd.tseg1_abr) == (2, 6)


def test_a_classic_bus_refuses_fd_frames_and_does_not_see_them(sim: SimVector) -> None:
    with (
        can.Bus(interface="vector", channel=0, fd=True) as fd,
        can.Bus(interface="vector", channel=0) as classic,
    ):
        with pytest.raises(can.CanOperationError, match="fd=True"):
            classic.send(Message(arbitration_id=1, is_fd=True, data=bytes(12)))
        fd.send(Message(arbitration_id=2, is_fd=True, data=bytes(12)))
        fd.send(Message(arbitration_id=3, is_extended_id=False, data=b"\x03"))
        assert _recv(classic).arbitration_id == 3


def test_fd_segments_by_the_manuals_names_and_by_timing(sim: SimVector) -> None:
    with can.Bus(
        interface="vector", channel=0, fd=True, bitrate=250_000, data_bitrate=1_000_000,
        sjwAbr=4, tseg1Abr=20, tseg2Abr=11, sjwDbr=3, tseg1Dbr=9, tseg2Dbr=5,
    ):  # fmt: skip
        (config,) = [c for c in can.interfaces.vector.get_channel_configs() if c.channel_index == 0]
        assert config.bus_params is not None
        p = config.bus_params.canfd
        assert (p.bitrate, p.data_bitrate, p.sjw_abr, p.tseg1_abr, p.tseg2_abr) == (
            250_000, 1_000_000, 4, 20, 11,
        )  # fmt: skip
        assert (p.sjw_dbr, p.tseg1_dbr, p.tseg2_dbr) == (3, 9, 5)
    timing = can.BitTimingFd.from_sample_point(
        f_clock=80_000_000, nom_bitrate=500_000, nom_sample_point=80.0,
        data_bitrate=2_000_000, data_sample_point=80.0,
    )  # fmt: skip
    with can.Bus(interface="vector", channel=0, timing=timing) as bus:
        assert bus.protocol == can.CanProtocol.CAN_FD
        (config,) = [c for c in can.interfaces.vector.get_channel_configs() if c.channel_index == 0]
        assert config.bus_params is not None
        p = config.bus_params.canfd
        assert (p.bitrate, p.data_bitrate) == (500_000, 2_000_000)
        assert (p.tseg1_abr, p.tseg2_abr, p.sjw_abr) == (
            timing.nom_tseg1,
            timing.nom_tseg2,
            timing.nom_sjw,
        )
    classic = can.BitTiming(f_clock=16_000_000, brp=2, tseg1=11, tseg2=4, sjw=3)
    with can.Bus(interface="vector", channel=0, timing=classic) as bus:
        assert bus.protocol == can.CanProtocol.CAN_20
        (config,) = [c for c in can.interfaces.vector.get_channel_configs() if c.channel_index == 0]
        assert config.bus_params is not None
        c = config.bus_params.can
        assert (c.bitrate, c.tseg1, c.tseg2, c.sjw) == (500_000, 11, 4, 3)
    with pytest.raises(TypeError, match="timing"):
        can.interfaces.vector.VectorBus(0, timing=500_000)  # type: ignore[arg-type]


def test_a_shared_channel_keeps_the_first_handles_bitrate(sim: SimVector) -> None:
    with can.Bus(interface="vector", channel=0, bitrate=250_000):
        with can.Bus(interface="vector", channel=0, bitrate=250_000):
            pass
        with pytest.raises(can.CanInitializationError, match="runs at 250000 bit/s, not 500000"):
            can.Bus(interface="vector", channel=0, bitrate=500_000)
        with pytest.raises(can.CanInitializationError, match="not CAN FD"):
            can.Bus(interface="vector", channel=0, fd=True)
    assert sim.xl_ports() == 0 and sim.driver_refs() == 0


# -- rx_queue_size, overrun ------------------------------------------------------------------------


def test_rx_queue_size_bounds_the_queue(sim: SimVector, caplog: pytest.LogCaptureFixture) -> None:
    with (
        can.Bus(interface="vector", channel=0) as tx,
        can.Bus(interface="vector", channel=0, rx_queue_size=16) as rx,
    ):
        for i in range(20):
            tx.send(Message(arbitration_id=i, is_extended_id=False))
        with caplog.at_level(logging.WARNING, logger="can.vector"):
            ids = [_recv(rx).arbitration_id for _ in range(16)]
        assert ids == list(range(16))
        assert rx.recv(0.05) is None
        assert "receive queue overflowed" in caplog.text


@pytest.mark.parametrize(
    "kwargs",
    [{"rx_queue_size": 15}, {"rx_queue_size": 65536}, {"rx_queue_size": 100},
     {"rx_queue_size": 4096, "fd": True}, {"rx_queue_size": 2**20, "fd": True}],
)  # fmt: skip
def test_rx_queue_size_range_from_the_manual(sim: SimVector, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="rx_queue_size"):
        can.Bus(interface="vector", channel=0, **kwargs)
    assert sim.xl_ports() == 0


# -- application configuration, serial numbers, discovery -----------------------------------------


def test_the_manuals_config_file_example(sim: SimVector, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "can.ini"
    # Manual 4.11: "connecting to CAN 1 and CAN 2 for an application named python-can".
    path.write_text("[default]\ninterface = vector\nchannel = 0, 1\napp_name = python-can\n")
    config = can.util.load_config(path=str(path))
    assert config["app_name"] == "python-can"
    # Not yet assigned in Vector Hardware Config: one clear error that says what to do.
    with pytest.raises(can.interfaces.vector.VectorInitializationError) as info:
        can.Bus(**config)
    assert info.value.error_code == XL_ERR_INVALID_CHAN_INDEX
    assert "'python-can' has no CAN channel 0" in str(info.value)
    assert "set_application_config" in str(info.value)
    assert sim.xl_ports() == 0 and sim.driver_refs() == 0
    # Assign CAN 1 and CAN 2 to the second device's channels (global 2 and 3).
    VectorBus = can.interfaces.vector.VectorBus
    VectorBus.set_application_config("python-can", 0, XL_HWTYPE_VN1630, 1, 0)
    VectorBus.set_application_config("python-can", 1, XL_HWTYPE_VN1630, 1, 1)
    assert VectorBus.get_application_config("python-can", 1) == (XL_HWTYPE_VN1630, 1, 1)
    with can.Bus(**config) as bus:
        assert bus.channel_info == "Application python-can: CAN 1, CAN 2"
        sim.inject_frame(3, 0x33)
        got = _recv(bus)
        assert (got.arbitration_id, got.channel) == (0x33, 1)


def test_config_file_keys_get_their_types(sim: SimVector, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "can.ini"
    path.write_text(
        "[default]\ninterface = vector\nchannel = 0\napp_name = CANalyzer\nserial = 1001\n"
        "rx_queue_size = 8192\npoll_interval = 0.02\nfd = true\nbitrate = 500k\n"
        "data_bitrate = 2M\nsjwAbr = 4\ntseg1_dbr = 9\nreceive_own_messages = false\n"
    )
    config = can.util.load_config(path=str(path))
    expected = {"serial": 1001, "rx_queue_size": 8192, "poll_interval": 0.02, "fd": True,
                "bitrate": 500_000, "data_bitrate": 2_000_000, "sjwAbr": 4, "tseg1_dbr": 9,
                "app_name": "CANalyzer", "receive_own_messages": False}  # fmt: skip
    assert {k: config[k] for k in expected} == expected
    with can.Bus(**config) as bus:
        assert bus.protocol == can.CanProtocol.CAN_FD


def test_app_name_none_takes_global_channel_indexes(sim: SimVector) -> None:
    with can.Bus(interface="vector", channel=3, app_name=None) as bus:
        assert bus.channel_info == "Vector VN1630 Channel 2"
        sim.inject_frame(3, 0x3)
        assert _recv(bus).arbitration_id == 0x3
    with pytest.raises(can.CanInitializationError, match="channel 9 is no CAN channel"):
        can.Bus(interface="vector", channel=9, app_name=None)


def test_serial_number_selects_the_device(sim: SimVector) -> None:
    # Device 1002 holds global channels 2 and 3; channel 1 is its second.
    with can.Bus(interface="vector", channel=1, serial=1002, app_name="ignored") as bus:
        sim.inject_frame(3, 0x44)
        sim.inject_frame(1, 0x45)
        got = _recv(bus)
        assert (got.arbitration_id, got.channel) == (0x44, 1)
        assert bus.recv(0.05) is None
    with pytest.raises(can.CanInitializationError, match="serial number 4711 has no CAN"):
        can.Bus(interface="vector", channel=0, serial=4711)


def test_detect_available_configs_from_the_driver(sim: SimVector) -> None:
    configs = can.detect_available_configs("vector")
    assert [(c["channel"], c["serial"], c["channel_index"]) for c in configs] == [
        (0, 1001, 0), (1, 1001, 1), (0, 1002, 2), (1, 1002, 3),
    ]  # fmt: skip
    assert all(c["interface"] == "vector" and c["supports_fd"] for c in configs)
    assert configs[2]["vector_channel_config"].name == "VN1630 Channel 1"
    # Each entry opens the channel it describes.
    with can.Bus(**{k: configs[3][k] for k in ("interface", "channel", "serial")}) as bus:
        sim.inject_frame(3, 0x77)
        assert _recv(bus).arbitration_id == 0x77
    assert sim.driver_refs() == 0


def test_popup_vector_hw_configuration(sim: SimVector) -> None:
    can.interfaces.vector.VectorBus.popup_vector_hw_configuration(10)
    assert sim.popups() == 1


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "status", "name"),
    [
        ("xlOpenDriver", XL_ERR_CANNOT_OPEN_DRIVER, "XL_ERR_CANNOT_OPEN_DRIVER"),
        ("xlGetDriverConfig", XL_ERR_HW_NOT_PRESENT, "XL_ERR_HW_NOT_PRESENT"),
        ("xlOpenPort", XL_ERR_NO_LICENSE, "XL_ERR_NO_LICENSE"),
        ("xlCanSetChannelBitrate", XL_ERR_WRONG_PARAMETER, "XL_ERR_WRONG_PARAMETER"),
        ("xlSetNotification", XL_ERR_INVALID_PORT, "XL_ERR_INVALID_PORT"),
        ("xlActivateChannel", XL_ERR_HW_NOT_PRESENT, "XL_ERR_HW_NOT_PRESENT"),
    ],
)
def test_opening_errors_are_initialization_errors_and_leak_nothing(
    sim: SimVector, function: str, status: int, name: str
) -> None:
    sim.fail(function, status)
    with pytest.raises(can.interfaces.vector.VectorInitializationError) as info:
        can.Bus(interface="vector", channel=0, bitrate=500_000)
    err = info.value
    assert isinstance(err, can.CanInitializationError)
    assert (err.error_code, err.error_string, err.function) == (status, name, function)
    assert str(err) == f"{function} failed ({name}) [Error Code {status}]"
    assert sim.xl_ports() == 0 and sim.open_ports(0) == 0 and sim.driver_refs() == 0


def test_listen_only_sets_the_silent_output_mode(sim: SimVector) -> None:
    # The simulated transceiver has no silent mode to observe; a refusal proves the call.
    sim.fail("xlCanSetChannelOutput", XL_ERR_WRONG_PARAMETER)
    with pytest.raises(can.interfaces.vector.VectorInitializationError) as info:
        can.Bus(interface="vector", channel=0, listen_only=True)
    assert info.value.function == "xlCanSetChannelOutput"
    with can.Bus(interface="vector", channel=0, listen_only=True) as bus:
        assert bus.recv(0) is None
    assert sim.xl_ports() == 0


def test_a_bitrate_the_library_refuses(sim: SimVector) -> None:
    with pytest.raises(can.interfaces.vector.VectorInitializationError) as info:
        can.Bus(interface="vector", channel=0, bitrate=2_000_000)
    assert info.value.error_code == XL_ERR_WRONG_PARAMETER


def test_operation_errors(sim: SimVector) -> None:
    with can.Bus(interface="vector", channel=0) as bus:
        sim.fail("xlCanTransmit", XL_ERR_TX_NOT_POSSIBLE)
        with pytest.raises(can.interfaces.vector.VectorOperationError) as info:
            bus.send(Message(arbitration_id=1, is_extended_id=False))
        assert isinstance(info.value, can.CanOperationError)
        assert (info.value.error_code, info.value.function) == (12, "xlCanTransmit")
        sim.fail("xlReceive", XL_ERR_INVALID_PORT)
        with pytest.raises(can.interfaces.vector.VectorOperationError, match="xlReceive failed"):
            bus.recv(0)
        # A full transmit queue is retried until the timeout.
        sim.fail("xlCanTransmit", XL_ERR_QUEUE_IS_FULL, times=3)
        bus.send(Message(arbitration_id=2, is_extended_id=False), timeout=1.0)
        sim.fail("xlCanTransmit", XL_ERR_QUEUE_IS_FULL, times=1000)
        start = time.perf_counter()
        with pytest.raises(can.interfaces.vector.VectorOperationError) as info:
            bus.send(Message(arbitration_id=3, is_extended_id=False), timeout=0.05)
        assert info.value.error_code == XL_ERR_QUEUE_IS_FULL
        assert 0.04 <= time.perf_counter() - start < 1.0
        sim.clear_failures()
        bus.flush_tx_buffer()
        for function, call in (
            ("xlCanFlushTransmitQueue", bus.flush_tx_buffer),
            ("xlCanRequestChipState", lambda: bus.state),
            ("xlDeactivateChannel", bus.reset),  # type: ignore[attr-defined]
        ):
            sim.fail(function, XL_ERR_INVALID_PORT)
            with pytest.raises(can.interfaces.vector.VectorOperationError) as info:
                call()
            assert (info.value.error_code, info.value.function) == (XL_ERR_INVALID_PORT, function)
    with can.Bus(interface="vector", channel=0, fd=True) as bus:
        sim.fail("xlCanTransmitEx", XL_ERR_WRONG_PARAMETER)
        with pytest.raises(can.interfaces.vector.VectorOperationError, match="xlCanTransmitEx"):
            bus.send(Message(arbitration_id=1, is_fd=True))
        sim.fail("xlCanReceive", XL_ERR_INVALID_PORT)
        with pytest.raises(can.interfaces.vector.VectorOperationError, match="xlCanReceive"):
            bus.recv(0)


# -- bus state -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fd", [False, True])
def test_state_error_counters_and_bus_off_recovery(sim: SimVector, fd: bool) -> None:
    with (
        can.Bus(interface="vector", channel=2, fd=fd) as bus,
        can.Bus(interface="vector", channel=2, fd=fd) as peer,
    ):
        sim.inject_frame(2, 0x1)  # frames read while asking for the state are kept
        assert bus.state == can.BusState.ACTIVE
        assert bus.chip_state == (XL_CHIPSTAT_ERROR_ACTIVE, 0, 0)  # type: ignore[attr-defined]
        assert _recv(bus).arbitration_id == 0x1
        assert _recv(peer).arbitration_id == 0x1
        sim.set_state(2, simctl.PASSIVE, 135, 7)
        assert bus.state == can.BusState.PASSIVE
        assert bus.chip_state == (XL_CHIPSTAT_ERROR_PASSIVE, 135, 7)  # type: ignore[attr-defined]
        sim.set_state(2, simctl.BUSOFF, 255, 0)
        assert bus.state == can.BusState.ERROR
        with pytest.raises(can.interfaces.vector.VectorOperationError) as info:
            bus.send(Message(arbitration_id=1, is_extended_id=False))
        assert info.value.error_code == XL_ERR_TX_NOT_POSSIBLE
        peer.reset()  # type: ignore[attr-defined]  # no init access: restarts nothing
        assert bus.state == can.BusState.ERROR
        bus.reset()  # type: ignore[attr-defined]
        assert bus.state == can.BusState.ACTIVE
        bus.send(Message(arbitration_id=2, is_extended_id=False))
        assert _recv(peer).arbitration_id == 2


# -- shutdown --------------------------------------------------------------------------------------


def test_shutdown_releases_every_handle(sim: SimVector) -> None:
    a = can.Bus(interface="vector", channel=[0, 1])
    b = can.Bus(interface="vector", channel=2, fd=True)
    assert [sim.open_ports(i) for i in range(4)] == [1, 1, 1, 0]
    assert sim.xl_ports() == 2 and sim.driver_refs() == 2
    a.shutdown()
    assert [sim.open_ports(i) for i in range(4)] == [0, 0, 1, 0] and sim.xl_ports() == 1
    a.shutdown()
    b.shutdown()
    assert sim.open_ports(2) == 0 and sim.xl_ports() == 0 and sim.driver_refs() == 0
    with pytest.raises(can.CanOperationError):
        a.send(Message(arbitration_id=1))
    with pytest.raises(can.CanOperationError):
        b.recv(0)


def test_shutdown_while_another_thread_waits_in_recv(sim: SimVector) -> None:
    import threading

    bus = can.Bus(interface="vector", channel=0)
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            bus.recv(10)
        except BaseException as exc:
            errors.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.1)
    start = time.perf_counter()
    bus.shutdown()
    waiter.join(5)
    assert not waiter.is_alive() and time.perf_counter() - start < 3
    assert len(errors) == 1 and isinstance(errors[0], can.CanOperationError), errors
    assert sim.xl_ports() == 0


def test_fileno_wakes_a_select(sim: SimVector) -> None:
    import select

    with can.Bus(interface="vector", channel=0) as bus:
        fd = bus.fileno()
        assert select.select([fd], [], [], 0)[0] == []
        sim.inject_frame(0, 0x9)
        assert select.select([fd], [], [], 1)[0] == [fd]
        assert _recv(bus).arbitration_id == 0x9


# -- the generic suite -----------------------------------------------------------------------------


class TestVectorContract(BusContract):
    @pytest.fixture(autouse=True)
    def _sim(self, sim: SimVector) -> None:
        pass

    def open_pair(self, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
        a = can.Bus(interface="vector", channel=0, **kwargs)
        b = can.Bus(interface="vector", channel=0, **kwargs)
        return a, b


class TestVectorFdContract(BusContract):
    supports_fd = True

    @pytest.fixture(autouse=True)
    def _sim(self, sim: SimVector) -> None:
        pass

    def open_pair(self, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
        options = {"fd": True, "rx_queue_size": 2**19, **kwargs}
        a = can.Bus(interface="vector", channel=0, bitrate=500_000, data_bitrate=2_000_000,
                    **options)  # fmt: skip
        b = can.Bus(interface="vector", channel=0, **options)
        return a, b


def test_positional_arguments_in_either_pythons_order(sim: SimVector) -> None:
    """3.3.2's order (bitrate fifth, the manual's) and 4.x's (timing fifth) both work."""
    from can.interfaces.vector import VectorBus

    def canfd_params() -> Any:
        (config,) = [c for c in can.interfaces.vector.get_channel_configs() if c.channel_index == 0]
        assert config.bus_params is not None
        return config.bus_params

    # 3.3.2: channel, can_filters, poll_interval, receive_own_messages, bitrate, rx_queue_size,
    # app_name, serial, fd, data_bitrate
    with VectorBus(0, None, 0.01, False, 250_000, 16384, "CANalyzer", None, True, 1_000_000):
        p = canfd_params().canfd
        assert (p.bitrate, p.data_bitrate) == (250_000, 1_000_000)
    # 4.x: ... receive_own_messages, timing, bitrate, rx_queue_size
    with VectorBus(0, None, 0.01, False, None, 125_000, 16384):
        assert canfd_params().can.bitrate == 125_000
    with pytest.raises(TypeError, match="multiple values for argument 'bitrate'"):
        VectorBus(0, None, 0.01, False, 500_000, bitrate=250_000)
    with pytest.raises(TypeError, match="at most"):
        VectorBus(0, None, 0.01, False, *range(1, 20))
    assert sim.xl_ports() == 0
