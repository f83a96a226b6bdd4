"""The pcan interface (manual section 4.6) against the simulated PCAN-Basic library
(tests/simlibs/pcan): PCAN_USBBUS1/2, 3/4, ... are channel pairs wired to one another.

Expected values come from PCANBasic.h (status codes, BTR0BTR1 codes), the manual (arguments,
configuration example) and what the simulated driver computes on its side (bus speeds from the
BTR registers or the FD bit rate string, its own clock) -- never from the backend's output."""

from __future__ import annotations

import ctypes
import pathlib
import select
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest
import simctl  # tests/simlibs, on sys.path by conftest.py
from bus_contract import BusContract  # tests/interfaces

import can
from can import BusState, Message

# PCANBasic.h values, written out here so that a wrong constant in the backend shows.
OK, BUSWARNING, BUSPASSIVE, BUSOFF = 0x0, 0x8, 0x40000, 0x10
QOVERRUN, ILLHW, ILLPARAMVAL, INITIALIZE, ILLOPERATION = 0x40, 0x1400, 0x8000, 0x4000000, 0x8000000
USBBUS1, USBBUS2, USBBUS3 = 0x51, 0x52, 0x53
DEVICE_ID, LISTEN_ONLY, MESSAGE_FILTER, IDENTIFYING = 0x01, 0x08, 0x04, 0x15
BITRATE_INFO, BITRATE_INFO_FD, BUSSPEED_NOMINAL, BUSSPEED_DATA = 0x18, 0x19, 0x1A, 0x1B
FILTER_OPEN, FILTER_CUSTOM = 1, 2

FD_KEYS = {
    "f_clock_mhz": 80,
    "nom_brp": 1,
    "nom_tseg1": 129,
    "nom_tseg2": 30,
    "nom_sjw": 1,
    "data_brp": 1,
    "data_tseg1": 9,
    "data_tseg2": 6,
    "data_sjw": 1,
}


class Sim:
    """The simulated driver as the test sees it: simcore's controls, the PCAN-specific one,
    and the driver's own view of a channel through CAN_GetValue."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self.ctl = simctl.SimControl(path)
        self.lib = ctypes.CDLL(str(path))
        self.lib.simpcan_set_state.argtypes = [ctypes.c_int] * 4
        self.lib.simpcan_reset.restype = None
        self.lib.CAN_GetValue.argtypes = [
            ctypes.c_uint16,
            ctypes.c_uint8,
            ctypes.c_void_p,
            ctypes.c_uint32,
        ]
        self.lib.CAN_GetValue.restype = ctypes.c_uint32

    def value(self, handle: int, parameter: int) -> int:
        out = ctypes.c_uint32()
        status = self.lib.CAN_GetValue(handle, parameter, ctypes.addressof(out), 4)
        assert status == OK, hex(status)
        return out.value

    def text(self, handle: int, parameter: int) -> str:
        out = ctypes.create_string_buffer(256)
        assert self.lib.CAN_GetValue(handle, parameter, ctypes.addressof(out), 256) == OK
        return out.value.decode()

    def set_state(self, channel: int, state: int, tx: int = 0, rx: int = 0) -> None:
        assert self.lib.simpcan_set_state(channel, state, tx, rx) == 0

    def reset(self) -> None:
        self.lib.simpcan_reset()


@pytest.fixture
def sim(simlib_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    from can.interfaces.pcan import basic

    path = simlib_path("pcan")
    monkeypatch.setenv("CAN_PCAN_LIBRARY", str(path))
    monkeypatch.delenv("SIMCAN_CHANNELS", raising=False)
    monkeypatch.delenv("SIMCAN_PCAN_QUEUE", raising=False)
    basic.LIBRARY.reset()
    s = Sim(path)
    s.reset()
    yield s
    s.reset()
    basic.LIBRARY.reset()


def _recv(bus: can.BusABC, timeout: float = 2.0) -> Message:
    msg = bus.recv(timeout)
    assert msg is not None, "nothing received"
    return msg


# -- the generic suite ------------------------------------------------------------------------


@pytest.mark.usefixtures("sim")
class TestPcanContract(BusContract):
    def open_pair(self, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
        a = can.Bus(interface="pcan", channel="PCAN_USBBUS1", **kwargs)
        b = can.Bus(interface="pcan", channel="PCAN_USBBUS2", **kwargs)
        return a, b


@pytest.mark.usefixtures("sim")
class TestPcanFdContract(BusContract):
    supports_fd = True

    def open_pair(self, **kwargs: Any) -> tuple[can.BusABC, can.BusABC]:
        a = can.Bus(interface="pcan", channel="PCAN_USBBUS3", fd=True, **FD_KEYS, **kwargs)
        b = can.Bus(interface="pcan", channel="PCAN_USBBUS4", fd=True, **FD_KEYS, **kwargs)
        return a, b


# -- the manual's examples and configuration --------------------------------------------------


def test_manual_configuration_file_example(sim: Sim, tmp_path: pathlib.Path) -> None:
    # Section 4.6.1, verbatim.
    path = tmp_path / "can.ini"
    path.write_text(
        "[default]\n"
        "interface = pcan\n"
        "channel = PCAN_USBBUS1\n"
        "state = can.bus.BusState.PASSIVE\n"
        "bitrate = 500000\n"
    )
    config = can.util.load_config(path=str(path))
    assert config["bitrate"] == 500000
    with can.Bus(**config) as bus, can.Bus(interface="pcan", channel="PCAN_USBBUS2") as peer:
        assert bus.state is BusState.PASSIVE
        assert sim.value(USBBUS1, LISTEN_ONLY) == 1
        assert sim.value(USBBUS1, BUSSPEED_NOMINAL) == 500000
        # Listen only: it hears the bus but never sends.
        peer.send(Message(arbitration_id=0x42, is_extended_id=False, data=b"\x01"))
        assert _recv(bus).arbitration_id == 0x42
        with pytest.raises(can.CanOperationError) as info:
            bus.send(Message(arbitration_id=0x43, is_extended_id=False))
        assert info.value.error_code == ILLOPERATION


def test_manual_defaults_and_send_one_example(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    # The defaults of section 4.6.3: PCAN_USBBUS1, ACTIVE, 500 kbit/s.
    with can.Bus(interface="pcan") as bus:
        assert bus.channel_info == "PCAN_USBBUS1"
        assert bus.state is BusState.ACTIVE
        assert sim.value(USBBUS1, LISTEN_ONLY) == 0
        assert sim.value(USBBUS1, BUSSPEED_NOMINAL) == 500000
    # Section 1's send_one() with the pcan line of its comment.
    with can.interface.Bus(interface="pcan", channel="PCAN_USBBUS1", bitrate=250000) as bus:
        with can.Bus(interface="pcan", channel="PCAN_USBBUS2", bitrate=250000) as peer:
            msg = can.Message(
                arbitration_id=0xC0FFEE, data=[0, 25, 0, 1, 3, 1, 4, 1], is_extended_id=True
            )
            try:
                bus.send(msg)
                print(f"Message sent on {bus.channel_info}")
            except can.CanError:
                print("Message NOT sent")
            assert capsys.readouterr().out == "Message sent on PCAN_USBBUS1\n"
            got = _recv(peer)
            assert (got.arbitration_id, bytes(got.data)) == (
                0xC0FFEE,
                bytes([0, 25, 0, 1, 3, 1, 4, 1]),
            )
        assert sim.value(USBBUS1, BUSSPEED_NOMINAL) == 250000


def test_config_keys_from_a_file_reach_the_bus(sim: Sim, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "can.ini"
    keys = "".join(f"{key} = {value}\n" for key, value in FD_KEYS.items())
    path.write_text(
        "[default]\ninterface = pcan\nchannel = PCAN_USBBUS3\nfd = True\nauto_reset = yes\n"
        "receive_own_messages = 1\n" + keys
    )
    config = can.util.load_config(path=str(path))
    assert config["f_clock_mhz"] == 80 and config["nom_tseg1"] == 129
    with can.Bus(**config) as bus:
        assert bus.protocol is can.CanProtocol.CAN_FD
        assert sim.value(USBBUS3, BUSSPEED_NOMINAL) == 500000
        assert sim.value(USBBUS3, BUSSPEED_DATA) == 5000000
        bus.send(Message(arbitration_id=1, is_fd=True, data=b"\x01" * 12))
        assert _recv(bus).is_rx is False  # receive_own_messages from the file


# -- bit rates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bitrate", "speed"),
    [
        (1000000, 1000000),
        (800000, 800000),
        (500000, 500000),
        (250000, 250000),
        (125000, 125000),
        (100000, 100000),
        (95000, 95238),
        (83000, 83333),
        (50000, 50000),
        (47000, 47619),
        (33000, 33333),
        (20000, 20000),
        (10000, 10000),
        (5000, 5000),
    ],
)
def test_every_bitrate_code_gives_its_speed(sim: Sim, bitrate: int, speed: int) -> None:
    # The driver decodes the BTR0/BTR1 registers at 8 MHz itself.
    with can.Bus(interface="pcan", bitrate=bitrate):
        assert sim.value(USBBUS1, BUSSPEED_NOMINAL) == speed


def test_classic_timing_is_the_btr_registers(sim: Sim) -> None:
    # 8 MHz, BRP 1, TSEG1 13, TSEG2 2, SJW 1: BTR0 = 0x00, BTR1 = 0x1C (PCAN_BAUD_500K).
    timing = can.BitTiming(f_clock=8000000, brp=1, tseg1=13, tseg2=2, sjw=1)
    with can.Bus(interface="pcan", timing=timing, bitrate=10000):
        assert sim.value(USBBUS1, BITRATE_INFO) == 0x001C
        assert sim.value(USBBUS1, BUSSPEED_NOMINAL) == 500000
    with pytest.raises(ValueError, match="f_clock=8000000"):
        can.Bus(interface="pcan", timing=can.BitTiming(16000000, 2, 13, 2, 1))


def test_fd_bitrate_string_from_keys_and_from_timing(sim: Sim) -> None:
    expected = (
        "f_clock=80000000,nom_brp=1,nom_tseg1=129,nom_tseg2=30,nom_sjw=1,"
        "data_brp=1,data_tseg1=9,data_tseg2=6,data_sjw=1"
    )
    with can.Bus(interface="pcan", channel="PCAN_USBBUS3", fd=True, **FD_KEYS) as bus:
        assert sim.text(USBBUS3, BITRATE_INFO_FD) == expected
        assert bus.protocol is can.CanProtocol.CAN_FD
    keys = dict(FD_KEYS)
    del keys["f_clock_mhz"]
    timing = can.BitTimingFd(f_clock=80000000, **keys)
    with can.Bus(interface="pcan", channel="PCAN_USBBUS3", timing=timing):
        assert sim.text(USBBUS3, BITRATE_INFO_FD) == expected
        # 80 MHz / (1 + 129 + 30) and 80 MHz / (1 + 9 + 6).
        assert sim.value(USBBUS3, BUSSPEED_NOMINAL) == 500000
        assert sim.value(USBBUS3, BUSSPEED_DATA) == 5000000
    with can.Bus(interface="pcan", channel="PCAN_USBBUS3", fd=True, f_clock=40000000, **keys):
        assert sim.value(USBBUS3, BUSSPEED_NOMINAL) == 250000


def test_bad_arguments_are_value_errors_naming_them(sim: Sim) -> None:
    from can.interfaces.pcan import PcanBus

    with pytest.raises(ValueError, match="bitrate 123456"):
        can.Bus(interface="pcan", bitrate=123456)
    with pytest.raises(ValueError, match="unknown channel 'PCAN_FOOBUS1'"):
        can.Bus(interface="pcan", channel="PCAN_FOOBUS1")
    with pytest.raises(ValueError, match="data_sjw"):
        can.Bus(interface="pcan", fd=True, **{k: v for k, v in FD_KEYS.items() if k != "data_sjw"})
    with pytest.raises(ValueError, match="f_clock"):
        can.Bus(interface="pcan", fd=True, **{**FD_KEYS, "f_clock_mhz": 33})
    with pytest.raises(ValueError, match="either f_clock or f_clock_mhz"):
        # (through can.Bus all the keys would become a timing=, which takes precedence)
        PcanBus(fd=True, f_clock=80000000, **FD_KEYS)
    with pytest.raises(ValueError, match="state"):
        can.Bus(interface="pcan", state="sleepy")
    assert sim.ctl.open_ports(0) == 0


# -- error mapping ----------------------------------------------------------------------------


def test_initialization_errors_carry_the_driver_status(sim: Sim) -> None:
    from can.interfaces.pcan import PcanCanInitializationError, PcanError

    # No PCI card in the simulated machine.
    with pytest.raises(PcanCanInitializationError) as info:
        can.Bus(interface="pcan", channel="PCAN_PCIBUS1")
    assert info.value.error_code == ILLHW
    assert isinstance(info.value, can.CanInitializationError)
    assert isinstance(info.value, PcanError)
    assert "PCAN_ERROR_ILLHW: Hardware handle is invalid." in str(info.value)
    # A channel is initialized once.
    with can.Bus(interface="pcan"):
        with pytest.raises(PcanCanInitializationError) as info:
            can.Bus(interface="pcan")
        assert info.value.error_code == INITIALIZE
    # The driver rejects an FD bit timing outside its ranges (nom_tseg1 1..256).
    with pytest.raises(PcanCanInitializationError) as info:
        can.Bus(interface="pcan", fd=True, **{**FD_KEYS, "nom_tseg1": 300})
    assert info.value.error_code == ILLPARAMVAL
    assert "nom_tseg1=300" in str(info.value)
    assert sim.ctl.open_ports(0) == 0


def test_status_texts_name_every_code(sim: Sim) -> None:
    from can.interfaces.pcan import basic

    basic.LIBRARY.load()
    assert basic.status_text(BUSOFF) == (
        "PCAN_ERROR_BUSOFF: Bus error: the CAN controller is in bus-off state."
    )
    combined = basic.status_text(BUSPASSIVE | QOVERRUN)
    assert "PCAN_ERROR_BUSPASSIVE" in combined and "PCAN_ERROR_QOVERRUN" in combined
    assert basic.status_text(ILLHW).startswith("PCAN_ERROR_ILLHW")
    assert basic.describe(OK)[0] is False and basic.describe(BUSOFF)[0] is True


def test_send_errors_are_operation_errors_with_the_status(sim: Sim) -> None:
    from can.interfaces.pcan import PcanCanOperationError, PcanError

    with can.Bus(interface="pcan") as bus:
        sim.set_state(0, simctl.BUSOFF, 255, 0)
        with pytest.raises(PcanCanOperationError) as info:
            bus.send(Message(arbitration_id=1, is_extended_id=False))
        assert info.value.error_code == BUSOFF
        assert isinstance(info.value, PcanError) and isinstance(info.value, can.CanOperationError)
        assert "PCAN_ERROR_BUSOFF" in str(info.value)
        with pytest.raises(can.CanOperationError, match="classic CAN"):
            bus.send(Message(arbitration_id=1, is_fd=True, data=b"\x00" * 12))


# -- frames, FD, timestamps, echo ---------------------------------------------------------------


def test_fd_frames_and_classic_frames_on_an_fd_channel(sim: Sim) -> None:
    with (
        can.Bus(interface="pcan", channel="PCAN_USBBUS3", fd=True, **FD_KEYS) as a,
        can.Bus(interface="pcan", channel="PCAN_USBBUS4", fd=True, **FD_KEYS) as b,
    ):
        a.send(Message(arbitration_id=0x1FFFFFFF, is_fd=True, bitrate_switch=True,
                       error_state_indicator=True, data=bytes(range(48))))  # fmt: skip
        got = _recv(b)
        assert (got.is_fd, got.bitrate_switch, got.error_state_indicator) == (True, True, True)
        assert (got.dlc, bytes(got.data)) == (48, bytes(range(48)))
        a.send(Message(arbitration_id=0x7, is_extended_id=False, data=b"\x01\x02"))
        got = _recv(b)
        assert (got.is_fd, got.arbitration_id, bytes(got.data)) == (False, 7, b"\x01\x02")
        with pytest.raises(ValueError, match="13 data bytes"):
            a.send(Message(arbitration_id=1, is_fd=True, data=b"\x00" * 13, check=False))


def test_timestamps_are_host_time_from_the_drivers_clock(sim: Sim) -> None:
    with can.Bus(interface="pcan", channel="PCAN_USBBUS2") as bus:
        before = time.time()
        sim.ctl.inject_frame(0, 0x100, b"\x01")
        first_us = sim.ctl.now_us()
        time.sleep(0.05)
        sim.ctl.inject_frame(0, 0x101, b"\x02")
        second_us = sim.ctl.now_us()
        after = time.time()
        one, two = _recv(bus), _recv(bus)
        assert before - 0.01 <= one.timestamp <= two.timestamp <= after + 0.01
        # The spacing is the driver's, to the microsecond (now_us is read just after each).
        assert abs((two.timestamp - one.timestamp) - (second_us - first_us) / 1e6) < 0.002


def test_timestamp_fields_combine_as_the_header_says(sim: Sim) -> None:
    # micros + 1000 * millis + 0x100000000 * 1000 * millis_overflow microseconds.
    with can.Bus(interface="pcan") as bus:
        offset = bus._time_offset
        struct.pack_into("<IBB8s2xIHH", bus._rx, 0, 0x5, 0, 1, b"\x09", 5, 1, 7)
        msg = bus._classic_message()
        assert msg is not None
        assert msg.timestamp == pytest.approx((7 + 5000 + 2**32 * 1000) / 1e6 + offset, abs=1e-6)


def test_receive_own_messages_are_not_rx(sim: Sim) -> None:
    with (
        can.Bus(interface="pcan", receive_own_messages=True) as a,
        can.Bus(interface="pcan", channel="PCAN_USBBUS2") as b,
    ):
        a.send(Message(arbitration_id=0x55, is_extended_id=False, data=b"\x05"))
        own, other = _recv(a), _recv(b)
        assert (own.arbitration_id, own.is_rx, other.is_rx) == (0x55, False, True)
        assert own.channel == "PCAN_USBBUS1" and other.channel == "PCAN_USBBUS2"


# -- filters ----------------------------------------------------------------------------------


def test_range_filters_are_applied_by_the_driver(sim: Sim) -> None:
    with can.Bus(interface="pcan") as a, can.Bus(interface="pcan", channel="PCAN_USBBUS2") as b:
        b.set_filters([{"can_id": 0x120, "can_mask": 0x7F0, "extended": False}])
        assert sim.value(USBBUS2, MESSAGE_FILTER) == FILTER_CUSTOM
        for can_id in (0x110, 0x130, 0x7FF):
            a.send(Message(arbitration_id=can_id, is_extended_id=False))
        a.send(Message(arbitration_id=0x125, is_extended_id=True))
        # Nothing entered the receive queue: the event fd stays unreadable.
        assert select.select([b.fileno()], [], [], 0.05)[0] == []
        a.send(Message(arbitration_id=0x12A, is_extended_id=False))
        assert _recv(b).arbitration_id == 0x12A
        b.set_filters(None)
        assert sim.value(USBBUS2, MESSAGE_FILTER) == FILTER_OPEN


def test_other_masks_filter_in_software(sim: Sim) -> None:
    with can.Bus(interface="pcan") as a, can.Bus(interface="pcan", channel="PCAN_USBBUS2") as b:
        # 0x701 selects IDs that are not one range: the driver's filter stays open.
        b.set_filters([{"can_id": 0x101, "can_mask": 0x701}])
        assert sim.value(USBBUS2, MESSAGE_FILTER) == FILTER_OPEN
        for can_id in (0x101, 0x102, 0x1F1, 0x201):
            a.send(Message(arbitration_id=can_id, is_extended_id=False))
        kept = []
        while (msg := b.recv(0.1)) is not None:
            kept.append(msg.arbitration_id)
        assert kept == [0x101, 0x1F1]


# -- error frames, bus state, recovery ----------------------------------------------------------


def test_error_frames_carry_type_and_counters(sim: Sim) -> None:
    with can.Bus(interface="pcan", channel="PCAN_USBBUS2") as bus:
        # ID 2: form error; DATA[0] 1: in reception; DATA[1] position; DATA[2] RX, DATA[3] TX.
        sim.ctl.inject_error(0, 0x2, bytes([1, 10, 5, 97]))
        msg = _recv(bus)
        assert msg.is_error_frame and msg.arbitration_id == 2
        assert bytes(msg.data) == bytes([1, 10, 5, 97])
        assert bus.error_counters == (97, 5)


def test_error_frames_and_status_messages_on_an_fd_channel(sim: Sim) -> None:
    with can.Bus(interface="pcan", channel="PCAN_USBBUS4", fd=True, **FD_KEYS) as bus:
        sim.set_state(1, simctl.PASSIVE, 128, 0)  # a status message first, consumed
        sim.ctl.inject_error(1, 0x4, bytes([0, 3, 0, 128]))
        msg = _recv(bus)
        assert (msg.is_error_frame, msg.arbitration_id, bytes(msg.data)) == (
            True,
            4,
            bytes([0, 3, 0, 128]),
        )
        assert bus.error_counters == (128, 0)
        assert bus.status() == BUSPASSIVE


@pytest.mark.parametrize(
    ("state", "status", "bus_state"),
    [
        (simctl.WARNING, BUSWARNING, BusState.ACTIVE),
        (simctl.PASSIVE, BUSPASSIVE, BusState.ACTIVE),
        (simctl.BUSOFF, BUSOFF, BusState.ERROR),
        (simctl.ACTIVE, OK, BusState.ACTIVE),
    ],
)
def test_bus_status_and_state(sim: Sim, state: int, status: int, bus_state: BusState) -> None:
    with can.Bus(interface="pcan") as bus:
        sim.set_state(0, state, 130, 2)
        assert bus.status() == status
        assert bus.status_is_ok() is (status == OK)
        assert bus.state is bus_state
        # The driver's status message is consumed, not returned as a frame.
        assert bus.recv(0.05) is None


def test_bus_off_recovery_by_reset(sim: Sim) -> None:
    with can.Bus(interface="pcan") as a, can.Bus(interface="pcan", channel="PCAN_USBBUS2") as b:
        b.set_filters([{"can_id": 0x10, "can_mask": 0x7FF, "extended": False}])
        sim.set_state(0, simctl.BUSOFF, 255, 0)
        assert a.state is BusState.ERROR
        with pytest.raises(can.CanOperationError):
            a.send(Message(arbitration_id=0x10, is_extended_id=False))
        assert a.reset() is True
        assert a.status() == OK and a.state is BusState.ACTIVE
        a.send(Message(arbitration_id=0x11, is_extended_id=False))
        a.send(Message(arbitration_id=0x10, is_extended_id=False))
        assert _recv(b).arbitration_id == 0x10
        assert sim.ctl.open_ports(0) == 2


def test_bus_off_recovery_by_the_driver_with_auto_reset(sim: Sim) -> None:
    with can.Bus(interface="pcan", auto_reset=True) as a:
        sim.set_state(0, simctl.BUSOFF, 255, 0)
        assert a.status() == OK
        a.send(Message(arbitration_id=0x10, is_extended_id=False))


def test_receive_queue_overrun_is_reported(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMCAN_PCAN_QUEUE", "4")
    with can.Bus(interface="pcan") as a, can.Bus(interface="pcan", channel="PCAN_USBBUS2") as b:
        for i in range(10):
            a.send(Message(arbitration_id=i, is_extended_id=False))
        assert b.status() & QOVERRUN
        assert [_recv(b).arbitration_id for _ in range(4)] == [0, 1, 2, 3]
        assert b.recv(0.05) is None


def test_state_setter_switches_listen_only(sim: Sim) -> None:
    with can.Bus(interface="pcan") as bus:
        bus.state = BusState.PASSIVE
        assert sim.value(USBBUS1, LISTEN_ONLY) == 1 and bus.state is BusState.PASSIVE
        with pytest.raises(can.CanOperationError) as info:
            bus.send(Message(arbitration_id=1, is_extended_id=False))
        assert info.value.error_code == ILLOPERATION
        bus.state = BusState.ACTIVE
        assert sim.value(USBBUS1, LISTEN_ONLY) == 0
        bus.send(Message(arbitration_id=1, is_extended_id=False))
        with pytest.raises(ValueError):
            bus.state = BusState.ERROR


# -- device -----------------------------------------------------------------------------------


def test_flash_and_device_number(sim: Sim) -> None:
    with can.Bus(interface="pcan", channel="PCAN_USBBUS3") as bus:
        bus.flash(True)
        assert sim.value(USBBUS3, IDENTIFYING) == 1
        bus.flash(False)
        assert sim.value(USBBUS3, IDENTIFYING) == 0
        assert bus.get_device_number() == 2  # the simulated second adapter's
        assert bus.set_device_number(42) is True
        assert sim.value(USBBUS3, DEVICE_ID) == 42
        assert bus.get_device_number() == 42
    with can.Bus(interface="pcan", device_id=42) as bus:
        assert bus.channel_info == "PCAN_USBBUS3"
    from can.interfaces.pcan import PcanCanInitializationError

    with pytest.raises(PcanCanInitializationError, match="device ID 99"):
        can.Bus(interface="pcan", device_id=99)


def test_detect_available_configs(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    with can.Bus(interface="pcan", channel="PCAN_USBBUS2"):
        configs = can.detect_available_configs("pcan")
    names = [c["channel"] for c in configs]
    assert names == [f"PCAN_USBBUS{i}" for i in range(1, 9)]
    first, second = configs[0], configs[1]
    assert first["interface"] == "pcan" and first["supports_fd"] is True
    assert (first["channel_condition"], second["channel_condition"]) == (1, 2)
    assert (first["controller_number"], second["controller_number"]) == (0, 1)
    monkeypatch.setenv("SIMCAN_CHANNELS", "1")
    assert [c["channel"] for c in can.detect_available_configs("pcan")] == [
        "PCAN_USBBUS1",
        "PCAN_USBBUS2",
    ]


# -- life cycle, library ------------------------------------------------------------------------


def test_shutdown_releases_the_channel(sim: Sim) -> None:
    a = can.Bus(interface="pcan")
    b = can.Bus(interface="pcan", channel="PCAN_USBBUS2")
    assert sim.ctl.open_ports(0) == 2
    a.shutdown()
    a.shutdown()
    assert sim.ctl.open_ports(0) == 1
    b.shutdown()
    assert sim.ctl.open_ports(0) == 0
    with can.Bus(interface="pcan"):  # the channel can be opened again
        assert sim.ctl.open_ports(0) == 1


def test_shutdown_ends_a_blocked_recv_in_another_thread(sim: Sim) -> None:
    import threading

    bus = can.Bus(interface="pcan", channel=USBBUS1)  # a numeric handle works too
    assert bus.channel_info == "PCAN_USBBUS1"
    outcome: list[Any] = []

    def wait() -> None:
        try:
            outcome.append(bus.recv(None))
        except can.CanOperationError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.05)
    bus.shutdown()
    thread.join(3.0)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], can.CanOperationError)


def test_a_missing_library_is_one_clear_error(
    sim: Sim, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    from can.interfaces.pcan import basic

    missing = tmp_path / "libpcanbasic.so"
    monkeypatch.setenv("CAN_PCAN_LIBRARY", str(missing))
    basic.LIBRARY.reset()
    with pytest.raises(can.CanInitializationError) as info:
        can.Bus(interface="pcan")
    text = str(info.value)
    assert f"CAN_PCAN_LIBRARY={missing}" in text
    assert "PEAK PCAN-Basic" in text and "peak-system.com" in text
    assert can.detect_available_configs("pcan") == []


def test_library_names_per_platform() -> None:
    from can.interfaces.pcan import basic

    assert basic.LIBRARY.names["win32"] == ("PCANBasic.dll",)
    assert basic.LIBRARY.names["linux"][0] == "libpcanbasic.so"
    assert basic.LIBRARY.names["darwin"] == ("libPCBUSB.dylib",)
    assert basic.LIBRARY.env_var == "CAN_PCAN_LIBRARY"


def test_module_paths_and_names() -> None:
    import can.interfaces.pcan as package
    import can.interfaces.pcan.pcan as module

    assert package.PcanBus is module.PcanBus
    assert issubclass(package.PcanError, can.CanError)
    assert can.interfaces.resolve_interface("pcan") is module.PcanBus


# -- the native receive helper ----------------------------------------------------------------


def _all_fields(msg: Message) -> tuple[Any, ...]:
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


def _ctypes_decode(bus: Any) -> Message:
    """What the ctypes path makes of the frame the last native read left in the buffer: its
    CAN_Read is replaced by one that reports PCAN_ERROR_OK and leaves the buffer as it is."""
    native, read = bus._native, bus._read
    bus._native, bus._read = None, lambda *args: OK
    try:
        msg, _ = bus._recv_internal(0)
    finally:
        bus._native, bus._read = native, read
    assert msg is not None
    return msg


def test_native_and_ctypes_receive_give_identical_messages(sim: Sim) -> None:
    sent = [
        Message(arbitration_id=0x123, is_extended_id=False, data=b"\x01\x02\x03"),
        Message(arbitration_id=0x1ABCDEF0, is_extended_id=True, data=bytes(range(8))),
        Message(arbitration_id=0x7FF, is_extended_id=False, data=b""),
        Message(arbitration_id=0x10, is_extended_id=False, is_remote_frame=True, dlc=5),
        Message(arbitration_id=0x1FFFFFFF, is_extended_id=True, is_remote_frame=True, dlc=8),
    ]
    with (
        can.Bus(interface="pcan", receive_own_messages=True) as a,
        can.Bus(interface="pcan", channel="PCAN_USBBUS2") as b,
    ):
        assert a._native is not None and b._native is not None  # Linux: the helper is used
        for msg in sent:
            a.send(msg)
        sim.ctl.inject_error(0, 0x2, bytes([1, 10, 5, 97]))  # decoded by the Python code
        for bus, count in ((b, len(sent) + 1), (a, len(sent))):  # a: its own echoes
            for i in range(count):
                got = _recv(bus)
                assert _all_fields(got) == _all_fields(_ctypes_decode(bus))
                if i < len(sent):
                    assert got.is_rx is (bus is b)
                    assert got.arbitration_id == sent[i].arbitration_id
                    assert got.dlc == sent[i].dlc
                    assert bytes(got.data) == bytes(sent[i].data)
                else:
                    assert got.is_error_frame and got.arbitration_id == 2


def test_the_ctypes_receive_path_stays_available(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAN_VENDOR_NATIVE_RX", "0")
    with can.Bus(interface="pcan") as a, can.Bus(interface="pcan", channel="PCAN_USBBUS2") as b:
        assert b._native is None
        a.send(Message(arbitration_id=0x66, is_extended_id=False, data=b"\x06"))
        got = _recv(b)
        assert got.arbitration_id == 0x66 and bytes(got.data) == b"\x06"


def test_native_and_ctypes_send_put_the_same_frames_on_the_bus(sim: Sim) -> None:
    messages = [
        Message(arbitration_id=0x123, is_extended_id=False, data=b"\x01\x02\x03"),
        Message(arbitration_id=0x1ABCDEF0, is_extended_id=True, data=bytes(range(8))),
        Message(arbitration_id=0x10, is_extended_id=False, is_remote_frame=True, dlc=5),
        Message(arbitration_id=0x7FF, is_extended_id=False, data=b""),
    ]
    with can.Bus(interface="pcan") as a, can.Bus(interface="pcan", channel="PCAN_USBBUS2") as b:
        assert a._native_tx is not None  # Linux: the helper is used
        got = {}
        for path in ("native", "ctypes"):
            if path == "ctypes":
                a._native_tx = None
            for msg in messages:
                a.send(msg)
            got[path] = [_all_fields(_recv(b))[2:] for _ in messages]
        assert got["native"] == got["ctypes"]
        assert [f[0] for f in got["native"]] == [m.arbitration_id for m in messages]


def test_native_send_refuses_what_the_ctypes_path_refuses(sim: Sim) -> None:
    with can.Bus(interface="pcan") as a:
        assert a._native_tx is not None
        with pytest.raises(ValueError, match="at most 8 data bytes"):
            a.send(Message(arbitration_id=1, is_extended_id=False, data=bytes(9), check=False))
        with pytest.raises(can.CanOperationError, match="CAN FD"):
            a.send(Message(arbitration_id=1, is_fd=True, data=bytes(12)))
