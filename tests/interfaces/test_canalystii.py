"""The CANalyst-II interface (manual section 4.13) against a simulated ControlCAN library
(tests/simlibs/canalystii: ControlCAN.h's functions over simcore; two devices, two channels)."""

from __future__ import annotations

import pathlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
import simctl
from bus_contract import BusContract

import can
from can import Message
from can.interfaces import canalystii
from can.interfaces.canalystii import TIMINGS, CANalystIIBus


@pytest.fixture
def sim(simlib_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[simctl.SimControl]:
    path = simlib_path("canalystii")
    monkeypatch.setenv("CAN_CANALYSTII_LIBRARY", str(path))
    canalystii.LIBRARY.reset()
    control = simctl.SimControl(path)
    for ch in (0, 1):
        control.set_state(ch, simctl.ACTIVE)
    yield control
    assert control.open_ports(0) == 0 and control.open_ports(1) == 0
    for ch in (0, 1):
        control.set_state(ch, simctl.ACTIVE)
    canalystii.LIBRARY.reset()


@pytest.mark.parametrize("rate", sorted(TIMINGS))
def test_the_timing_table_gives_its_bit_rates(rate: int) -> None:
    # Independent check of each register pair: the SJA1000 arithmetic of can.BitTiming at the
    # adapter's 8 MHz CAN clock.
    btr0, btr1 = TIMINGS[rate]
    computed = can.BitTiming.from_registers(f_clock=8_000_000, btr0=btr0, btr1=btr1).bitrate
    assert abs(computed - rate) / rate < 0.002


def test_the_manuals_signature(sim: simctl.SimControl) -> None:
    a = can.Bus(interface="canalystii", channel=0, device=0, baud=500000)
    b = can.Bus(interface="canalystii", channel=0, device=1, Timing0=0x00, Timing1=0x1C)
    with a, b:
        assert isinstance(a, CANalystIIBus)
        a.send(Message(arbitration_id=0x123, is_extended_id=False, data=b"\x01\x02"))
        got = b.recv(1)
        assert got is not None and got.arbitration_id == 0x123 and got.channel == 0


def test_frames_of_every_kind(sim: simctl.SimControl) -> None:
    a = CANalystIIBus(0, device=0, bitrate=250000)
    b = CANalystIIBus(0, device=1, bitrate=250000)
    with a, b:
        sent = [
            Message(arbitration_id=0x7FF, is_extended_id=False, data=bytes(range(8))),
            Message(arbitration_id=0x1ABCDEF0, is_extended_id=True, data=b"\xaa"),
            Message(arbitration_id=0x10, is_extended_id=False, is_remote_frame=True, dlc=7),
            Message(arbitration_id=0x11, is_extended_id=False, data=b""),
        ]
        for msg in sent:
            a.send(msg)
        got = [b.recv(1) for _ in sent]
    for s, g in zip(sent, got):
        assert g is not None
        assert (g.arbitration_id, g.is_extended_id, g.is_remote_frame, g.dlc) == (
            s.arbitration_id,
            s.is_extended_id,
            s.is_remote_frame,
            s.dlc,
        )
        assert bytes(g.data) == (b"" if s.is_remote_frame else bytes(s.data))


def test_both_channels_of_one_bus(sim: simctl.SimControl) -> None:
    both = CANalystIIBus("0, 1", device=0, bitrate=500000)
    other = CANalystIIBus([0, 1], device=1, bitrate=500000)
    with both, other:
        assert both.channels == [0, 1]
        other.send(Message(arbitration_id=1, channel=1, data=b"\x01"))
        other.send(Message(arbitration_id=2, channel=0, data=b"\x00"))
        got = sorted((m.channel, m.arbitration_id) for m in (both.recv(1), both.recv(1)) if m)
        assert got == [(0, 2), (1, 1)]


def test_hardware_timestamps(sim: simctl.SimControl) -> None:
    a, b = CANalystIIBus(0, device=0, baud=500000), CANalystIIBus(0, device=1, baud=500000)
    with a, b:
        before = time.time()
        t1 = time.monotonic()
        a.send(Message(arbitration_id=1))
        t1_end = time.monotonic()
        time.sleep(0.05)
        t2 = time.monotonic()
        a.send(Message(arbitration_id=2))
        t2_end = time.monotonic()
        time.sleep(0.05)  # read late: the stamps must still be the arrival times
        first, second = b.recv(1), b.recv(1)
        assert first is not None and second is not None
        assert before - 0.5 <= first.timestamp <= time.time() + 0.5
        gap = second.timestamp - first.timestamp
        assert t2 - t1_end - 0.002 <= gap <= t2_end - t1 + 0.002
        # The 32-bit counter of 0.1 ms ticks wraps after ~4.97 days; stamps go on increasing.
        t1 = b._timestamp(2**32 - 10, 3)
        t2 = b._timestamp(5, 3)
        assert t2 - t1 == pytest.approx(15 * 1e-4, abs=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "give the bit rate"),
        ({"baud": 300000}, "no timing for 300000"),
        ({"baud": 500000, "bitrate": 250000}, "disagree"),
        ({"Timing0": 0x100, "Timing1": 0x1C}, "0..255"),
        ({"timing": can.BitTiming(f_clock=16_000_000, brp=2, tseg1=13, tseg2=2, sjw=1)}, "8 MHz"),
    ],
)
def test_bad_timing_arguments(sim: simctl.SimControl, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CANalystIIBus(0, **kwargs)


def test_a_bit_timing_object(sim: simctl.SimControl) -> None:
    timing = can.BitTiming.from_registers(f_clock=8_000_000, btr0=0x01, btr1=0x1C)
    with (
        CANalystIIBus(0, device=0, timing=timing) as a,
        CANalystIIBus(0, device=1, baud=250000) as b,
    ):
        a.send(Message(arbitration_id=3))
        assert b.recv(1) is not None


@pytest.mark.parametrize("channel", [2, "0, 0", [], "x", [0, 5]])
def test_bad_channels(channel: Any) -> None:
    with pytest.raises(ValueError, match="channels are 0 and 1"):
        CANalystIIBus(channel, baud=500000)


def test_device_errors(sim: simctl.SimControl) -> None:
    with pytest.raises(can.CanInitializationError, match="cannot open CANalyst-II device 7"):
        CANalystIIBus(0, device=7, baud=500000)
    with CANalystIIBus(0, baud=500000):
        with pytest.raises(can.CanInitializationError, match="the device is already open"):
            CANalystIIBus(1, baud=500000)
    with pytest.raises(can.CanInitializationError, match="Timing1=0x00: the command failed"):
        CANalystIIBus(0, Timing0=0, Timing1=0)


def test_a_missing_library(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.setenv("CAN_CANALYSTII_LIBRARY", str(tmp_path / "libcontrolcan.so"))
    canalystii.LIBRARY.reset()
    try:
        with pytest.raises(can.CanInitializationError, match=r"ControlCAN \(CANalyst-II\) library"):
            CANalystIIBus(0, baud=500000)
    finally:
        canalystii.LIBRARY.reset()


def test_bus_state_and_bus_off(sim: simctl.SimControl) -> None:
    with CANalystIIBus(0, baud=500000) as bus:
        assert bus.state == can.BusState.ACTIVE
        sim.set_state(0, simctl.PASSIVE, 140, 3)
        assert bus.state == can.BusState.PASSIVE
        sim.set_state(0, simctl.BUSOFF, 255, 0)
        assert bus.state == can.BusState.ERROR
        with pytest.raises(
            can.CanOperationError, match="did not take the frame: CAN controller bus error"
        ):
            bus.send(Message(arbitration_id=1))
        sim.set_state(0, simctl.ACTIVE)
        bus.send(Message(arbitration_id=1))
        assert bus.state == can.BusState.ACTIVE


def test_flush_tx_buffer(sim: simctl.SimControl) -> None:
    a, b = CANalystIIBus(0, device=0, baud=500000), CANalystIIBus(0, device=1, baud=500000)
    with a, b:
        for i in range(5):
            a.send(Message(arbitration_id=i))
        time.sleep(0.01)
        b.flush_tx_buffer()  # the driver's ClearBuffer drops what waits in the device
        assert b.recv(0.05) is None


def test_refused_frames(sim: simctl.SimControl) -> None:
    with CANalystIIBus(0, baud=500000) as bus:
        with pytest.raises(ValueError, match="classic CAN"):
            bus.send(Message(arbitration_id=1, is_fd=True, data=bytes(12)))
        with pytest.raises(can.CanOperationError, match="the command failed"):
            bus.send(Message(arbitration_id=0x800, is_extended_id=False))


def test_config_file(sim: simctl.SimControl, tmp_path: pathlib.Path) -> None:
    cfg = tmp_path / "can.ini"
    cfg.write_text("[default]\ninterface = canalystii\nchannel = 1\ndevice = 1\nbaud = 125k\n")
    config = can.util.load_config(path=str(cfg))
    assert (config["channel"], config["device"], config["baud"]) == (1, 1, 125000)
    with can.Bus(**config) as bus:
        assert bus.channel_info == "CANalyst-II device 1 channel(s) 1"


def test_shutdown_releases_the_device(sim: simctl.SimControl) -> None:
    bus = CANalystIIBus([0, 1], baud=500000)
    assert sim.open_ports(0) == 1 and sim.open_ports(1) == 1
    bus.shutdown()
    bus.shutdown()
    assert sim.open_ports(0) == 0 and sim.open_ports(1) == 0
    with CANalystIIBus(0, baud=500000):  # the device can be opened again
        pass


class TestCANalystIIContract(BusContract):
    """The generic bus suite over channel 0 of two simulated devices."""

    burst = 1000

    @pytest.fixture(autouse=True)
    def _sim(self, sim: simctl.SimControl) -> None:
        pass

    def open_pair(self, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
        kwargs.setdefault("baud", 500000)
        return CANalystIIBus(0, device=0, **kwargs), CANalystIIBus(0, device=1, **kwargs)
