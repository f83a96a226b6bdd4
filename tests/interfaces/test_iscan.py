"""The isCAN interface (manual section 4.9) against a simulated iscandrv library
(tests/simlibs/iscan: the vendor headers' functions and status codes over simcore)."""

from __future__ import annotations

import logging
import pathlib
import pickle
import time
from collections.abc import Iterator
from typing import Any

import pytest
import simctl
from bus_contract import BusContract

import can
from can import Message
from can.interfaces import iscan
from can.interfaces.iscan import IscanBus, IscanError, IscanInitializationError


@pytest.fixture
def sim(simlib_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[simctl.SimControl]:
    path = simlib_path("iscan")
    monkeypatch.setenv("CAN_ISCAN_LIBRARY", str(path))
    iscan.LIBRARY.reset()
    control = simctl.SimControl(path)
    control.set_state(0, simctl.ACTIVE)
    yield control
    # Every bus a test opened was shut down: no device left open in the driver.
    assert control.open_ports(0) == 0
    control.set_state(0, simctl.ACTIVE)
    iscan.LIBRARY.reset()


def test_the_manuals_defaults(sim: simctl.SimControl) -> None:
    with can.Bus(interface="iscan", channel=0) as bus:
        assert isinstance(bus, IscanBus)
        assert bus.poll_interval == 0.01
        assert bus.channel_info == "isCAN device 0"
        assert sim.open_ports(0) == 1


def test_frames_between_two_devices(sim: simctl.SimControl) -> None:
    a = can.Bus(interface="iscan", channel=0, bitrate=250000)
    b = can.Bus(interface="iscan", channel=1, bitrate=250000)
    with a, b:
        sent = [
            Message(arbitration_id=0x123, is_extended_id=False, data=b"\x01\x02\x03"),
            Message(arbitration_id=0x1ABCDEF0, is_extended_id=True, data=bytes(range(8))),
            Message(arbitration_id=0x7FF, is_extended_id=False, is_remote_frame=True, dlc=4),
            Message(arbitration_id=0x5, is_extended_id=False, data=b""),
        ]
        before = time.time()
        for msg in sent:
            a.send(msg)
        got = [b.recv(1) for _ in sent]
        after = time.time()
    for s, g in zip(sent, got):
        assert g is not None
        assert (g.arbitration_id, g.is_extended_id, g.is_remote_frame, g.dlc, g.channel) == (
            s.arbitration_id,
            s.is_extended_id,
            s.is_remote_frame,
            s.dlc,
            1,
        )
        assert bytes(g.data) == (b"" if s.is_remote_frame else bytes(s.data))
        assert before <= g.timestamp <= after


def test_recv_polls_at_the_poll_interval(sim: simctl.SimControl) -> None:
    with can.Bus(interface="iscan", channel=0, poll_interval=0.05) as bus:
        start = time.perf_counter()
        assert bus.recv(0.12) is None
        waited = time.perf_counter() - start
        assert 0.11 <= waited < 1.0
        sim.inject_frame(0, 0x42, b"\x42")
        assert bus.recv(0).arbitration_id == 0x42  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("bitrate", "index"),
    [(10000, 1), (125000, 5), (500000, 7), (800000, 8), (1000000, 9)],
)
def test_bitrates_map_to_the_headers_baud_indices(
    sim: simctl.SimControl, bitrate: int, index: int
) -> None:
    assert iscan.BAUDRATES[bitrate] == index
    with can.Bus(interface="iscan", channel=0, bitrate=bitrate):
        pass


def test_a_bitrate_without_an_index_is_a_value_error(sim: simctl.SimControl) -> None:
    with pytest.raises(ValueError, match="cannot run at 5000 bit/s"):
        IscanBus(0, bitrate=5000)


@pytest.mark.parametrize("channel", ["zero", -1, 256, None])
def test_bad_channels(sim: simctl.SimControl, channel: Any) -> None:
    with pytest.raises(ValueError):
        IscanBus(channel)


def test_a_missing_device_and_a_device_in_use(sim: simctl.SimControl) -> None:
    with pytest.raises(IscanInitializationError, match="no device with this number") as info:
        IscanBus(5)
    assert info.value.error_code == 2
    assert info.value.function == "isCAN_DeviceInitEx"
    assert isinstance(info.value, can.CanInitializationError)
    with IscanBus(0):
        with pytest.raises(IscanInitializationError, match="already in use") as info:
            IscanBus(0)
        assert info.value.error_code == 15


def test_a_missing_library_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.setenv("CAN_ISCAN_LIBRARY", str(tmp_path / "libiscandrv.so"))
    iscan.LIBRARY.reset()
    try:
        with pytest.raises(can.CanInitializationError) as info:
            can.Bus(interface="iscan", channel=0)
        text = str(info.value)
        assert "isCAN library could not be loaded" in text
        assert "CAN_ISCAN_LIBRARY" in text and "Thorsis" in text
        assert IscanBus._detect_available_configs() == []
    finally:
        iscan.LIBRARY.reset()


def test_bus_conditions_become_error_frames_and_state(sim: simctl.SimControl) -> None:
    with can.Bus(interface="iscan", channel=0) as bus:
        assert bus.state == can.BusState.ACTIVE
        sim.set_state(0, simctl.PASSIVE, 130, 0)
        sim.inject_error(0)
        msg = bus.recv(1)
        assert msg is not None and msg.is_error_frame and bytes(msg.data) == b"\x12"  # 18
        assert bus.state == can.BusState.PASSIVE
        sim.set_state(0, simctl.BUSOFF, 255, 0)
        sim.inject_error(0)
        msg = bus.recv(1)
        assert msg is not None and msg.is_error_frame and bytes(msg.data) == b"\x11"  # 17
        assert bus.state == can.BusState.ERROR
        with pytest.raises(IscanError, match="bus off") as info:
            bus.send(Message(arbitration_id=1))
        assert info.value.error_code == 17 and info.value.function == "isCAN_TransmitMessageEx"
        assert isinstance(info.value, can.CanOperationError)
        # Recovery: the bus comes back and frames flow again.
        sim.set_state(0, simctl.ACTIVE)
        bus.send(Message(arbitration_id=2))


def test_an_overrun_is_logged_and_reading_goes_on(
    sim: simctl.SimControl, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = IscanBus(0), IscanBus(1)
    with a, b:
        for i in range(4200):  # the simulated device keeps 4096
            a.send(Message(arbitration_id=i & 0x7FF, is_extended_id=False))
        with caplog.at_level(logging.WARNING, logger="can.iscan"):
            first = b.recv(1)
        assert first is not None and first.arbitration_id == 0
        assert "data overrun, frames were lost" in caplog.text
        count = 1
        while b.recv(0) is not None:
            count += 1
        assert count == 4096


def test_refused_frames(sim: simctl.SimControl) -> None:
    with IscanBus(0) as bus:
        with pytest.raises(ValueError, match="classic CAN"):
            bus.send(Message(arbitration_id=1, is_fd=True, data=bytes(12)))
        with pytest.raises(IscanError, match="invalid parameter"):
            bus.send(Message(arbitration_id=0x800, is_extended_id=False))


def test_config_file_keys(sim: simctl.SimControl, tmp_path: pathlib.Path) -> None:
    cfg = tmp_path / "can.ini"
    cfg.write_text(
        "[default]\ninterface = iscan\nchannel = 1\nbitrate = 125000\npoll_interval = 0.002\n"
    )
    config = can.util.load_config(path=str(cfg))
    assert (config["channel"], config["bitrate"], config["poll_interval"]) == (1, 125000, 0.002)
    with can.Bus(**config) as bus:
        assert bus.poll_interval == 0.002 and bus.channel == 1


def test_detect_available_configs_lists_free_devices(sim: simctl.SimControl) -> None:
    assert IscanBus._detect_available_configs() == [
        {"interface": "iscan", "channel": 0},
        {"interface": "iscan", "channel": 1},
    ]
    with IscanBus(0):
        assert IscanBus._detect_available_configs() == [{"interface": "iscan", "channel": 1}]


def test_shutdown_closes_the_device_once(sim: simctl.SimControl) -> None:
    bus = IscanBus(0)
    assert sim.open_ports(0) == 1
    bus.shutdown()
    bus.shutdown()
    assert sim.open_ports(0) == 0
    with pytest.raises(can.CanOperationError):
        bus.send(Message(arbitration_id=1))


def test_errors_pickle() -> None:
    error = pickle.loads(pickle.dumps(IscanError("isCAN_CloseDevice", 12, (3,))))
    assert (error.function, error.error_code, error.arguments) == ("isCAN_CloseDevice", 12, (3,))
    assert "not initialised" in str(error)


class TestIscanContract(BusContract):
    """The generic bus suite over two simulated isCAN devices on one bus."""

    burst = 1000
    timestamps_at_arrival = False  # the driver has no timestamps: host time when read

    @pytest.fixture(autouse=True)
    def _sim(self, sim: simctl.SimControl) -> None:
        pass

    def open_pair(self, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
        kwargs.setdefault("poll_interval", 0.001)
        return IscanBus(0, **kwargs), IscanBus(1, **kwargs)
