"""The IXXAT interface (manual section 4.5) against a simulated VCI V3 library
(tests/simlibs/ixxat: the VCI C-API over simcore; two devices, controller n of both on one bus)."""

from __future__ import annotations

import ctypes
import pathlib
import pickle
import time
from collections.abc import Iterator
from typing import Any

import pytest
import simctl
from bus_contract import BusContract

import can
from can import BusState, Message
from can.interfaces.ixxat import (
    CyclicSendTask,
    IXXATBus,
    VCIBusOffError,
    VCIDeviceNotFoundError,
    VCIError,
    vci,
)


@pytest.fixture
def sim(simlib_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[simctl.SimControl]:
    path = simlib_path("ixxat")
    monkeypatch.setenv("CAN_IXXAT_LIBRARY", str(path))
    vci.LIBRARY.reset()
    control = simctl.SimControl(path)
    for ch in (0, 1):
        control.set_state(ch, simctl.ACTIVE)
    yield control
    assert control.open_ports(0) == 0 and control.open_ports(1) == 0
    for ch in (0, 1):
        control.set_state(ch, simctl.ACTIVE)
    vci.LIBRARY.reset()


def _pair(**kwargs: Any) -> tuple[IXXATBus, IXXATBus]:
    return (
        IXXATBus(0, unique_hardware_id="HW000001", **kwargs),
        IXXATBus(0, unique_hardware_id="HW000002", **kwargs),
    )


def test_the_manuals_configuration_file(sim: simctl.SimControl, tmp_path: pathlib.Path) -> None:
    cfg = tmp_path / "can.ini"
    cfg.write_text("[default]\ninterface = ixxat\nchannel = 0\n")
    with can.Bus(**can.util.load_config(path=str(cfg))) as bus:
        assert isinstance(bus, IXXATBus)
        assert bus.hardware_id == "HW000001"  # the first device found
        assert bus.extended is False  # the manual's default
        assert bus.channel_info == "IXXAT HW000001 CAN 0"


def test_the_manuals_optional_keys(sim: simctl.SimControl, tmp_path: pathlib.Path) -> None:
    cfg = tmp_path / "can.ini"
    cfg.write_text(
        "[default]\ninterface = ixxat\nchannel = 1\nbitrate = 250000\n"
        "UniqueHardwareId = HW000002\nrxFifoSize = 32\ntxFifoSize = 8\nextended = True\n"
    )
    config = can.util.load_config(path=str(cfg))
    assert (config["rxFifoSize"], config["txFifoSize"], config["extended"]) == (32, 8, True)
    with can.Bus(**config) as bus:
        assert bus.hardware_id == "HW000002" and bus.channel == 1 and bus.extended


def test_frames_between_two_devices(sim: simctl.SimControl) -> None:
    a, b = _pair(extended=True)
    with a, b:
        sent = [
            Message(arbitration_id=0x7FF, is_extended_id=False, data=bytes(range(8))),
            Message(arbitration_id=0x1ABCDEF0, is_extended_id=True, data=b"\x01"),
            Message(arbitration_id=0x22, is_extended_id=False, is_remote_frame=True, dlc=4),
        ]
        before = time.time()
        spans = []
        for msg in sent:
            start = time.monotonic()
            a.send(msg)
            spans.append((start, time.monotonic()))
            time.sleep(0.01)
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
    assert got[0] is not None and got[2] is not None
    assert before - 0.5 <= got[0].timestamp <= time.time() + 0.5
    # the stamps are the sends' spacing (1 us ticks), however long the sleeps really took
    gap = got[2].timestamp - got[0].timestamp
    assert spans[2][0] - spans[0][1] - 0.002 <= gap <= spans[2][1] - spans[0][0] + 0.002


def test_extended_ids_are_received_only_in_extended_mode(sim: simctl.SimControl) -> None:
    a, b = _pair()  # extended=False, the manual's default
    with a, b, IXXATBus(1, unique_hardware_id="HW000002", extended=True) as c:
        a.send(Message(arbitration_id=0x100000, is_extended_id=True))  # sending works
        sim.inject_frame(0, 0x1ABCDEF, b"\x01", simctl.EXT)
        assert b.recv(0.1) is None  # the controller does not receive 29-bit ids
        sim.inject_frame(1, 0x1ABCDEF, b"\x01", simctl.EXT)
        got = c.recv(1)
        assert got is not None and got.arbitration_id == 0x1ABCDEF


def test_own_messages(sim: simctl.SimControl) -> None:
    a, b = _pair(receive_own_messages=True)
    with a, b:
        a.send(Message(arbitration_id=0x42, is_extended_id=False, data=b"\x42"))
        own, other = a.recv(1), b.recv(1)
        assert own is not None and not own.is_rx and own.arbitration_id == 0x42
        assert other is not None and other.is_rx


def test_filters_are_a_whitelist_in_the_controller(sim: simctl.SimControl) -> None:
    filters = [
        {"can_id": 0x100, "can_mask": 0x7F0, "extended": False},
        {"can_id": 0x18FF0000, "can_mask": 0x1FFF0000, "extended": True},
    ]
    a = IXXATBus(0, unique_hardware_id="HW000001", extended=True)
    b = IXXATBus(0, unique_hardware_id="HW000002", extended=True, can_filters=filters)
    with a, b:
        for arb, ext in ((0x105, False), (0x205, False), (0x18FF1234, True), (0x18FE1234, True)):
            a.send(Message(arbitration_id=arb, is_extended_id=ext))
        a.send(Message(arbitration_id=0x10A, is_extended_id=False, is_remote_frame=True, dlc=1))
        kept = []
        while (msg := b.recv(0.1)) is not None:
            kept.append(msg.arbitration_id)
        assert kept == [0x105, 0x18FF1234, 0x10A]  # remote frames pass: RTR is don't-care


def test_native_cyclic_transmit(sim: simctl.SimControl) -> None:
    a, b = _pair()
    with a, b:
        task = a.send_periodic(
            Message(arbitration_id=0x99, is_extended_id=False, data=b"\x09"), 0.01
        )
        assert isinstance(task, CyclicSendTask)  # the device's list, not a host timer
        stamps = []
        deadline = time.monotonic() + 2
        while len(stamps) < 10 and time.monotonic() < deadline:
            if (msg := b.recv(0.5)) is not None and msg.arbitration_id == 0x99:
                stamps.append(msg.timestamp)
        task.stop()
        assert len(stamps) == 10
        gaps = [y - x for x, y in zip(stamps, stamps[1:])]
        assert sum(gaps) / len(gaps) == pytest.approx(0.01, abs=0.003)
        time.sleep(0.05)
        while b.recv(0.02) is not None:
            pass
        assert b.recv(0.1) is None  # stopped in the device


def test_cyclic_with_duration_uses_the_repeat_count(sim: simctl.SimControl) -> None:
    a, b = _pair()
    with a, b:
        task = a.send_periodic(
            Message(arbitration_id=0x98, is_extended_id=False), 0.01, duration=0.05
        )
        assert isinstance(task, CyclicSendTask) and task._repeat == 5
        count = 0
        while (msg := b.recv(0.3)) is not None:
            count += msg.arbitration_id == 0x98
        assert count == 5


def test_cyclic_falls_back_to_the_timer_loop(sim: simctl.SimControl) -> None:
    a, b = _pair()
    with a, b:
        msgs = [Message(arbitration_id=0x97, is_extended_id=False, data=[i]) for i in range(2)]
        task = a.send_periodic(msgs, 0.01)
        assert isinstance(task, can.broadcastmanager.ThreadBasedCyclicSendTask)
        task.stop()
        task = a.send_periodic(msgs[0], 0.01, modifier_callback=lambda m: None)
        assert isinstance(task, can.broadcastmanager.ThreadBasedCyclicSendTask)
        task.stop()


def test_error_frames_state_and_bus_off(sim: simctl.SimControl) -> None:
    a, b = _pair()
    with a, b:
        assert b.state == BusState.ACTIVE
        sim.set_state(0, simctl.PASSIVE, 130, 0)
        sim.inject_error(0)
        msg = b.recv(1)
        assert msg is not None and msg.is_error_frame and msg.data[0] == 7  # CAN_ERROR_OTHER
        assert b.state == BusState.PASSIVE
        sim.set_state(0, simctl.BUSOFF, 255, 0)
        with pytest.raises(VCIBusOffError, match="bus off") as info:
            a.send(Message(arbitration_id=1))
        assert isinstance(info.value, VCIError) and isinstance(info.value, can.CanOperationError)
        sim.set_state(0, simctl.ACTIVE)
        a.send(Message(arbitration_id=1, is_extended_id=False))
        assert b.recv(1) is not None


def test_device_errors(sim: simctl.SimControl) -> None:
    with pytest.raises(
        VCIDeviceNotFoundError, match="HW999999 found \\(found: HW000001, HW000002\\)"
    ):
        IXXATBus(0, unique_hardware_id="HW999999")
    with pytest.raises(VCIError, match="One or more arguments are invalid") as info:
        IXXATBus(5)
    assert isinstance(info.value, can.CanInitializationError)
    assert info.value.error_code == vci.VCI_E_INVALIDARG


def test_a_second_bus_on_a_controlled_controller(sim: simctl.SimControl) -> None:
    first = IXXATBus(0, unique_hardware_id="HW000001", bitrate=125000)
    with first:
        # The controller is someone else's: the second bus uses it as it is set up.
        with IXXATBus(0, unique_hardware_id="HW000001") as second:
            third = IXXATBus(0, unique_hardware_id="HW000002", bitrate=125000)
            with third:
                third.send(Message(arbitration_id=5, is_extended_id=False))
                assert first.recv(1) is not None and second.recv(1) is not None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"bitrate": 33333}, "no predefined timing"), ({"rxFifoSize": 0}, "rx_fifo_size")],
)
def test_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        IXXATBus(0, **kwargs)


def test_a_missing_library(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.setenv("CAN_IXXAT_LIBRARY", str(tmp_path / "vcinpl.dll"))
    vci.LIBRARY.reset()
    try:
        with pytest.raises(
            can.CanInitializationError, match="IXXAT VCI library could not be loaded"
        ):
            IXXATBus(0)
        assert IXXATBus._detect_available_configs() == []
    finally:
        vci.LIBRARY.reset()


def test_detect_available_configs(sim: simctl.SimControl) -> None:
    assert IXXATBus._detect_available_configs() == [
        {"interface": "ixxat", "channel": 0, "unique_hardware_id": "HW000001"},
        {"interface": "ixxat", "channel": 0, "unique_hardware_id": "HW000002"},
    ]


def test_structure_sizes_match_the_headers() -> None:
    assert ctypes.sizeof(vci.CanMsg) == 20
    assert ctypes.sizeof(vci.CyclicTxMsg) == 20
    assert ctypes.sizeof(vci.DeviceInfo) == 304
    assert ctypes.sizeof(vci.Capabilities) == 32


def test_shutdown_releases_everything(sim: simctl.SimControl) -> None:
    bus = IXXATBus(1)
    task = bus.send_periodic(Message(arbitration_id=1), 0.05)
    assert isinstance(task, CyclicSendTask)
    bus.shutdown()
    bus.shutdown()
    with pytest.raises(can.CanOperationError):
        bus.send(Message(arbitration_id=1))
    with IXXATBus(1):  # the controller is free again
        pass


def test_errors_pickle() -> None:
    error = pickle.loads(pickle.dumps(VCIError("canChannelPostMessage failed", error_code=5)))
    assert error.error_code == 5


class TestIxxatContract(BusContract):
    """The generic bus suite over controller 0 of the two simulated devices."""

    burst = 200
    stream = 3000

    @pytest.fixture(autouse=True)
    def _sim(self, sim: simctl.SimControl) -> None:
        pass

    def open_pair(self, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
        kwargs.setdefault("extended", True)
        kwargs.setdefault("rx_fifo_size", 4096)
        return _pair(**kwargs)
