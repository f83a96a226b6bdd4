"""Configuration: the manual's section 2 examples, type conversion and malformed values."""

from __future__ import annotations

import doctest
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import can
import can.interfaces
import can.util
from can.interfaces.virtual import VirtualBus

DOCS = Path(__file__).resolve().parent.parent / "docs"


class RecordingBus(VirtualBus):
    """A virtual bus that remembers the arguments the Bus factory gave it."""

    def __init__(self, channel: Any = None, **kwargs: Any) -> None:
        self.init_channel = channel
        self.init_kwargs = kwargs
        super().__init__(channel=channel)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    """No configuration from this machine: empty can.rc, no CAN_* variables, a temporary home,
    the /etc file moved into the temporary directory, the temporary directory as cwd; and a
    ``recorder`` interface registered."""
    home = tmp_path / "home"
    home.mkdir()
    etc = tmp_path / "etc" / "can.conf"
    etc.parent.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.delenv("APPDATA", raising=False)
    for variable in list(os.environ):
        if variable.startswith("CAN_"):
            monkeypatch.delenv(variable)
    monkeypatch.setattr(can.util, "CONFIG_FILES", ["~/can.conf", str(etc), "~/.can", "~/.canrc"])
    monkeypatch.setattr(can, "rc", {})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(can.interfaces.BACKENDS, "recorder", (__name__, "RecordingBus"))
    buses: list[can.BusABC] = []
    yield SimpleNamespace(home=home, etc=etc, tmp=tmp_path, buses=buses)
    for bus in buses:
        bus.shutdown()


def recorded(bus: can.BusABC) -> tuple[Any, dict[str, Any]]:
    assert isinstance(bus, RecordingBus)
    return bus.init_channel, bus.init_kwargs


# -- 2.1 In Code ---------------------------------------------------------------------------------


def test_manual_2_1_rc_then_bus_from_can_interfaces_interface() -> None:
    can.rc["interface"] = "socketcan"
    can.rc["channel"] = "vcan0"
    can.rc["bitrate"] = 500000
    from can.interfaces.interface import Bus

    # The manual's socketcan configuration, as the Bus factory sees it
    assert can.util.load_config() == {
        "interface": "socketcan",
        "channel": "vcan0",
        "bitrate": 500000,
    }
    # and the same example on interfaces that need no kernel
    can.rc["interface"] = "virtual"
    with Bus() as bus:
        assert isinstance(bus, VirtualBus)
        assert bus.channel_id == "vcan0"
    can.rc["interface"] = "recorder"
    with Bus() as bus:
        assert recorded(bus) == ("vcan0", {"bitrate": 500000})


def test_manual_2_1_bus_with_bustype_channel_bitrate() -> None:
    with can.interface.Bus(bustype="virtual", channel="vcan0", bitrate=500000) as bus:
        assert isinstance(bus, VirtualBus)
        assert bus.channel_info == "Virtual bus channel vcan0"
    with can.interface.Bus(bustype="recorder", channel="vcan0", bitrate=500000) as bus:
        assert recorded(bus) == ("vcan0", {"bitrate": 500000})


def test_manual_3_1_bus_with_interface_keyword() -> None:
    with can.Bus(interface="recorder", channel=0, bitrate=250000) as bus:
        assert recorded(bus) == (0, {"bitrate": 250000})


# -- 2.2 Configuration File ----------------------------------------------------------------------

MANUAL_CONFIG = """\
[default]
interface = recorder
channel = vcan0
bitrate = 250000

[HS]
# All the values from the 'default' section are inherited
channel = vcan1
bitrate = 500000

[MS]
# All the values from the 'default' section are inherited
channel = vcan2
bitrate = 125000
"""


@pytest.mark.parametrize("name", ["can.conf", ".can", ".canrc"])
def test_manual_2_2_contexts_from_a_file_in_home(isolated: SimpleNamespace, name: str) -> None:
    (isolated.home / name).write_text(MANUAL_CONFIG)
    from can.interfaces.interface import Bus

    hs_bus = Bus(context="HS")
    ms_bus = Bus(context="MS")
    default_bus = Bus()
    isolated.buses += [hs_bus, ms_bus, default_bus]
    assert recorded(hs_bus) == ("vcan1", {"bitrate": 500000})
    assert recorded(ms_bus) == ("vcan2", {"bitrate": 125000})
    assert recorded(default_bus) == ("vcan0", {"bitrate": 250000})


def test_manual_2_2_contexts_from_etc(isolated: SimpleNamespace) -> None:
    isolated.etc.write_text(MANUAL_CONFIG)
    with can.Bus(config_context="MS") as bus:
        assert recorded(bus) == ("vcan2", {"bitrate": 125000})


def test_manual_2_2_contexts_through_path(isolated: SimpleNamespace) -> None:
    path = isolated.tmp / "project.conf"
    path.write_text(MANUAL_CONFIG.replace("recorder", "virtual"))
    assert can.util.load_config(path=path, context="HS") == {
        "interface": "virtual",
        "channel": "vcan1",
        "bitrate": 500000,
    }
    assert can.util.load_config(path=str(path)) == {
        "interface": "virtual",
        "channel": "vcan0",
        "bitrate": 250000,
    }


def test_manual_2_2_windows_file_list(
    isolated: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    windows = can.util._platform_config_files("win32")
    assert windows == ["~/can.conf", "can.ini", os.path.join("$APPDATA", "can.ini")]
    assert can.util._platform_config_files("linux") == [
        "~/can.conf",
        "/etc/can.conf",
        "~/.can",
        "~/.canrc",
    ]
    if sys.platform != "win32":
        assert can.util._platform_config_files("darwin") == can.util._platform_config_files("linux")
    monkeypatch.setattr(can.util, "CONFIG_FILES", windows)
    appdata = isolated.tmp / "appdata"
    appdata.mkdir()
    (isolated.home / "can.conf").write_text("[default]\ninterface = virtual\na = home\nb = home\n")
    (isolated.tmp / "can.ini").write_text("[default]\nb = cwd\nc = cwd\n")
    assert can.util.load_file_config() == {
        "interface": "virtual",
        "a": "home",
        "b": "cwd",
        "c": "cwd",
    }
    monkeypatch.setenv("APPDATA", str(appdata))
    (appdata / "can.ini").write_text("[default]\nc = appdata\n")
    assert can.util.load_file_config()["c"] == "appdata"


# -- 2.3 Environment Variables -------------------------------------------------------------------


def test_manual_2_3_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAN_INTERFACE", "recorder")
    monkeypatch.setenv("CAN_CHANNEL", "vcan7")
    monkeypatch.setenv("CAN_BITRATE", "1000000")
    with can.Bus() as bus:
        assert recorded(bus) == ("vcan7", {"bitrate": 1000000})
    monkeypatch.setenv("CAN_INTERFACE", "virtual")
    with can.Bus() as bus:
        assert isinstance(bus, VirtualBus)
        assert bus.channel_id == "vcan7"


def test_arguments_beat_rc_beats_environment_beats_files(
    isolated: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated.home / ".canrc").write_text(
        "[default]\ninterface = virtual\nchannel = file\nbitrate = 1\nfd = true\n"
    )
    monkeypatch.setenv("CAN_INTERFACE", "recorder")
    monkeypatch.setenv("CAN_CHANNEL", "env")
    monkeypatch.setenv("CAN_BITRATE", "2")
    can.rc["bitrate"] = 3
    can.rc["channel"] = "rc"
    with can.Bus(channel="argument") as bus:
        assert recorded(bus) == ("argument", {"bitrate": 3, "fd": True})
    with can.Bus() as bus:
        assert recorded(bus) == ("rc", {"bitrate": 3, "fd": True})
    del can.rc["bitrate"]
    with can.Bus() as bus:
        assert recorded(bus) == ("rc", {"bitrate": 2, "fd": True})


# -- 2.4 Interface Names -------------------------------------------------------------------------

MANUAL_INTERFACE_NAMES = [
    "socketcan",
    "kvaser",
    "serial",
    "slcan",
    "ixxat",
    "pcan",
    "usb2can",
    "nican",
    "iscan",
    "neovi",
    "vector",
    "virtual",
]


def test_manual_2_4_interface_names_are_valid() -> None:
    for name in [*MANUAL_INTERFACE_NAMES, "canalystii", "systec"]:
        assert name in can.VALID_INTERFACES
        assert name in can.interfaces.BACKENDS


# -- Bus arguments -------------------------------------------------------------------------------


def test_bus_ignore_config(monkeypatch: pytest.MonkeyPatch) -> None:
    can.rc.update(interface="virtual", channel="rc", bitrate=1)
    monkeypatch.setenv("CAN_CONFIG", '{"fd": true}')
    with can.Bus(interface="recorder", channel="x", ignore_config=True, bitrate="125k") as bus:
        assert recorded(bus) == ("x", {"bitrate": 125000})
    with pytest.raises(can.CanInterfaceNotImplementedError, match="no CAN interface"):
        can.Bus(channel="x", ignore_config=True)


def test_bus_without_channel_lets_the_backend_choose() -> None:
    with can.Bus(interface="recorder") as bus:
        assert recorded(bus) == (None, {})


def test_bus_positional_can_filters_as_the_manual_signature() -> None:
    filters = [{"can_id": 0x11, "can_mask": 0x7FF, "extended": False}]
    with can.Bus("f", filters, bustype="virtual") as bus:
        assert bus.filters == filters
    with pytest.raises(TypeError, match="can_filters"):
        can.Bus("f", filters, bustype="virtual", can_filters=filters)


def test_bus_alias_conflicts() -> None:
    with pytest.raises(ValueError, match="bustype"):
        can.Bus(interface="virtual", bustype="socketcan")
    with pytest.raises(ValueError, match="context"):
        can.Bus(interface="virtual", context="a", config_context="b")
    with can.Bus(interface="virtual", bustype="virtual", channel="same") as bus:
        assert isinstance(bus, VirtualBus)


def test_bus_context_alias(isolated: SimpleNamespace) -> None:
    (isolated.home / ".canrc").write_text(MANUAL_CONFIG)
    with can.Bus(context="HS") as a, can.Bus(config_context="HS") as b:
        assert recorded(a) == recorded(b) == ("vcan1", {"bitrate": 500000})


def test_bus_deprecated_interface_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(can.interfaces.BACKENDS, "socketcan", (__name__, "RecordingBus"))
    with pytest.warns(DeprecationWarning, match="socketcan_native") as warned:
        bus = can.Bus(interface="socketcan_native", channel="vcan0")
    bus.shutdown()
    assert recorded(bus) == ("vcan0", {})
    assert warned[0].filename == __file__


# -- conversion and malformed values -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500000", 500000),
        (" 500000 ", 500000),
        ("500_000", 500000),
        ("500k", 500000),
        ("500 k", 500000),
        ("500K", 500000),
        ("1M", 1000000),
        ("2.5M", 2500000),
        ("83.333k", 83333),
    ],
)
def test_bitrate_strings(isolated: SimpleNamespace, text: str, value: int) -> None:
    (isolated.home / ".canrc").write_text(
        f"[default]\ninterface = virtual\nbitrate = {text}\ndata_bitrate = {text}\n"
    )
    config = can.util.load_config()
    assert config["bitrate"] == value
    assert config["data_bitrate"] == value
    assert type(config["bitrate"]) is int


@pytest.mark.parametrize(
    ("text", "value"),
    [
        *[("true", True), ("True", True), ("yes", True), ("on", True), ("1", True)],
        *[("false", False), ("FALSE", False), ("no", False), ("off", False), ("0", False)],
    ],
)
def test_boolean_strings(isolated: SimpleNamespace, text: str, value: bool) -> None:
    (isolated.home / ".canrc").write_text(
        f"[default]\ninterface = virtual\nfd = {text}\nreceive_own_messages = {text}\n"
    )
    config = can.util.load_config()
    assert config["fd"] is value
    assert config["receive_own_messages"] is value


def test_known_keys_are_converted_from_a_file(isolated: SimpleNamespace) -> None:
    (isolated.home / ".canrc").write_text(
        "[default]\ninterface = recorder\nchannel = 0\nrx_queue_size = 100\ntimeout = 0.5\n"
        "poll_interval = 1e-3\nttyBaudrate = 115200\nsjw_abr = 0x10\n"
        'can_filters = [{"can_id": 17, "can_mask": 33, "extended": true}]\n'
        "app_name = CANalyzer\n"
    )
    with can.Bus() as bus:
        assert recorded(bus) == (
            0,  # a whole-number channel is an int, as in python-can 4.x
            {
                "rx_queue_size": 100,
                "timeout": 0.5,
                "poll_interval": 0.001,
                "ttyBaudrate": 115200,
                "sjw_abr": 16,
                "can_filters": [{"can_id": 17, "can_mask": 33, "extended": True}],
                "app_name": "CANalyzer",
            },
        )


def test_can_filters_as_python_literal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CAN_CONFIG",
        '{"interface": "virtual", "can_filters": "[{\'can_id\': 0x11, \'can_mask\': 0x7FF}]"}',
    )
    assert can.util.load_config()["can_filters"] == [{"can_id": 0x11, "can_mask": 0x7FF}]


@pytest.mark.parametrize(
    ("key", "text", "problem"),
    [
        ("bitrate", "fast", "rate in bit/s"),
        ("bitrate", "500.5", "whole number"),
        ("bitrate", "1m", "rate in bit/s"),
        ("data_bitrate", "2 Mbit", "rate in bit/s"),
        ("fd", "maybe", "boolean"),
        ("receive_own_messages", "2", "boolean"),
        ("rx_queue_size", "many", "integer"),
        ("timeout", "soon", "number"),
        ("timeout", "nan", "finite"),
        ("can_filters", "everything", "list of filters"),
        ("can_filters", '{"can_id": 1}', "list of filters"),
        ("can_filters", '[{"can_id": 1}]', "can_mask"),
    ],
)
def test_malformed_value_in_a_file_names_key_value_file_and_section(
    isolated: SimpleNamespace, key: str, text: str, problem: str
) -> None:
    path = isolated.home / ".canrc"
    path.write_text(f"[default]\ninterface = virtual\n[HS]\n{key} = {text}\n")
    with pytest.raises(ValueError) as info:
        can.Bus(context="HS")
    message = str(info.value)
    assert f"{key} = {text!r}" in message
    assert f"{path} [HS]" in message
    assert problem in message


def test_malformed_value_in_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CAN_INTERFACE", "virtual")
    monkeypatch.setenv("CAN_BITRATE", "fast")
    with pytest.raises(
        ValueError, match=r"bitrate = 'fast' \(from environment variable CAN_BITRATE"
    ):
        can.Bus()
    monkeypatch.delenv("CAN_BITRATE")
    monkeypatch.setenv("CAN_CONFIG", '{"fd": "sometimes"}')
    with pytest.raises(
        ValueError, match=r"fd = 'sometimes' \(from environment variable CAN_CONFIG"
    ):
        can.Bus()


def test_malformed_value_in_code_names_its_source() -> None:
    with pytest.raises(ValueError, match=r"bitrate = 'x' \(from the Bus\(\) arguments"):
        can.Bus(interface="virtual", bitrate="x")
    can.rc.update(interface="virtual", bitrate="y")
    with pytest.raises(ValueError, match=r"bitrate = 'y' \(from can.rc\)"):
        can.Bus()


def test_malformed_file_is_a_value_error_naming_it(isolated: SimpleNamespace) -> None:
    path = isolated.home / ".can"
    path.write_text("[default]\ninterface = virtual\ninterface = socketcan\n")
    with pytest.raises(ValueError, match=r"\.can"):
        can.Bus()
    path.write_bytes(b"[default]\ninterface = \xff\n")
    with pytest.raises(ValueError, match="UTF-8"):
        can.Bus()


def test_unknown_interface_from_a_file_names_the_file(isolated: SimpleNamespace) -> None:
    (isolated.home / ".canrc").write_text("[default]\ninterface = SocketCAN\n")
    with pytest.raises(can.CanInterfaceNotImplementedError) as info:
        can.Bus()
    message = str(info.value)
    assert "'SocketCAN'" in message
    assert ".canrc [default]" in message
    assert "'socketcan'" in message


# -- the documentation's examples run ------------------------------------------------------------


@pytest.mark.parametrize("page", ["configuration.rst", "util.rst"])
def test_docs_examples(page: str, isolated: SimpleNamespace) -> None:
    saved_level = logging.getLogger("can").level
    saved_environment = dict(os.environ)
    try:
        result = doctest.testfile(
            str(DOCS / page),
            module_relative=False,
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
            verbose=False,
            report=True,
        )
    finally:
        logging.getLogger("can").setLevel(saved_level)
        for variable in set(os.environ) - set(saved_environment):
            del os.environ[variable]
        os.environ.update(saved_environment)
    assert result.attempted > 3
    assert result.failed == 0


# -- channel numbers (issue 13, item 5) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [("0", 0), ("12", 12), ("-1", -1), ("can0", "can0"), ("0x1", "0x1"), (" 3", " 3"), (5, 5)],
)
def test_a_whole_number_channel_becomes_an_int(given: object, expected: object) -> None:
    # As python-can 4.x: whatever the source, a channel that is a whole number is that number.
    config = can.util.load_config(config={"interface": "virtual", "channel": given})
    assert (type(config["channel"]), config["channel"]) == (type(expected), expected)


def test_a_channel_number_from_the_environment_or_a_file_is_an_int(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CAN_INTERFACE", "virtual")
    monkeypatch.setenv("CAN_CHANNEL", "5")
    assert can.util.load_config()["channel"] == 5
    monkeypatch.delenv("CAN_CHANNEL")
    conf = tmp_path / "x.conf"
    conf.write_text("[default]\ninterface = virtual\nchannel = 7\n")
    assert can.util.load_config(path=conf)["channel"] == 7


def test_a_bus_class_declares_its_own_configuration_keys(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backend's CONFIG_KEYS convert its keys; the common table knows nothing of them."""
    from can.interfaces.virtual import VirtualBus

    declared = {
        "sim_queue": "int",
        "sim_rate": "rate",
        "sim_gap": "float",
        "sim_on": "bool",
        "sim_name": "str",
    }
    monkeypatch.setattr(VirtualBus, "CONFIG_KEYS", declared, raising=False)
    cfg = tmp_path / "can.ini"
    cfg.write_text(
        "[default]\ninterface = virtual\nchannel = x\nsim_queue = 0x10\nsim_rate = 500k\n"
        "sim_gap = 0.5\nsim_on = yes\nsim_name = 0x10\nother_key = 12\n"
    )
    config = can.util.load_config(path=str(cfg))
    assert config["sim_queue"] == 16
    assert config["sim_rate"] == 500000
    assert config["sim_gap"] == 0.5
    assert config["sim_on"] is True
    assert config["sim_name"] == "0x10"
    # An undeclared key that is not in the common table stays a string.
    assert config["other_key"] == "12"
