"""The SYSTEC interface (manual section 4.14) against a simulated USB-CANmodul library
(tests/simlibs/systec: usbcan32.h's functions over simcore; module 0 is a G4, module 1 a G3)."""

from __future__ import annotations

import logging
import pathlib
import pickle
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import simctl
from bus_contract import BusContract

import can
from can import BusState, Message
from can.interfaces.systec import UcanBus, UcanCmdError, UcanError, UcanInitializationError, ucan


@pytest.fixture
def sim(simlib_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[simctl.SimControl]:
    path = simlib_path("systec")
    monkeypatch.setenv("CAN_SYSTEC_LIBRARY", str(path))
    ucan.LIBRARY.reset()
    control = simctl.SimControl(path)
    for ch in (0, 1):
        control.set_state(ch, simctl.ACTIVE)
    yield control
    assert control.open_ports(0) == 0 and control.open_ports(1) == 0
    for ch in (0, 1):
        control.set_state(ch, simctl.ACTIVE)
    ucan.LIBRARY.reset()


def _pair(**kwargs: Any) -> tuple[UcanBus, UcanBus]:
    return UcanBus(0, device_number=0, **kwargs), UcanBus(0, device_number=1, **kwargs)


def test_the_manuals_defaults_and_configuration(
    sim: simctl.SimControl, tmp_path: pathlib.Path
) -> None:
    cfg = tmp_path / "can.ini"
    cfg.write_text("[default]\ninterface = systec\nchannel = 0\n")
    config = can.util.load_config(path=str(cfg))
    with can.Bus(**config) as bus:
        assert isinstance(bus, UcanBus)
        assert bus.device_number == 0  # 255: the first module found
        assert bus.state == BusState.ACTIVE
        assert bus.channel_info == "USB-CANmodul device 0 (serial 100000) channel 0"


def test_configuration_keys(sim: simctl.SimControl, tmp_path: pathlib.Path) -> None:
    cfg = tmp_path / "can.ini"
    cfg.write_text(
        "[default]\ninterface = systec\nchannel = 1\ndevice_number = 1\nbitrate = 125000\n"
        "rx_buffer_entries = 100\ntx_buffer_entries = 200\nstate = PASSIVE\n"
        "receive_own_messages = true\n"
    )
    config = can.util.load_config(path=str(cfg))
    assert (config["device_number"], config["rx_buffer_entries"], config["tx_buffer_entries"]) == (
        1,
        100,
        200,
    )
    with can.Bus(**config) as bus:
        assert bus.channel == 1 and bus.device_number == 1
        assert bus.state == BusState.PASSIVE
        assert bus.receive_own_messages is True


@pytest.mark.parametrize("bitrate", sorted(ucan.BAUDEX_G3))
def test_every_bitrate_on_both_generations(sim: simctl.SimControl, bitrate: int) -> None:
    # The simulated G4 module refuses G3 register values and the other way round.
    g4, g3 = (
        UcanBus(0, device_number=0, bitrate=bitrate),
        UcanBus(0, device_number=1, bitrate=bitrate),
    )
    with g4, g3:
        assert g4._g4 and not g3._g4
        g4.send(Message(arbitration_id=1, data=b"\x01"))
        assert g3.recv(1) is not None


def test_frames_of_every_kind(sim: simctl.SimControl) -> None:
    a, b = _pair()
    with a, b:
        sent = [
            Message(arbitration_id=0x7FF, is_extended_id=False, data=bytes(range(8))),
            Message(arbitration_id=0x1ABCDEF0, is_extended_id=True, data=b"\xaa\xbb"),
            Message(arbitration_id=0x10, is_extended_id=False, is_remote_frame=True, dlc=5),
        ]
        for msg in sent:
            a.send(msg)
        got = [b.recv(1) for _ in sent]
    for s, g in zip(sent, got):
        assert g is not None
        assert (g.arbitration_id, g.is_extended_id, g.is_remote_frame, g.dlc, g.channel) == (
            s.arbitration_id,
            s.is_extended_id,
            s.is_remote_frame,
            s.dlc,
            0,
        )
        assert bytes(g.data) == (b"" if s.is_remote_frame else bytes(s.data)) and g.is_rx


def test_own_messages(sim: simctl.SimControl) -> None:
    a, b = _pair(receive_own_messages=True)
    with a, b:
        a.send(Message(arbitration_id=0x42, data=b"\x42"))
        own = a.recv(1)
        assert own is not None and own.arbitration_id == 0x42 and not own.is_rx
        assert b.recv(1) is not None


def test_recv_is_woken_by_the_library_callback(sim: simctl.SimControl) -> None:
    a, b = _pair()
    with a, b:
        got: list[Any] = []
        waiter = threading.Thread(target=lambda: got.append(b.recv(5)))
        waiter.start()
        time.sleep(0.1)
        sent_at = time.perf_counter()
        a.send(Message(arbitration_id=7))
        waiter.join(5)
        latency = time.perf_counter() - sent_at
        assert got and got[0] is not None and got[0].arbitration_id == 7
        assert latency < 0.25  # woken by the event, not by the 0.5 s safety slice


def test_hardware_timestamps(sim: simctl.SimControl) -> None:
    a, b = _pair()
    with a, b:
        before = time.time()
        t1 = time.monotonic()
        a.send(Message(arbitration_id=1))
        t1_end = time.monotonic()
        time.sleep(0.05)
        t2 = time.monotonic()
        a.send(Message(arbitration_id=2))
        t2_end = time.monotonic()
        time.sleep(0.05)
        first, second = b.recv(1), b.recv(1)
        assert first is not None and second is not None
        assert before - 0.5 <= first.timestamp <= time.time() + 0.5
        gap = second.timestamp - first.timestamp
        assert t2 - t1_end - 0.002 <= gap <= t2_end - t1 + 0.002
        t1, t2 = b._timestamp(2**32 - 5), b._timestamp(10)
        assert t2 - t1 == pytest.approx(0.015, abs=1e-6)


def test_create_filter_follows_the_header_macros() -> None:
    # USBCAN_CALCULATE_ACR/AMR: code = from & to, don't-care bits = from ^ to.
    assert UcanBus.create_filter(False, 0x400, 0x4FF, False, False) == [
        {"can_id": 0x400, "can_mask": 0x700, "extended": False}
    ]
    assert UcanBus.create_filter(True, 0x18FF0000, 0x18FF00FF, False, True) == [
        {"can_id": 0x18FF0000, "can_mask": 0x1FFFFF00, "extended": True}
    ]


def test_one_filter_goes_to_the_module(sim: simctl.SimControl) -> None:
    flt = UcanBus.create_filter(False, 0x100, 0x10F, False, False)
    amr, acr = UcanBus._hardware_filter(flt)
    # The header's acceptance rule, computed here independently for ids 0x105 and 0x115.
    assert (~((0x105 << 21) ^ acr) | amr) & 0xFFFFFFFF == 0xFFFFFFFF
    assert (~((0x115 << 21) ^ acr) | amr) & 0xFFFFFFFF != 0xFFFFFFFF
    a = UcanBus(0, device_number=0)
    b = UcanBus(0, device_number=1, can_filters=flt)
    with a, b:
        for arb in (0x105, 0x115, 0x10F):
            a.send(Message(arbitration_id=arb, is_extended_id=False))
        kept = []
        while (msg := b.recv(0.1)) is not None:
            kept.append(msg.arbitration_id)
        assert kept == [0x105, 0x10F]
        # the module dropped 0x115: it never reached the library's buffer
        pending = ucan.DWORD()
        b._f["UcanGetMsgPending"](b._handle, 0, 0x1, ctypes_byref(pending))
        assert pending.value == 0


def ctypes_byref(value: Any) -> Any:
    import ctypes

    return ctypes.byref(value)


def test_state_bus_off_and_listen_only(sim: simctl.SimControl) -> None:
    a, b = _pair()
    with a, b:
        sim.set_state(0, simctl.PASSIVE, 130, 0)
        assert a.state == BusState.PASSIVE
        sim.set_state(0, simctl.BUSOFF, 255, 0)
        assert a.state == BusState.ERROR
        with pytest.raises(UcanError, match="did not fit into the transmit queue") as info:
            a.send(Message(arbitration_id=1))
        assert info.value.error_code == 0x0B and info.value.function == "UcanWriteCanMsgEx"
        sim.set_state(0, simctl.ACTIVE)
        a.send(Message(arbitration_id=1))
        assert b.recv(1) is not None
        b.state = BusState.PASSIVE  # listen only: receives, cannot send
        assert b.state == BusState.PASSIVE
        a.send(Message(arbitration_id=2))
        assert b.recv(1) is not None
        with pytest.raises(UcanError, match="wrong parameter"):
            b.send(Message(arbitration_id=3))
        b.state = BusState.ACTIVE
        b.send(Message(arbitration_id=3))
        with pytest.raises(ValueError):
            b.state = BusState.ERROR


def test_flush_tx_buffer(sim: simctl.SimControl) -> None:
    with UcanBus(0) as bus:
        bus.flush_tx_buffer()


def test_init_errors(sim: simctl.SimControl) -> None:
    with pytest.raises(UcanInitializationError, match="not connected") as info:
        UcanBus(0, device_number=7)
    assert info.value.error_code == 0x05 and isinstance(info.value, can.CanInitializationError)
    with UcanBus(0, device_number=0):
        with pytest.raises(UcanInitializationError, match="already in use"):
            UcanBus(1, device_number=0)
        with UcanBus(0, device_number=255) as other:  # the next free one
            assert other.device_number == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bitrate": 33333}, "no bit rate 33333"),
        ({"device_number": 300}, "device_number"),
        ({"state": BusState.ERROR}, "state"),
        ({"rx_buffer_entries": 0}, "rx_buffer_entries"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        UcanBus(0, **kwargs)


@pytest.mark.parametrize("channel", [2, "x", -1])
def test_bad_channels(channel: Any) -> None:
    with pytest.raises(ValueError, match="channel is 0 or 1"):
        UcanBus(channel)


def test_a_missing_library(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.setenv("CAN_SYSTEC_LIBRARY", str(tmp_path / "usbcan64.dll"))
    ucan.LIBRARY.reset()
    try:
        with pytest.raises(
            can.CanInitializationError, match="USB-CANmodul library could not be loaded"
        ):
            UcanBus(0)
        assert UcanBus._detect_available_configs() == []
    finally:
        ucan.LIBRARY.reset()


def test_detect_available_configs(sim: simctl.SimControl) -> None:
    assert UcanBus._detect_available_configs() == [
        {"interface": "systec", "channel": ch, "device_number": n} for n in (0, 1) for ch in (0, 1)
    ]
    with UcanBus(0, device_number=0):
        assert [c["device_number"] for c in UcanBus._detect_available_configs()] == [1, 1]


def test_shutdown_releases_everything(sim: simctl.SimControl) -> None:
    bus = UcanBus(1, device_number=0)
    assert sim.open_ports(1) == 1
    bus.shutdown()
    bus.shutdown()
    assert sim.open_ports(1) == 0
    with pytest.raises(can.CanOperationError):
        bus.send(Message(arbitration_id=1))
    with UcanBus(1, device_number=0):  # the module is free again
        pass


def test_cyclic_sends_use_the_software_timer(sim: simctl.SimControl) -> None:
    # The manual: the driver cannot set a message's interval, so periodic messages are sent by
    # the interface's timer (here the Rust timer loop).
    a, b = _pair()
    with a, b:
        task = a.send_periodic(Message(arbitration_id=0x99, data=b"\x09"), 0.01)
        assert isinstance(task, can.broadcastmanager.ThreadBasedCyclicSendTask)
        count = 0
        deadline = time.monotonic() + 2
        while count < 5 and time.monotonic() < deadline:
            if (msg := b.recv(0.5)) is not None and msg.arbitration_id == 0x99:
                count += 1
        task.stop()
        assert count == 5


def test_errors_pickle_and_kinds() -> None:
    error = pickle.loads(pickle.dumps(UcanCmdError("UcanInitCanEx2", 0x47)))
    assert (error.function, error.error_code) == ("UcanInitCanEx2", 0x47)
    assert "illegal baud rate" in str(error)
    assert isinstance(ucan.error_for("x", 0x47), UcanCmdError)
    assert type(ucan.error_for("x", 0x05)) is UcanError


def test_a_receive_overrun_is_logged(
    sim: simctl.SimControl, caplog: pytest.LogCaptureFixture
) -> None:
    a = UcanBus(0, device_number=0)
    b = UcanBus(0, device_number=1, rx_buffer_entries=50)
    with a, b:
        for i in range(80):
            a.send(Message(arbitration_id=i))
        with caplog.at_level(logging.WARNING, logger="can.systec"):
            assert b.recv(1) is not None
        assert "overrun in the library's receive queue" in caplog.text


class TestSystecContract(BusContract):
    """The generic bus suite over channel 0 of the two simulated modules."""

    burst = 1000

    @pytest.fixture(autouse=True)
    def _sim(self, sim: simctl.SimControl) -> None:
        pass

    def open_pair(self, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
        return _pair(**kwargs)
