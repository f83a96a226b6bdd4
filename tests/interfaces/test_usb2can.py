"""The USB2CAN interface (manual section 4.7) against a simulated driver library
(tests/simlibs/usb2can: the CANAL API of canal.h over simcore) and, for the serial-number
lookup, a stand-in for pywin32's WMI access (tests/standins/win32com)."""

from __future__ import annotations

import pathlib
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import simctl
from bus_contract import BusContract

import can
from can import Message
from can.interfaces.usb2can import CanalError, Usb2canBus, find_serial_devices
from can.interfaces.usb2can import usb2canabstractionlayer as canal

ROOT = pathlib.Path(__file__).resolve().parents[2]
STANDINS = ROOT / "tests" / "standins"
A, B = "ED000100", "ED000200"  # the simulated adapters


@pytest.fixture
def sim(simlib_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[simctl.SimControl]:
    path = simlib_path("usb2can")
    monkeypatch.setenv("CAN_USB2CAN_LIBRARY", str(path))
    monkeypatch.delenv("SIMCAN_USB2CAN_WRAP", raising=False)
    for lib in canal._libraries.values():
        lib.reset()
    control = simctl.SimControl(path)
    control.set_state(0, simctl.ACTIVE)
    yield control
    assert control.open_ports(0) == 0
    control.set_state(0, simctl.ACTIVE)


@pytest.fixture
def wmi(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(STANDINS))
    for name in ("win32com", "win32com.client"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import win32com.client as client

    monkeypatch.setattr(client, "pnp_ids", [])
    return client


def test_frames_between_two_adapters(sim: simctl.SimControl) -> None:
    a = can.Bus(interface="usb2can", channel=A, bitrate=250000)
    b = can.Bus(interface="usb2can", channel=B, bitrate=250000)
    with a, b:
        sent = [
            Message(arbitration_id=0x123, is_extended_id=False, data=b"\x01\x02\x03\x04"),
            Message(arbitration_id=0x1ABCDEF0, is_extended_id=True, data=bytes(range(8))),
            Message(arbitration_id=0x7FF, is_extended_id=False, is_remote_frame=True, dlc=6),
        ]
        for msg in sent:
            a.send(msg)
        got = [b.recv(1) for _ in sent]
        assert b.get_statistics()["cntReceiveFrames"] == 3
        assert a.get_statistics()["cntTransmitFrames"] == 3
        assert a.get_statistics()["cntTransmitData"] == 12
    for s, g in zip(sent, got):
        assert g is not None
        assert (g.arbitration_id, g.is_extended_id, g.is_remote_frame, g.dlc, g.channel) == (
            s.arbitration_id,
            s.is_extended_id,
            s.is_remote_frame,
            s.dlc,
            B,
        )
        # Data shorter than 8 bytes stays short (the manual's note on sizeData).
        assert bytes(g.data) == (b"" if s.is_remote_frame else bytes(s.data))


def test_serial_as_keyword_and_blocking_send(sim: simctl.SimControl) -> None:
    with Usb2canBus(serial=A) as a, Usb2canBus(B) as b:
        a.send(Message(arbitration_id=5, data=b"\x05"), timeout=0.5)
        got = b.recv(1)
        assert got is not None and got.arbitration_id == 5


def test_the_serial_number_lookup(sim: simctl.SimControl, wmi: Any) -> None:
    wmi.pnp_ids[:] = [
        "USB\\VID_046D&PID_C52B\\5&1234",  # a mouse
        "USB\\VID_0483&PID_1234\\ED000200",
        "USB\\VID_0483&PID_1234\\ED000100XYZ",
    ]
    assert find_serial_devices() == ["ED000200", "ED000100"]
    assert Usb2canBus._detect_available_configs() == [
        {"interface": "usb2can", "channel": "ED000200"},
        {"interface": "usb2can", "channel": "ED000100"},
    ]
    with can.Bus(interface="usb2can") as bus:  # no channel: the first adapter found
        assert bus.channel == "ED000200"


def test_no_adapter_found(sim: simctl.SimControl, wmi: Any) -> None:
    with pytest.raises(can.CanInitializationError, match="no USB2CAN adapter found"):
        can.Bus(interface="usb2can")


def test_without_pywin32_nothing_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "win32com", None)
    monkeypatch.setitem(sys.modules, "win32com.client", None)
    assert find_serial_devices() == []


@pytest.mark.parametrize(
    ("channel", "bitrate", "why"),
    [("ED999999", 500000, "attached"), (A, 300000, "rate")],
)
def test_open_failures(sim: simctl.SimControl, channel: str, bitrate: int, why: str) -> None:
    with pytest.raises(
        can.CanInitializationError, match=f"cannot open the USB2CAN adapter {channel}"
    ):
        Usb2canBus(channel, bitrate=bitrate)


def test_an_adapter_opens_once(sim: simctl.SimControl) -> None:
    with Usb2canBus(A):
        with pytest.raises(can.CanInitializationError):
            Usb2canBus(A)


def test_a_bitrate_that_is_not_whole_kbits(sim: simctl.SimControl) -> None:
    with pytest.raises(ValueError, match="whole number of kbit/s"):
        Usb2canBus(A, bitrate=83333)


def test_a_missing_library(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.setenv("CAN_USB2CAN_LIBRARY", str(tmp_path / "usb2can.dll"))
    for lib in canal._libraries.values():
        lib.reset()
    try:
        with pytest.raises(
            can.CanInitializationError,
            match=r"USB2CAN \(CANAL\) library could not be loaded.*8devices",
        ):
            Usb2canBus(A)
    finally:
        for lib in canal._libraries.values():
            lib.reset()


def test_hardware_timestamps_in_host_time_across_a_counter_wrap(sim: simctl.SimControl) -> None:
    with Usb2canBus(A) as bus:
        # Counter values as the driver gives them: increasing, then wrapping past the top.
        top = 1 << (8 * __import__("ctypes").sizeof(__import__("ctypes").c_ulong))
        stamps = [bus._timestamp(raw) for raw in (top - 2_000_000, top - 1_000_000, 500_000)]
        assert stamps[1] - stamps[0] == pytest.approx(1.0)
        assert stamps[2] - stamps[1] == pytest.approx(1.5)
    with Usb2canBus(A) as a, Usb2canBus(B) as b:
        before = time.time()
        t1 = time.monotonic()
        a.send(Message(arbitration_id=1))
        t1_end = time.monotonic()
        time.sleep(0.05)
        t2 = time.monotonic()
        a.send(Message(arbitration_id=2))
        t2_end = time.monotonic()
        first, second = b.recv(1), b.recv(1)
        assert first is not None and second is not None
        assert before - 0.5 <= first.timestamp <= time.time() + 0.5
        gap = second.timestamp - first.timestamp
        assert t2 - t1_end - 0.002 <= gap <= t2_end - t1 + 0.002


def test_status_indications_bus_state_and_bus_off(sim: simctl.SimControl) -> None:
    with Usb2canBus(A) as bus:
        assert bus.state == can.BusState.ACTIVE
        sim.set_state(0, simctl.PASSIVE, 128, 0)
        assert bus.state == can.BusState.PASSIVE
        sim.inject_error(0)
        msg = bus.recv(1)
        assert msg is not None and msg.is_error_frame
        assert bytes(msg.data) == bytes([canal.CANAL_STATUSMSG_BUSHEAVY])
        sim.set_state(0, simctl.BUSOFF, 255, 0)
        with pytest.raises(CanalError, match="CanalSend failed: bus off") as info:
            bus.send(Message(arbitration_id=1))
        assert info.value.error_code == 2
        assert isinstance(info.value, can.CanOperationError)
        assert bus.state == can.BusState.ERROR
        assert bus.get_statistics()["cntBusOff"] == 1
        sim.set_state(0, simctl.ACTIVE)
        bus.send(Message(arbitration_id=1))
        assert bus.state == can.BusState.ACTIVE


def test_refused_frames(sim: simctl.SimControl) -> None:
    with Usb2canBus(A) as bus:
        with pytest.raises(ValueError, match="classic CAN"):
            bus.send(Message(arbitration_id=1, is_fd=True, data=bytes(16)))
        with pytest.raises(CanalError, match="invalid CAN id"):
            bus.send(Message(arbitration_id=0x800, is_extended_id=False))


def test_config_file(sim: simctl.SimControl, tmp_path: pathlib.Path) -> None:
    cfg = tmp_path / "can.ini"
    cfg.write_text(
        f"[default]\ninterface = usb2can\nchannel = {B}\nbitrate = 125000\nflags = 0x8\n"
    )
    config = can.util.load_config(path=str(cfg))
    assert config["flags"] == 8 and config["bitrate"] == 125000
    with can.Bus(**config) as bus:
        assert bus.channel_info == f"USB2CAN {B}"


def test_shutdown_closes_once(sim: simctl.SimControl) -> None:
    bus = Usb2canBus(A)
    assert sim.open_ports(0) == 1
    bus.shutdown()
    bus.shutdown()
    assert sim.open_ports(0) == 0
    with pytest.raises(can.CanOperationError):
        bus.get_statistics()


class TestUsb2canContract(BusContract):
    """The generic bus suite over two simulated adapters on one bus."""

    burst = 1000

    @pytest.fixture(autouse=True)
    def _sim(self, sim: simctl.SimControl) -> None:
        pass

    def open_pair(self, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
        return Usb2canBus(A, **kwargs), Usb2canBus(B, **kwargs)
