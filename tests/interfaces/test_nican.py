"""The NI-CAN interface (manual section 4.8) against a simulated nican library
(tests/simlibs/nican: nican.h's Frame API over simcore; CAN0..CAN3 on one bus)."""

from __future__ import annotations

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
from can.interfaces import nican
from can.interfaces.nican import NicanBus, NicanError, NicanInitializationError


@pytest.fixture
def sim(simlib_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[simctl.SimControl]:
    path = simlib_path("nican")
    monkeypatch.setenv("CAN_NICAN_LIBRARY", str(path))
    nican.LIBRARY.reset()
    control = simctl.SimControl(path)
    control.set_state(0, simctl.ACTIVE)
    yield control
    assert control.open_ports(0) == 0
    control.set_state(0, simctl.ACTIVE)
    nican.LIBRARY.reset()


def test_the_manuals_signature_and_frames(sim: simctl.SimControl) -> None:
    a = can.Bus(interface="nican", channel="CAN0", bitrate=500000)
    b = can.Bus(interface="nican", channel="CAN1", bitrate=500000, log_errors=False)
    with a, b:
        assert isinstance(a, NicanBus)
        sent = [
            Message(arbitration_id=0x123, is_extended_id=False, data=b"\x01\x02\x03"),
            Message(arbitration_id=0x1ABCDEF0, is_extended_id=True, data=bytes(range(8))),
            Message(arbitration_id=0x7FF, is_extended_id=False, is_remote_frame=True, dlc=2),
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
            "CAN1",
        )
        assert bytes(g.data) == (b"" if s.is_remote_frame else bytes(s.data))
        # The driver's absolute FILETIME timestamps, converted to Unix time.
        assert before - 0.05 <= g.timestamp <= after + 0.05


def test_filetime_conversion() -> None:
    # 2020-01-01T00:00:00Z is 132223104000000000 in FILETIME (100 ns since 1601) and
    # 1577836800 in Unix time.
    raw = nican.CanStruct()
    ticks = 132223104000000000
    raw.Timestamp.LowPart = ticks & 0xFFFFFFFF
    raw.Timestamp.HighPart = ticks >> 32
    bus = NicanBus.__new__(NicanBus)
    bus.channel = "CAN0"
    assert bus._message(raw).timestamp == 1577836800.0


def test_structures_match_the_header_packing() -> None:
    # nican.h packs to 2 bytes: NCTYPE_CAN_STRUCT is 22 bytes, NCTYPE_CAN_FRAME 14.
    assert pytest.approx(22) == __import__("ctypes").sizeof(nican.CanStruct)
    assert __import__("ctypes").sizeof(nican.CanFrame) == 14


def test_hardware_filters_from_the_constructor(sim: simctl.SimControl) -> None:
    filters = [
        {"can_id": 0x120, "can_mask": 0x7F0, "extended": False},
        {"can_id": 0x18FF0000, "can_mask": 0x1FFF0000, "extended": True},
    ]
    attrs = NicanBus._hardware_filters(filters)
    assert attrs[nican.NC_ATTR_CAN_COMP_STD] == 0x120
    assert attrs[nican.NC_ATTR_CAN_MASK_XTD] == 0x1FFF0000
    a = NicanBus("CAN0")
    b = NicanBus("CAN1", can_filters=filters)
    with a, b:
        for arb, ext in ((0x123, False), (0x133, False), (0x18FF0102, True), (0x18FE0102, True)):
            a.send(Message(arbitration_id=arb, is_extended_id=ext))
        kept = []
        while (msg := b.recv(0.1)) is not None:
            kept.append(msg.arbitration_id)
        assert kept == [0x123, 0x18FF0102]
        # The board's comparators dropped the others: nothing was left for software.
        assert b._counter(nican.NC_ATTR_TX_ERROR_COUNTER) == 0


def test_one_kind_filtered_switches_the_other_off() -> None:
    attrs = NicanBus._hardware_filters([{"can_id": 0x5, "can_mask": 0x7FF, "extended": False}])
    assert attrs[nican.NC_ATTR_CAN_COMP_XTD] == nican.NC_CAN_ARBID_NONE
    # Filters that do not fit the comparators are left to software.
    assert NicanBus._hardware_filters([{"can_id": 1, "can_mask": 1}]) == {}
    two = [{"can_id": i, "can_mask": 0x7FF, "extended": False} for i in (1, 2)]
    assert NicanBus._hardware_filters(two) == {}


def test_set_filters_later_works_in_software(sim: simctl.SimControl) -> None:
    with NicanBus("CAN0") as a, NicanBus("CAN1") as b:
        b.set_filters([{"can_id": 0x42, "can_mask": 0x7FF, "extended": False}])
        a.send(Message(arbitration_id=0x41, is_extended_id=False))
        a.send(Message(arbitration_id=0x42, is_extended_id=False))
        got = b.recv(0.5)
        assert got is not None and got.arbitration_id == 0x42


def test_communication_errors_as_error_frames(sim: simctl.SimControl) -> None:
    with (
        NicanBus("CAN0", log_errors=True) as logging_bus,
        NicanBus("CAN1", log_errors=False) as quiet,
    ):
        sim.inject_error(0)
        msg = logging_bus.recv(1)
        assert msg is not None and msg.is_error_frame
        assert msg.arbitration_id == 0x00B  # CanWarnComm's code
        assert int.from_bytes(msg.data, "little") == 0x3FF6200B
        assert quiet.recv(0.1) is None


def test_bus_off_state_and_reset(sim: simctl.SimControl) -> None:
    with NicanBus("CAN0") as bus:
        assert bus.state == can.BusState.ACTIVE
        sim.set_state(0, simctl.PASSIVE, 0, 140)
        assert bus.state == can.BusState.PASSIVE
        sim.set_state(0, simctl.BUSOFF, 255, 0)
        with pytest.raises(NicanError) as info:
            bus.send(Message(arbitration_id=1))
        assert info.value.function == "ncWrite"
        assert info.value.error_code == 0xBFF6200B - (1 << 32)
        assert "bus off" in str(info.value)
        assert bus.state == can.BusState.ERROR
        bus.reset()  # clears the chip's counters and the queues, and starts again
        assert sim.state(0) == (simctl.ACTIVE, 0, 0)
        assert bus.state == can.BusState.ACTIVE
        bus.send(Message(arbitration_id=1))


def test_reset_clears_the_read_queue(sim: simctl.SimControl) -> None:
    with NicanBus("CAN0") as a, NicanBus("CAN1") as b:
        for i in range(3):
            a.send(Message(arbitration_id=i))
        time.sleep(0.01)
        b.reset()
        assert b.recv(0.05) is None
        a.send(Message(arbitration_id=9))
        assert b.recv(1).arbitration_id == 9  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("channel", "kwargs", "function", "text"),
    [
        ("CAN9", {}, "ncConfig", "bad interface name"),
        ("CAN0", {"bitrate": 5}, "ncConfig", "bad attribute value"),
    ],
)
def test_open_errors(
    sim: simctl.SimControl, channel: str, kwargs: dict[str, Any], function: str, text: str
) -> None:
    with pytest.raises(NicanInitializationError, match=f"{function} failed: {text}") as info:
        NicanBus(channel, **kwargs)
    assert info.value.function == function
    assert isinstance(info.value, can.CanInitializationError)


def test_an_interface_opens_once(sim: simctl.SimControl) -> None:
    with NicanBus("CAN0"):
        with pytest.raises(NicanInitializationError, match="already open"):
            NicanBus("CAN0")


def test_a_missing_library(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.setenv("CAN_NICAN_LIBRARY", str(tmp_path / "nican.dll"))
    nican.LIBRARY.reset()
    try:
        with pytest.raises(can.CanInitializationError, match="NI-CAN library could not be loaded"):
            NicanBus("CAN0")
    finally:
        nican.LIBRARY.reset()


def test_refused_frames(sim: simctl.SimControl) -> None:
    with NicanBus("CAN0") as bus:
        with pytest.raises(ValueError, match="classic CAN"):
            bus.send(Message(arbitration_id=1, is_fd=True, data=bytes(20)))
        with pytest.raises(NicanError, match="bad parameter"):
            bus.send(Message(arbitration_id=0x800, is_extended_id=False))


def test_config_file(sim: simctl.SimControl, tmp_path: pathlib.Path) -> None:
    cfg = tmp_path / "can.ini"
    cfg.write_text(
        "[default]\ninterface = nican\nchannel = CAN1\nbitrate = 250000\nlog_errors = no\n"
    )
    config = can.util.load_config(path=str(cfg))
    assert config["log_errors"] is False and config["bitrate"] == 250000
    with can.Bus(**config) as bus:
        assert bus.channel_info == "NI-CAN CAN1" and bus.log_errors is False


def test_shutdown_closes_once(sim: simctl.SimControl) -> None:
    bus = NicanBus("CAN0")
    assert sim.open_ports(0) == 1
    bus.shutdown()
    bus.shutdown()
    assert sim.open_ports(0) == 0
    with pytest.raises(can.CanOperationError):
        bus.send(Message(arbitration_id=1))


def test_errors_pickle() -> None:
    error = pickle.loads(pickle.dumps(NicanError("ncWrite", -5, ("CAN0",))))
    assert (error.function, error.error_code, error.arguments) == ("ncWrite", -5, ("CAN0",))


class TestNicanContract(BusContract):
    """The generic bus suite over two interfaces of the simulated board, cabled together."""

    burst = 500

    @pytest.fixture(autouse=True)
    def _sim(self, sim: simctl.SimControl) -> None:
        pass

    def open_pair(self, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
        return NicanBus("CAN0", **kwargs), NicanBus("CAN1", **kwargs)
