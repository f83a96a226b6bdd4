"""The neoVI interface (manual section 4.10) against a stand-in for python-ics
(tests/standins/ics: python-ics' documented functions and constants over simulated devices)."""

from __future__ import annotations

import json
import logging
import os
import pathlib
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from bus_contract import BusContract

import can
from can import Message
from can.interfaces.ics_neovi import (
    ICSApiError,
    ICSInitializationError,
    ICSOperationError,
    NeoViBus,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
STANDINS = ROOT / "tests" / "standins"
REF_PYTHON = pathlib.Path(
    os.environ.get("CAN_REF_PYTHON", ROOT / "build" / "ref-venv" / "bin" / "python")
)
FIRE, VALUECAN = 53123, 604661761  # the stand-in's two devices; the second shows as "A00001"


@pytest.fixture
def ics(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.syspath_prepend(str(STANDINS))
    monkeypatch.delitem(sys.modules, "ics", raising=False)
    import ics as module

    assert pathlib.Path(module.__file__).parent == STANDINS / "ics"
    module.sim_reset()
    yield module
    module.sim_reset()


def _pair(ics: Any, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
    a = can.Bus(interface="neovi", channel=1, serial=str(FIRE), **kwargs)
    b = can.Bus(interface="neovi", channel=1, serial="A00001", **kwargs)
    return a, b


def test_the_manuals_configuration_file(ics: Any, tmp_path: pathlib.Path) -> None:
    cfg = tmp_path / "can.ini"
    cfg.write_text("[default]\ninterface = neovi\nchannel = 1\n")
    config = can.util.load_config(path=str(cfg))
    with can.Bus(**config) as bus:
        assert isinstance(bus, NeoViBus)
        assert bus.channels == [ics.NETID_HSCAN]


def test_config_keys_are_converted_by_the_bus_class(ics: Any, tmp_path: pathlib.Path) -> None:
    cfg = tmp_path / "can.ini"
    cfg.write_text(
        "[default]\ninterface = neovi\nchannel = 1\nserial = 53123\n"
        "use_system_timestamp = true\nreceive_own_messages = 1\nfd = yes\ndata_bitrate = 2M\n"
    )
    config = can.util.load_config(path=str(cfg))
    assert config["serial"] == "53123"
    assert config["use_system_timestamp"] is True
    assert config["receive_own_messages"] is True
    assert config["data_bitrate"] == 2000000


def test_frames_between_two_devices(ics: Any) -> None:
    a, b = _pair(ics)
    with a, b:
        sent = [
            Message(arbitration_id=0x123, is_extended_id=False, data=b"\x01\x02"),
            Message(arbitration_id=0x1ABCDEF0, is_extended_id=True, data=bytes(range(8))),
            Message(arbitration_id=0x7FF, is_extended_id=False, is_remote_frame=True, dlc=5),
        ]
        for msg in sent:
            a.send(msg)
        got = [b.recv(1) for _ in sent]
        assert a.recv(0.05) is None  # its own frames only on request
    for s, g in zip(sent, got):
        assert g is not None
        assert (g.arbitration_id, g.is_extended_id, g.is_remote_frame, g.dlc) == (
            s.arbitration_id,
            s.is_extended_id,
            s.is_remote_frame,
            s.dlc,
        )
        assert g.channel == 1 and g.is_rx
        if not s.is_remote_frame:
            assert bytes(g.data) == bytes(s.data)


def test_own_messages_on_request(ics: Any) -> None:
    a, b = _pair(ics, receive_own_messages=True)
    with a, b:
        a.send(Message(arbitration_id=0x42, is_extended_id=False, data=b"\x42"))
        own = a.recv(1)
        other = b.recv(1)
    assert own is not None and own.arbitration_id == 0x42 and not own.is_rx
    assert other is not None and other.is_rx


def test_can_fd_frames(ics: Any) -> None:
    a, b = _pair(ics, fd=True, bitrate=500000, data_bitrate=2000000)
    with a, b:
        assert ics.sim_state().fd_bitrates[(FIRE, 1)] == 2000000
        a.send(Message(arbitration_id=0x10, is_fd=True, bitrate_switch=True, data=bytes(range(64))))
        a.send(
            Message(arbitration_id=0x11, is_fd=True, error_state_indicator=True, data=b"\x05" * 12)
        )
        first, second = b.recv(1), b.recv(1)
    assert (
        first is not None
        and first.is_fd
        and first.bitrate_switch
        and not first.error_state_indicator
    )
    assert bytes(first.data) == bytes(range(64)) and first.dlc == 64
    assert second is not None and second.error_state_indicator and not second.bitrate_switch
    assert bytes(second.data) == b"\x05" * 12


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        (1, [1]),
        ("HSCAN", [1]),
        ("hscan2", [42]),
        ("1, 2", [1, 2]),
        ("HSCAN, MSCAN", [1, 2]),
        ([1, "HSCAN3"], [1, 44]),
        (("2",), [2]),
    ],
)
def test_channel_forms(ics: Any, channel: Any, expected: list[int]) -> None:
    with can.Bus(interface="neovi", channel=channel) as bus:
        assert bus.channels == expected


@pytest.mark.parametrize("channel", ["NOSUCHNET", [1, 2.5], "", None])
def test_bad_channels(ics: Any, channel: Any) -> None:
    with pytest.raises(ValueError):
        NeoViBus(channel)


def test_only_the_bus_networks_are_received_and_sends_use_the_message_channel(ics: Any) -> None:
    a = can.Bus(interface="neovi", channel="1, 2", serial=str(FIRE))
    b = can.Bus(interface="neovi", channel=2, serial="A00001")
    with a, b:
        a.send(Message(arbitration_id=1, channel=2, data=b"\x02"))
        a.send(Message(arbitration_id=2, channel=1, data=b"\x01"))  # network 1: not b's
        a.send(Message(arbitration_id=3, channel=9, data=b"\x09"))  # not a's: its first, 1
        got = b.recv(1)
        assert got is not None and got.arbitration_id == 1 and got.channel == 2
        assert b.recv(0.1) is None


def test_error_frames_and_bus_state(ics: Any) -> None:
    with can.Bus(interface="neovi", channel=1) as bus:
        assert bus.state == can.BusState.ACTIVE
        error = {"status2": ics.SPY_STATUS2_ERROR_FRAME}
        ics.sim_inject(
            1, 0, status=ics.SPY_STATUS_GLOBAL_ERR | ics.SPY_STATUS_CAN_ERROR_PASSIVE, **error
        )
        msg = bus.recv(1)
        assert msg is not None and msg.is_error_frame
        assert bus.state == can.BusState.PASSIVE
        ics.sim_inject(1, 0, status=ics.SPY_STATUS_GLOBAL_ERR | ics.SPY_STATUS_CAN_BUS_OFF, **error)
        msg = bus.recv(1)
        assert msg is not None and msg.is_error_frame
        assert bus.state == can.BusState.ERROR
        ics.sim_inject(1, 0x55, b"\x01")
        msg = bus.recv(1)
        assert msg is not None and not msg.is_error_frame
        assert bus.state == can.BusState.ACTIVE


def test_hardware_timestamps_are_host_time(ics: Any) -> None:
    with can.Bus(interface="neovi", channel=1) as bus:
        before = time.time()
        t1 = time.monotonic()
        ics.sim_inject(1, 1)
        t1_end = time.monotonic()
        time.sleep(0.05)
        t2 = time.monotonic()
        ics.sim_inject(1, 2)
        t2_end = time.monotonic()
        first, second = bus.recv(1), bus.recv(1)
        after = time.time()
    assert first is not None and second is not None
    assert before - 0.5 <= first.timestamp <= after + 0.5
    # The spacing is the hardware's (25.6 µs ticks), not the time the frames were read.
    gap = second.timestamp - first.timestamp
    assert t2 - t1_end - 0.002 <= gap <= t2_end - t1 + 0.002


def test_system_timestamps_on_request(ics: Any) -> None:
    with can.Bus(interface="neovi", channel=1, use_system_timestamp=True) as bus:
        ics.sim_inject(1, 1)
        time.sleep(0.05)
        before = time.time()
        msg = bus.recv(1)
    assert msg is not None and msg.timestamp >= before


def test_serial_numbers_as_ics_shows_them(ics: Any) -> None:
    devices = ics.find_devices()
    assert [NeoViBus.get_serial_number(d) for d in devices] == ["53123", "A00001"]
    # base 36 of 604661761 is A00001: 10*36**5 + 1
    assert 10 * 36**5 + 1 == VALUECAN


def test_no_python_ics_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ics", None)
    with pytest.raises(can.CanInterfaceNotImplementedError, match=r"pip install can\[neovi\]"):
        can.Bus(interface="neovi", channel=1)
    assert NeoViBus._detect_available_configs() == []


def test_no_device(ics: Any) -> None:
    ics.sim_reset(devices=())
    with pytest.raises(ICSInitializationError, match="no neoVI / ValueCAN device found"):
        can.Bus(interface="neovi", channel=1)


def test_unknown_serial_lists_the_devices_found(ics: Any) -> None:
    with pytest.raises(
        can.CanInitializationError, match=r"no neoVI device with serial X1; found: 53123, A00001"
    ):
        can.Bus(interface="neovi", channel=1, serial="x1")


def test_a_device_in_use_cannot_be_opened_twice(ics: Any) -> None:
    with can.Bus(interface="neovi", channel=1, serial=str(FIRE)):
        with pytest.raises(ICSInitializationError, match="in use") as info:
            can.Bus(interface="neovi", channel=1, serial=str(FIRE))
    assert isinstance(info.value, can.CanInitializationError)
    assert isinstance(info.value, ICSApiError)


def test_a_refused_bitrate_closes_the_device(ics: Any) -> None:
    with pytest.raises(ICSInitializationError, match="cannot set the bit rate"):
        can.Bus(interface="neovi", channel=1, serial=str(FIRE), bitrate=123456)
    assert not ics.find_devices()[0]._open
    with can.Bus(interface="neovi", channel=1, serial=str(FIRE), bitrate=250000):
        assert ics.sim_state().bitrates[(FIRE, 1)] == 250000


def test_driver_failures_while_running(ics: Any) -> None:
    with can.Bus(interface="neovi", channel=1) as bus:
        ics.sim_fail("transmit_messages", "icsneoTxMessages() Failed")
        with pytest.raises(ICSOperationError, match="icsneoTxMessages") as info:
            bus.send(Message(arbitration_id=1))
        assert isinstance(info.value, can.CanOperationError)
        ics.sim_fail("get_messages", "icsneoGetMessages() Failed")
        with pytest.raises(ICSOperationError, match="icsneoGetMessages"):
            bus.recv(0.1)


def test_driver_error_messages_are_logged(ics: Any, caplog: pytest.LogCaptureFixture) -> None:
    with can.Bus(interface="neovi", channel=1) as bus:
        device = ics.find_devices()[0]
        ics.sim_error(device, (2, "Rx buffer overflow", "The receive buffer overflowed", 16, 0))
        ics.sim_inject(1, 7)
        with caplog.at_level(logging.WARNING, logger="can.neovi"):
            assert bus.recv(1) is not None
    assert "error 2: Rx buffer overflow (The receive buffer overflowed)" in caplog.text


def test_shutdown_closes_the_device(ics: Any) -> None:
    bus = can.Bus(interface="neovi", channel=1)
    device = ics.find_devices()[0]
    assert device._open
    bus.shutdown()
    bus.shutdown()
    assert not device._open
    with pytest.raises(can.CanOperationError):
        bus.send(Message(arbitration_id=1))


def test_override_library_name_reaches_python_ics(ics: Any) -> None:
    with can.Bus(interface="neovi", channel=1, override_library_name="/opt/ics/libicsneo.so"):
        assert ics.sim_state().library == "/opt/ics/libicsneo.so"


def test_detect_available_configs(ics: Any) -> None:
    configs = can.detect_available_configs(interfaces=["neovi"])
    assert configs == [
        {"interface": "neovi", "serial": "53123", "channel": 1},
        {"interface": "neovi", "serial": "A00001", "channel": 1},
    ]


def test_errors_pickle_with_their_details() -> None:
    import pickle

    error = ICSOperationError("failed", 5, "short", "long", 3, 1)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.error_code, copy.description_short, copy.description_long, copy.severity) == (
        5,
        "short",
        "long",
        3,
    )
    assert copy.restart_needed is True


class TestNeoViContract(BusContract):
    """The generic bus suite over two simulated devices wired together."""

    supports_fd = True

    @pytest.fixture(autouse=True)
    def _standin(self, ics: Any) -> None:
        self.ics = ics

    def open_pair(self, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
        return _pair(self.ics, fd=True, **kwargs)


_SIDE_BY_SIDE = r"""
import json, sys, can
import ics
ics.sim_reset()
a = can.Bus(interface="neovi", channel=1, serial="53123", fd=True, receive_own_messages=True)
b = can.Bus(interface="neovi", channel="1", serial="A00001", fd=True)
frames = [
    can.Message(arbitration_id=0x123, is_extended_id=False, data=b"\x01\x02"),
    can.Message(arbitration_id=0x1ABCDEF0, is_extended_id=True, data=bytes(range(8))),
    can.Message(arbitration_id=0x7FF, is_extended_id=False, is_remote_frame=True, dlc=5),
    can.Message(arbitration_id=0x10, is_fd=True, bitrate_switch=True, data=bytes(range(64))),
]
for f in frames:
    a.send(f)
def row(m):
    return None if m is None else [m.arbitration_id, m.is_extended_id, m.is_remote_frame,
        m.is_fd, m.bitrate_switch, m.dlc, bytes(m.data).hex() if not m.is_remote_frame else "",
        m.channel, m.is_rx]
out = {"rx": [row(b.recv(1)) for _ in frames], "own": [row(a.recv(1)) for _ in frames],
       "serials": [type(a).get_serial_number(d) for d in ics.find_devices()]}
a.shutdown(); b.shutdown()
print(json.dumps(out))
"""


def _run_with_standin(python: pathlib.Path, pythonpath: str) -> Any:
    env = dict(os.environ, PYTHONPATH=pythonpath)
    done = subprocess.run(
        [str(python), "-c", _SIDE_BY_SIDE], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_side_by_side_with_python_can_on_the_same_standin() -> None:
    """python-can 4.x's neovi backend and ours, each over the stand-in, agree frame by frame."""
    if not REF_PYTHON.exists():
        pytest.skip("no reference python-can interpreter")
    ours_path = os.pathsep.join(
        [str(STANDINS), *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)]
    )
    ours = _run_with_standin(pathlib.Path(sys.executable), ours_path)
    theirs = _run_with_standin(REF_PYTHON, str(STANDINS))
    # One deliberate difference: a remote frame keeps its DLC through the device here
    # (NumberBytesData carries it, as on the wire); python-can 4.x sends and reads it as 0.
    for side in ("rx", "own"):
        assert ours[side][2][5] == 5 and theirs[side][2][5] == 0
        ours[side][2][5] = theirs[side][2][5] = None
    assert ours == theirs
    assert ours["serials"] == ["53123", "A00001"]
