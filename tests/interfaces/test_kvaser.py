"""The Kvaser CANlib backend (manual section 4.2) against the simulated CANlib
(tests/simlibs/kvaser), loaded through ``CAN_KVASER_LIBRARY`` exactly as the real
``libcanlib.so.1`` would be.

Expected values come from the manual (the ``get_stats()`` text, the arguments and their
defaults), from Kvaser's headers (status codes, flags) and from what the simulated bus was
told to do through simctl / kvsim_get.
"""

from __future__ import annotations

import ctypes
import logging
import os
import pathlib
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import simctl
from bus_contract import BusContract

import can
from can.interfaces.kvaser import canlib as kvcanlib

MANUAL_STATS = (
    "std_data: 0, std_remote: 0, ext_data: 0, ext_remote: 0, err_frame: 0, "
    "bus_load: 0.0%, overruns: 0"
)


class Sim:
    """The simulated CANlib as the tests see it: simctl plus kvsim_get."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self.ctl = simctl.SimControl(path)
        lib = ctypes.CDLL(str(path))
        lib.kvsim_get.restype = ctypes.c_longlong
        lib.kvsim_get.argtypes = [ctypes.c_int, ctypes.c_char_p]
        lib.kvsim_reset.restype = None
        self._lib = lib

    def get(self, key: str, channel: int = 0) -> int:
        return int(self._lib.kvsim_get(channel, key.encode()))

    def reset(self) -> None:
        self.ctl.reset()
        self._lib.kvsim_reset()


@pytest.fixture
def sim(simlib_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    path = simlib_path("kvaser")
    monkeypatch.setenv("CAN_KVASER_LIBRARY", str(path))
    state = Sim(path)
    state.reset()
    yield state
    state.reset()


def _bus(**kwargs: Any) -> can.BusABC:
    kwargs.setdefault("channel", 0)
    return can.Bus(interface="kvaser", **kwargs)


def _ioctl_dword(bus: Any, function: int) -> int:
    word = ctypes.c_uint32()
    bus._api.canIoCtl(bus._read_handle, function, ctypes.byref(word), 4)
    return word.value


# -- the class and its module -------------------------------------------------------------------


def test_the_manual_class_path_resolves() -> None:
    from can.interfaces.kvaser.canlib import KvaserBus
    from can.interfaces.kvaser.structures import BusStatistics

    assert can.interfaces.resolve_interface("kvaser") is KvaserBus
    assert can.interfaces.kvaser.KvaserBus is KvaserBus
    assert can.interfaces.kvaser.BusStatistics is BusStatistics


def test_a_missing_library_is_one_clear_error(
    sim: Sim, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    missing = tmp_path / "libcanlib.so.1"
    monkeypatch.setenv("CAN_KVASER_LIBRARY", str(missing))
    kvcanlib._LIB.reset()
    monkeypatch.setattr(kvcanlib, "_api", None)
    try:
        with pytest.raises(can.CanInitializationError) as info:
            _bus()
        text = str(info.value)
        assert f"CAN_KVASER_LIBRARY={missing}" in text
        assert "Kvaser CANlib" in text and "kvaser.com" in text
        # Without the variable, the Linux SDK's file names are what is looked for.
        monkeypatch.delenv("CAN_KVASER_LIBRARY")
        assert kvcanlib._LIB.candidates() == ["libcanlib.so.1", "libcanlib.so"]
        assert kvcanlib._LIB.names["win32"] == ("canlib32.dll",)
        # Channel detection says nothing is there instead of failing.
        monkeypatch.setenv("CAN_KVASER_LIBRARY", str(missing))
        assert kvcanlib.KvaserBus._detect_available_configs() == []
    finally:
        kvcanlib._LIB.reset()


# -- frames -------------------------------------------------------------------------------------


def test_two_handles_on_a_channel_exchange_frames(sim: Sim) -> None:
    with _bus(single_handle=True) as a, _bus(single_handle=True) as b:
        sent = can.Message(arbitration_id=0x1ABCDE, is_extended_id=True, data=b"\x01\x02\x03")
        a.send(sent)
        got = b.recv(1)
        assert got is not None
        assert (got.arbitration_id, got.is_extended_id, bytes(got.data), got.dlc) == (
            0x1ABCDE,
            True,
            b"\x01\x02\x03",
            3,
        )
        assert got.is_rx and got.channel == 0
        assert isinstance(got.data, bytearray)  # as every other interface gives it
        assert a.recv(0.05) is None  # the sender does not hear itself by default
        a.send(can.Message(arbitration_id=0x7FF, is_extended_id=False, is_remote_frame=True, dlc=5))
        rtr = b.recv(1)
        assert rtr is not None and rtr.is_remote_frame and rtr.dlc == 5 and rtr.data == b""


def test_receive_own_messages_with_two_handles(sim: Sim) -> None:
    with _bus(receive_own_messages=True) as own, _bus() as plain:
        assert sim.ctl.open_ports(0) == 4  # a read and a write handle each
        own.send(can.Message(arbitration_id=0x10, is_extended_id=False, data=b"\x10"))
        echo = own.recv(1)
        assert echo is not None and echo.arbitration_id == 0x10 and not echo.is_rx
        # The manual: with two handles and receive_own_messages=False, the read handle's local
        # echo is off, so frames sent by other handles in this computer are not heard.
        assert plain.recv(0.05) is None
        sim.ctl.inject_frame(0, 0x20, b"\x20")  # another node on the bus
        got = plain.recv(1)
        assert got is not None and got.arbitration_id == 0x20 and got.is_rx
        mine = own.recv(1)
        assert mine is not None and mine.arbitration_id == 0x20 and mine.is_rx


def test_receive_own_messages_with_a_single_handle(sim: Sim) -> None:
    with _bus(single_handle=True, receive_own_messages=True) as a, _bus(single_handle=True) as b:
        assert sim.ctl.open_ports(0) == 2
        a.send(can.Message(arbitration_id=0x33, is_extended_id=False, data=b"\x33"))
        echo = a.recv(1)
        assert echo is not None and echo.arbitration_id == 0x33 and not echo.is_rx
        got = b.recv(1)  # a single handle keeps hearing other applications
        assert got is not None and got.arbitration_id == 0x33 and got.is_rx


def test_send_refuses_what_canlib_refuses(sim: Sim) -> None:
    with _bus(single_handle=True) as a:
        with pytest.raises(kvcanlib.CANLIBOperationError) as info:
            a.send(can.Message(arbitration_id=0x10, is_fd=True, data=bytes(12)))
        assert info.value.error_code == -1  # canERR_PARAM
        assert "canWrite failed: Error in parameter" in str(info.value)
        assert isinstance(info.value, can.CanOperationError)
        for bad_id in (0x800, 2**32 + 0x10, -1):  # too long for 11 bits; would truncate
            with pytest.raises(kvcanlib.CANLIBOperationError) as info:
                a.send(can.Message(arbitration_id=bad_id, is_extended_id=False), timeout=0)
            assert info.value.error_code == -1


# -- filters ------------------------------------------------------------------------------------


def test_one_filter_is_set_in_the_hardware(sim: Sim) -> None:
    with (
        _bus(single_handle=True) as a,
        _bus(
            single_handle=True,
            can_filters=[{"can_id": 0x100, "can_mask": 0x7F0, "extended": False}],
        ) as b,
    ):
        for can_id in (0x101, 0x201, 0x10F, 0x301):
            a.send(can.Message(arbitration_id=can_id, is_extended_id=False))
        time.sleep(0.05)
        # Only the two matching frames took space in the receive queue: the hardware filter.
        assert _ioctl_dword(b, 8) == 2  # canIOCTL_GET_RX_BUFFER_LEVEL
        ids = [m.arbitration_id for m in iter(lambda: b.recv(0.1), None)]
        assert ids == [0x101, 0x10F]


def test_several_filters_are_checked_in_software(sim: Sim) -> None:
    filters = [
        {"can_id": 0x100, "can_mask": 0x7FF, "extended": False},
        {"can_id": 0x18FF0000, "can_mask": 0x1FFF0000, "extended": True},
    ]
    with _bus(single_handle=True) as a, _bus(single_handle=True, can_filters=filters) as b:
        sends = [(0x100, False), (0x101, False), (0x18FF1234, True), (0x100, True)]
        for can_id, ext in sends:
            a.send(can.Message(arbitration_id=can_id, is_extended_id=ext))
        time.sleep(0.05)
        assert _ioctl_dword(b, 8) == 4  # no hardware filter: all four queued
        got = [(m.arbitration_id, m.is_extended_id) for m in iter(lambda: b.recv(0.1), None)]
        assert got == [(0x100, False), (0x18FF1234, True)]


# -- time ---------------------------------------------------------------------------------------


def test_hardware_timestamps_become_host_time(sim: Sim) -> None:
    with _bus(single_handle=True) as b:
        assert _ioctl_dword(b, 12) == kvcanlib.TIMER_SCALE_US  # canIOCTL_GET_TIMER_SCALE
        before = time.time()
        sim.ctl.inject_frame(0, 1)
        time.sleep(0.05)
        sim.ctl.inject_frame(0, 2)
        after = time.time()
        first, second = b.recv(1), b.recv(1)
        assert first is not None and second is not None
        assert before - 0.01 <= first.timestamp <= after + 0.01
        # The device's clock spacing, in 10 us units, survives the conversion.
        assert 0.045 <= second.timestamp - first.timestamp <= 0.2


def test_a_32_bit_timer_is_unwrapped(sim: Sim) -> None:
    with _bus(single_handle=True) as b:
        b._wrap_bits = 32  # as on Windows, where unsigned long has 32 bits
        b._native = None  # ... and the ctypes path receives
        sim.ctl.inject_frame(0, 1)
        first = b.recv(1)
        b._last_raw = 2**32 - 1  # the next reading is smaller: the timer wrapped once
        sim.ctl.inject_frame(0, 2)
        second = b.recv(1)
        assert first is not None and second is not None
        wrap = 2**32 * kvcanlib.TIMER_SCALE_US / 1e6
        assert second.timestamp - first.timestamp == pytest.approx(wrap, abs=1.0)


def test_python_can_4_runs_on_the_simulated_canlib(
    sim: Sim, ref_python: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    # A second client of the simulated library: python-can 4.6.1's own kvaser backend (it
    # loads libcanlib.so by name) exchanges frames on it, and prints the statistics text and
    # the channel list that ours must match.
    script = (
        "import can\n"
        "from can.interfaces.kvaser.canlib import KvaserBus\n"
        "a = can.Bus(interface='kvaser', channel=0, single_handle=True)\n"
        "b = can.Bus(interface='kvaser', channel=0, single_handle=True)\n"
        "print(str(b.get_stats()))\n"
        "a.send(can.Message(arbitration_id=0x123, is_extended_id=False, data=b'\\x01'))\n"
        "m = b.recv(2)\n"
        "print(hex(m.arbitration_id), m.is_extended_id, bytes(m.data).hex())\n"
        "print(b.channel_info)\n"
        "print(sorted(KvaserBus._detect_available_configs()[1].items()))\n"
        "a.shutdown(); b.shutdown()\n"
        "t = can.BitTiming(f_clock=8_000_000, brp=1, tseg1=5, tseg2=2, sjw=1)\n"
        "can.Bus(interface='kvaser', channel=0, timing=t).shutdown()\n"
        "import ctypes\n"
        "get = ctypes.CDLL('libcanlib.so').kvsim_get\n"
        "print(get(0, b'btr0'), get(0, b'btr1'), get(0, b'freq'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CAN_KVASER_LIBRARY")}
    env["LD_LIBRARY_PATH"] = str(sim.path.parent)
    env["PYTHONWARNINGS"] = "ignore"
    proc = subprocess.run(
        [str(ref_python), "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == MANUAL_STATS
    assert lines[1] == "0x123 False 01"
    with _bus(single_handle=True) as bus:
        assert lines[2] == bus.channel_info
        configs = kvcanlib.KvaserBus._detect_available_configs()
        assert lines[3] == str(sorted(configs[1].items()))
    # The same 1 Mbit/s BitTiming reaches canSetBusParamsC200 as the same registers.
    with _bus(single_handle=True, timing=can.BitTiming(8_000_000, 1, 5, 2, 1)):
        assert lines[4] == f"{sim.get('btr0')} {sim.get('btr1')} 1000000"


# -- CAN FD -------------------------------------------------------------------------------------


def test_can_fd_frames_and_bit_rates(sim: Sim) -> None:
    with (
        _bus(single_handle=True, fd=True, bitrate=1_000_000, data_bitrate=4_000_000) as a,
        _bus(single_handle=True, fd=True) as b,
    ):
        assert a.protocol == can.CanProtocol.CAN_FD
        sent = can.Message(
            arbitration_id=0x123,
            is_extended_id=False,
            is_fd=True,
            bitrate_switch=True,
            error_state_indicator=True,
            data=bytes(range(48)),
        )
        a.send(sent)
        got = b.recv(1)
        assert got is not None
        assert (got.is_fd, got.bitrate_switch, got.error_state_indicator) == (True, True, True)
        assert (got.dlc, bytes(got.data)) == (48, bytes(range(48)))
        with _bus(single_handle=True) as classic:
            a.send(sent)
            assert classic.recv(0.05) is None  # a classic handle is not given FD frames


def test_non_iso_can_fd(sim: Sim) -> None:
    with _bus(single_handle=True, fd_non_iso=True) as a, _bus(single_handle=True, fd=True) as b:
        assert a.protocol == can.CanProtocol.CAN_FD_NON_ISO
        a.send(can.Message(arbitration_id=0x5, is_fd=True, data=bytes(20)))
        got = b.recv(1)
        assert got is not None and got.is_fd and got.dlc == 20


def test_fd_bit_rates_reach_the_driver(sim: Sim) -> None:
    with _bus(single_handle=True, fd=True, bitrate=1_000_000, data_bitrate=4_000_000):
        assert (sim.get("freq"), sim.get("data_freq")) == (1_000_000, 4_000_000)
    with _bus(single_handle=True, fd=True, bitrate=500_000):
        # data_bitrate defaults to the arbitration bit rate (the manual).
        assert (sim.get("freq"), sim.get("data_freq")) == (500_000, 500_000)


def test_timing_objects(sim: Sim) -> None:
    # canlib.h: canSetBusParamsC200 takes 82c200 registers on a 16 MHz clock.
    timing = can.BitTiming(f_clock=16_000_000, brp=2, tseg1=5, tseg2=2, sjw=1)  # 1 Mbit/s
    with _bus(single_handle=True, timing=timing):
        assert (sim.get("btr0"), sim.get("btr1")) == (0x01, 0x14) == (timing.btr0, timing.btr1)
        assert sim.get("freq") == 1_000_000
    # Another clock is converted to the 16 MHz one.
    with _bus(single_handle=True, timing=can.BitTiming(8_000_000, 2, 11, 4, 1)):
        assert (sim.get("freq"), sim.get("btr0")) == (250_000, 0x03)
    fd_timing = can.BitTimingFd(
        f_clock=80_000_000,
        nom_brp=2,
        nom_tseg1=63,
        nom_tseg2=16,
        nom_sjw=16,
        data_brp=2,
        data_tseg1=15,
        data_tseg2=4,
        data_sjw=4,
    )
    with _bus(single_handle=True, timing=fd_timing) as bus:
        assert bus.protocol == can.CanProtocol.CAN_FD
        got = [sim.get(k) for k in ("freq", "tseg1", "tseg2", "sjw", "data_freq", "data_tseg1")]
        assert got == [500_000, 63, 16, 16, 2_000_000, 15]
    with pytest.raises(ValueError, match="80000000 Hz"):
        _bus(timing=can.BitTimingFd.from_sample_point(40_000_000, 500_000, 80.0, 2_000_000, 80.0))
    assert sim.ctl.open_ports(0) == 0


def test_the_documented_bit_timing_arguments(sim: Sim) -> None:
    with _bus(single_handle=True, bitrate=250_000, tseg1=13, tseg2=6, sjw=3, no_samp=3):
        got = [sim.get(k) for k in ("freq", "tseg1", "tseg2", "sjw", "nosamp")]
        assert got == [250_000, 13, 6, 3, 3]
    with _bus(single_handle=True, bitrate=500_000, tseg1=11, tseg2=4):
        assert [sim.get(k) for k in ("freq", "tseg1", "tseg2", "sjw")] == [500_000, 11, 4, 1]
    with _bus(single_handle=True, bitrate=125_000):
        assert sim.get("freq") == 125_000  # canBITRATE_125K
    with pytest.raises(ValueError, match="no_samp must be 1 or 3"):
        _bus(no_samp=2)


def test_driver_mode_selects_silent_or_normal(sim: Sim) -> None:
    with _bus(single_handle=True):
        assert sim.get("driver") == 4  # canDRIVER_NORMAL
    with _bus(single_handle=True, driver_mode=False):
        assert sim.get("driver") == 1  # canDRIVER_SILENT


# -- errors, state, recovery --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "code", "text"),
    [
        ({"channel": 9}, -3, "canOpenChannel(9) failed: Specified device or channel not found"),
        ({"channel": 3, "accept_virtual": False}, -3, "needs accept_virtual=True"),
        ({"bitrate": 2_000_000}, -1, "canSetBusParams failed: Error in parameter"),
        ({"bitrate": 500_000, "tseg1": 40, "tseg2": 2}, -1, "canSetBusParams failed"),
    ],
    ids=["no-channel", "virtual", "bitrate", "segments"],
)
def test_opening_errors(sim: Sim, kwargs: dict[str, Any], code: int, text: str) -> None:
    with pytest.raises(kvcanlib.CANLIBInitializationError) as info:
        _bus(**kwargs)
    assert info.value.error_code == code
    assert text in str(info.value)
    assert isinstance(info.value, can.CanInitializationError)
    for channel in range(4):
        assert sim.ctl.open_ports(channel) == 0  # nothing left open


def test_virtual_channels_open_with_accept_virtual(sim: Sim) -> None:
    with _bus(channel=3, single_handle=True) as bus:
        assert bus.channel_info == "Kvaser Virtual CAN Driver, S/N 0 (#2)"


def test_exclusive_open(sim: Sim) -> None:
    with _bus(single_handle=True, exclusive=True):
        with pytest.raises(kvcanlib.CANLIBInitializationError) as info:
            _bus(single_handle=True)
        assert info.value.error_code == -5  # canERR_NOCHANNELS


def test_bus_off_blocks_sending_until_recovered(sim: Sim) -> None:
    with _bus(single_handle=True) as a, _bus(single_handle=True) as b:
        sim.ctl.set_state(0, simctl.PASSIVE, 130, 7)
        assert a.state == can.BusState.PASSIVE
        assert a.get_error_counters() == kvcanlib.ErrorCounters(130, 7, 0)
        sim.ctl.set_state(0, simctl.BUSOFF, 255, 0)
        assert a.state == can.BusState.ERROR
        msg = can.Message(arbitration_id=0x5, is_extended_id=False)
        with pytest.raises(kvcanlib.CANLIBTimeoutError) as info:
            a.send(msg, timeout=0.05)
        assert info.value.error_code == -7 and isinstance(info.value, can.CanOperationError)
        assert isinstance(info.value, can.CanTimeoutError)
        for _ in range(64):  # canWrite queues while bus-off, up to the transmit buffer
            a.send(msg)
        with pytest.raises(kvcanlib.CANLIBOperationError) as full:
            a.send(msg)
        assert full.value.error_code == -13  # canERR_TXBUFOFL
        a.flush_tx_buffer()
        a.send(msg)  # room again
        assert b.recv(0.05) is None
        a.state = can.BusState.ACTIVE  # off bus and on again: the controller recovers
        assert sim.ctl.state(0) == (simctl.ACTIVE, 0, 0)
        assert a.state == can.BusState.ACTIVE
        a.send(msg)
        got = b.recv(1)
        assert got is not None and got.arbitration_id == 0x5


def test_setting_passive_makes_the_channel_silent(sim: Sim) -> None:
    with _bus(single_handle=True) as a:
        a.state = can.BusState.PASSIVE
        assert sim.get("driver") == 1
        a.state = can.BusState.ACTIVE
        assert sim.get("driver") == 4
        with pytest.raises(ValueError, match="ACTIVE or PASSIVE"):
            a.state = can.BusState.ERROR


def test_error_frames(sim: Sim) -> None:
    with _bus(single_handle=True) as b:
        sim.ctl.inject_error(0, 0x0800)  # canMSGERR_STUFF
        got = b.recv(1)
        assert got is not None and got.is_error_frame and got.arbitration_id == 0
        assert b.get_stats().err_frame == 1


def test_overrun_is_reported(sim: Sim, caplog: pytest.LogCaptureFixture) -> None:
    with _bus(single_handle=True) as b:
        for i in range(4100):  # the simulated queue holds 4096
            sim.ctl.inject_frame(0, i & 0x7FF)
        with caplog.at_level(logging.WARNING, logger="can.kvaser"):
            assert b.recv(1) is not None
        assert "overran" in caplog.text
        assert b.get_error_counters().overruns == 1
        assert b.get_stats().overruns == 1


# -- Kvaser's own methods -----------------------------------------------------------------------


def test_get_stats_prints_as_the_manual_shows(sim: Sim) -> None:
    with _bus(single_handle=True) as bus:
        stats = bus.get_stats()
        assert isinstance(stats, can.interfaces.kvaser.structures.BusStatistics)
        assert str(stats) == MANUAL_STATS


def test_get_stats_counts_the_bus_traffic(sim: Sim) -> None:
    with _bus(single_handle=True) as bus:
        sim.ctl.inject_frame(0, 0x1, b"\x01")
        sim.ctl.inject_frame(0, 0x2, b"")
        sim.ctl.inject_frame(0, 0x3, b"", simctl.RTR)
        sim.ctl.inject_frame(0, 0x1234, b"\x01", simctl.EXT)
        sim.ctl.inject_frame(0, 0x1235, b"", simctl.EXT | simctl.RTR)
        sim.ctl.inject_error(0)
        stats = bus.get_stats()
        assert str(stats) == (
            "std_data: 2, std_remote: 1, ext_data: 1, ext_remote: 1, err_frame: 1, "
            "bus_load: 0.0%, overruns: 0"
        )
        assert (stats.std_data, stats.bus_load) == (2, 0.0)


def test_bus_statistics_layout_and_load() -> None:
    stats = can.interfaces.kvaser.BusStatistics()
    assert ctypes.sizeof(stats) == 7 * ctypes.sizeof(ctypes.c_ulong)
    stats.m_busLoad = 1234  # hundredths of a percent
    stats.m_stdData = 7
    assert stats.bus_load == 12.34
    assert "std_data: 7," in str(stats) and "bus_load: 12.3%" in str(stats)


def test_flash(sim: Sim) -> None:
    with _bus(single_handle=True) as bus:
        bus.flash()
        assert (sim.get("leds"), sim.get("led_timeout")) == (0, 30_000)  # ALL_LEDS_ON
        bus.flash(flash=False)
        assert sim.get("leds") == 1  # kvLED_ACTION_ALL_LEDS_OFF


def test_detect_available_configs(sim: Sim) -> None:
    configs = can.detect_available_configs(interfaces=["kvaser"])
    assert configs == [
        {
            "interface": "kvaser",
            "channel": 0,
            "device_name": "Kvaser USBcan Pro 2xHS v2",
            "serial": 10001,
            "dongle_channel": 1,
        },
        {
            "interface": "kvaser",
            "channel": 1,
            "device_name": "Kvaser USBcan Pro 2xHS v2",
            "serial": 10001,
            "dongle_channel": 2,
        },
        {
            "interface": "kvaser",
            "channel": 2,
            "device_name": "Kvaser Virtual CAN Driver",
            "serial": 0,
            "dongle_channel": 1,
        },
        {
            "interface": "kvaser",
            "channel": 3,
            "device_name": "Kvaser Virtual CAN Driver",
            "serial": 0,
            "dongle_channel": 2,
        },
    ]


def test_channel_info(sim: Sim) -> None:
    with _bus(channel=1, single_handle=True) as bus:
        assert bus.channel_info == "Kvaser USBcan Pro 2xHS v2, S/N 10001 (#2)"


# -- life cycle and configuration ---------------------------------------------------------------


def test_shutdown_releases_every_handle(sim: Sim) -> None:
    bus = _bus(channel=1)
    assert sim.ctl.open_ports(1) == 2
    assert sim.get("handles", 1) == 2
    bus.shutdown()
    assert sim.ctl.open_ports(1) == 0 and sim.get("handles", 1) == 0
    bus.shutdown()
    with pytest.raises(can.CanOperationError):
        bus.send(can.Message(arbitration_id=1))
    for method in ("get_stats", "flash", "flush_tx_buffer", "get_error_counters"):
        with pytest.raises(can.CanOperationError, match="shut down"):
            getattr(bus, method)()


def test_a_blocked_recv_ends_when_the_bus_is_shut_down(sim: Sim) -> None:
    import threading

    bus = _bus(single_handle=True)
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            bus.recv(None)
        except can.CanError as exc:
            errors.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.1)
    bus.shutdown()
    waiter.join(5)
    assert not waiter.is_alive()
    assert errors and "shut down" in str(errors[0])


def test_the_manual_config_keys(sim: Sim, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "can.ini"
    path.write_text(
        "[default]\n"
        "interface = kvaser\n"
        "channel = 1\n"
        "bitrate = 250k\n"
        "accept_virtual = false\n"
        "tseg1 = 13\n"
        "tseg2 = 2\n"
        "sjw = 1\n"
        "no_samp = 1\n"
        "driver_mode = false\n"
        "single_handle = true\n"
        "receive_own_messages = true\n"
        "fd = true\n"
        "data_bitrate = 2M\n"
    )
    config = can.util.load_config(path=path)
    assert {k: config[k] for k in kvcanlib.KvaserBus.CONFIG_KEYS if k in config} == {
        "bitrate": 250_000,
        "accept_virtual": False,
        "tseg1": 13,
        "tseg2": 2,
        "sjw": 1,
        "no_samp": 1,
        "driver_mode": False,
        "single_handle": True,
        "receive_own_messages": True,
        "fd": True,
        "data_bitrate": 2_000_000,
    }
    with can.Bus(**config) as bus:
        assert sim.ctl.open_ports(1) == 1  # single_handle
        assert [sim.get(k, 1) for k in ("freq", "tseg1", "tseg2", "data_freq", "driver")] == [
            250_000,
            13,
            2,
            2_000_000,
            1,
        ]
        assert bus.protocol == can.CanProtocol.CAN_FD


def test_bad_arguments_are_typed_errors(sim: Sim) -> None:
    with pytest.raises(ValueError, match="channel must be an integer"):
        _bus(channel="zero")
    with pytest.raises(TypeError, match="timing must be a BitTiming"):
        _bus(timing={"f_clock": 8_000_000})
    assert sim.ctl.open_ports(0) == 0


# -- the generic bus suite ----------------------------------------------------------------------


class TestKvaserContract(BusContract):
    supports_fd = False

    @pytest.fixture(autouse=True)
    def _sim(self, sim: Sim) -> None:
        self.sim = sim

    def open_pair(self, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
        return _bus(single_handle=True, **kwargs), _bus(single_handle=True, **kwargs)


class TestKvaserFdContract(TestKvaserContract):
    supports_fd = True

    def open_pair(self, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
        return super().open_pair(fd=True, data_bitrate=2_000_000, **kwargs)


# -- the native receive helper ------------------------------------------------------------------


def _all_fields(msg: can.Message) -> tuple[Any, ...]:
    return (
        type(msg),
        msg.timestamp,
        msg.arbitration_id,
        msg.is_extended_id,
        msg.is_remote_frame,
        msg.is_error_frame,
        msg.channel,
        msg.dlc,
        type(msg.data),
        bytes(msg.data),
        msg.is_fd,
        msg.is_rx,
        msg.bitrate_switch,
        msg.error_state_indicator,
    )


def _ctypes_decode(bus: Any) -> can.Message:
    """What the ctypes path makes of the frame the last native read left in the buffers: its
    canRead is replaced by one that reports canOK and leaves the buffers as they are."""
    native, read = bus._native, bus._canRead
    bus._native, bus._canRead = None, lambda *args: kvcanlib.canOK
    try:
        msg, _ = bus._recv_internal(0)
    finally:
        bus._native, bus._canRead = native, read
    assert msg is not None
    return msg


def test_native_and_ctypes_receive_give_identical_messages(sim: Sim) -> None:
    sent = [
        can.Message(arbitration_id=0x123, is_extended_id=False, data=b"\x01\x02\x03"),
        can.Message(arbitration_id=0x1ABCDEF0, is_extended_id=True, data=bytes(range(8))),
        can.Message(arbitration_id=0x7FF, is_extended_id=False, data=b""),
        can.Message(arbitration_id=0x10, is_extended_id=False, is_remote_frame=True, dlc=5),
        can.Message(arbitration_id=0x22, is_fd=True, data=bytes(range(12))),
        can.Message(arbitration_id=0x33, is_fd=True, bitrate_switch=True, data=bytes(64)),
        can.Message(arbitration_id=0x44, is_fd=True, error_state_indicator=True, data=b"\xaa"),
    ]
    with (
        _bus(single_handle=True, fd=True, bitrate=1_000_000, data_bitrate=4_000_000,
             receive_own_messages=True) as a,
        _bus(single_handle=True, fd=True) as b,
    ):  # fmt: skip
        assert a._native is not None and b._native is not None  # Linux: the helper is used
        for msg in sent:
            a.send(msg)
        sim.ctl.inject_error(0, 0x0800)  # canMSGERR_STUFF: decoded by the Python code
        for bus, count in ((b, len(sent) + 1), (a, len(sent))):  # a: its own echoes
            for i in range(count):
                got = bus.recv(2)
                assert got is not None
                assert _all_fields(got) == _all_fields(_ctypes_decode(bus))
                if i < len(sent):
                    assert got.is_rx is (bus is b)
                    assert got.arbitration_id == sent[i].arbitration_id
                    assert bytes(got.data) == bytes(sent[i].data)
                else:
                    assert got.is_error_frame


def test_native_receive_waits_without_the_gil(sim: Sim) -> None:
    import threading

    with _bus(single_handle=True) as a, _bus(single_handle=True) as b:
        assert b._native is not None
        assert b.recv(0) is None and b.recv(0.02) is None
        timer = threading.Timer(0.05, a.send, [can.Message(arbitration_id=0x55, data=b"\x05")])
        timer.start()  # runs only if recv lets other threads have the GIL while it waits
        got = b.recv(5)
        timer.join()
        assert got is not None and got.arbitration_id == 0x55


def test_the_ctypes_receive_path_stays_available(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAN_VENDOR_NATIVE_RX", "0")
    with _bus(single_handle=True) as a, _bus(single_handle=True) as b:
        assert b._native is None
        a.send(can.Message(arbitration_id=0x66, data=b"\x06"))
        got = b.recv(2)
        assert got is not None and got.arbitration_id == 0x66 and bytes(got.data) == b"\x06"


def test_native_and_ctypes_send_put_the_same_frames_on_the_bus(sim: Sim) -> None:
    messages = [
        can.Message(arbitration_id=0x123, is_extended_id=False, data=b"\x01\x02\x03"),
        can.Message(arbitration_id=0x1ABCDEF0, is_extended_id=True, data=bytes(range(8))),
        can.Message(arbitration_id=0x10, is_extended_id=False, is_remote_frame=True, dlc=5),
        can.Message(arbitration_id=0x22, is_fd=True, bitrate_switch=True, data=bytes(range(12))),
        can.Message(arbitration_id=0x44, is_fd=True, error_state_indicator=True, data=bytes(64)),
    ]
    with (
        _bus(single_handle=True, fd=True, bitrate=1_000_000, data_bitrate=4_000_000) as a,
        _bus(single_handle=True, fd=True) as b,
    ):
        assert a._native_tx is not None  # Linux: the helper is used
        got = {}
        for path in ("native", "ctypes"):
            if path == "ctypes":
                a._native_tx = None
            for msg in messages:
                a.send(msg)
            got[path] = [_all_fields(m)[2:] for m in (b.recv(2) for _ in messages) if m]
        assert got["native"] == got["ctypes"] and len(got["native"]) == len(messages)
        for (arbitration_id, *_rest), msg in zip(got["native"], messages):
            assert arbitration_id == msg.arbitration_id


def test_native_send_refuses_what_canlib_refuses(sim: Sim) -> None:
    with _bus(single_handle=True) as a:
        assert a._native_tx is not None
        too_big = can.Message(arbitration_id=0x2000_0000, is_extended_id=True, check=False)
        with pytest.raises(kvcanlib.CANLIBOperationError) as exc:
            a.send(too_big)
        assert exc.value.error_code == -1  # canERR_PARAM
