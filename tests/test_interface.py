"""The interface registry, third-party backends through entry points, can.Bus and
detect_available_configs (manual sections 2.4, 3.1.1 and 4.16)."""

from __future__ import annotations

import doctest
import importlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import can
import can.interface
import can.interfaces
import can.util
from can.interfaces.virtual import VirtualBus

PLUGIN_MODULE = '''
from can import CanOperationError
from can.interfaces.virtual import VirtualBus


class DemoBus(VirtualBus):
    """A third-party backend: a virtual bus that remembers its arguments."""

    def __init__(self, channel=None, **kwargs):
        self.init_kwargs = dict(kwargs)
        super().__init__(channel=channel)

    @staticmethod
    def _detect_available_configs():
        return [{"channel": "demo0"}, {"interface": "something else", "channel": "demo1"}]


class NoDetectionBus(DemoBus):
    @staticmethod
    def _detect_available_configs():
        raise CanOperationError("the driver cannot list devices")


def helper():
    return None
'''

ENTRY_POINTS = """\
[can.interface]
demo = can_plugin_demo:DemoBus
nodetect = can_plugin_demo:NoDetectionBus
missing_module = can_plugin_missing_xyz:Bus
faulty = can_plugin_faulty:Bus
no_class = can_plugin_demo:Missing
not_a_bus = can_plugin_demo:helper
no_attribute = can_plugin_demo
virtual = can_plugin_demo:DemoBus
with_extras = can_plugin_demo:DemoBus [fast]
"""


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.delenv("APPDATA", raising=False)
    for variable in list(os.environ):
        if variable.startswith("CAN_"):
            monkeypatch.delenv(variable)
    monkeypatch.setattr(can.util, "CONFIG_FILES", ["~/can.conf", "~/.can", "~/.canrc"])
    monkeypatch.setattr(can, "rc", {})
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[Path]:
    """An installed distribution ``can-plugin-demo`` declaring ``can.interface`` entry points.

    The entry points are read before it is installed, so that the registry's cache is stale and
    a lookup has to read them again.
    """
    can.interfaces.refresh_entry_points()
    site = tmp_path / "site"
    dist_info = site / "can_plugin_demo-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: can-plugin-demo\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(ENTRY_POINTS)
    (site / "can_plugin_demo.py").write_text(PLUGIN_MODULE)
    (site / "can_plugin_faulty.py").write_text("import can_dependency_missing_xyz\n")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        for module in ("can_plugin_demo", "can_plugin_faulty"):
            sys.modules.pop(module, None)
        importlib.invalidate_caches()
        can.interfaces.refresh_entry_points()


# -- the registry --------------------------------------------------------------------------------


def test_valid_interfaces_is_a_frozenset_of_the_registered_names() -> None:
    names = can.VALID_INTERFACES
    assert isinstance(names, frozenset)
    assert names == can.interfaces.VALID_INTERFACES
    assert set(can.interfaces.BACKENDS) <= names
    # python-can 3.3.2's deprecated aliases of socketcan stay valid names.
    assert {"socketcan_native", "socketcan_ctypes"} <= names
    assert "socketcan_native" not in can.interfaces.registered_interfaces()


def test_backends_is_the_documented_mapping() -> None:
    assert can.interface.BACKENDS is can.interfaces.BACKENDS
    assert can.interfaces.BACKENDS["virtual"] == ("can.interfaces.virtual", "VirtualBus")
    assert can.interfaces.BACKENDS["socketcan"] == ("can.interfaces.socketcan", "SocketcanBus")
    assert can.interfaces.BACKENDS["serial"] == ("can.interfaces.serial.serial_can", "SerialBus")
    for module, cls in can.interfaces.BACKENDS.values():
        assert module.startswith("can.interfaces.")
        assert cls.isidentifier()


def test_unknown_attribute_of_can_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="'can' has no attribute 'Bsu'"):
        can.Bsu  # type: ignore[attr-defined]  # noqa: B018
    assert not hasattr(can.interfaces, "NOPE")


def test_resolve_builtin() -> None:
    assert can.interfaces.resolve_interface("virtual") is VirtualBus


def test_unknown_interface_error_names_the_valid_ones() -> None:
    with pytest.raises(can.CanInterfaceNotImplementedError) as info:
        can.Bus(interface="nonexistent", channel=0)
    message = str(info.value)
    assert "'nonexistent'" in message
    assert "Bus() arguments" in message
    for name in can.interfaces.BACKENDS:
        assert repr(name) in message
    assert isinstance(info.value, can.CanError)
    with pytest.raises(can.CanInterfaceNotImplementedError, match="'virtual'"):
        can.interfaces.resolve_interface("nonexistent")


def test_interface_name_must_be_a_string() -> None:
    with pytest.raises(can.CanInterfaceNotImplementedError, match="unknown interface 3"):
        can.util.load_config(config={"interface": 3})
    with pytest.raises(can.CanInterfaceNotImplementedError, match="must be a string"):
        can.interfaces.resolve_interface(3)  # type: ignore[arg-type]


def test_builtin_with_missing_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(can.interfaces.BACKENDS, "ghost", ("can.interfaces.ghost_xyz", "GhostBus"))
    assert "ghost" in can.VALID_INTERFACES
    with pytest.raises(can.CanInterfaceNotImplementedError) as info:
        can.Bus(interface="ghost")
    assert "'can.interfaces.ghost_xyz' does not exist" in str(info.value)
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_builtin_added_at_run_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # The manual's section 6.3: "Register your backend bus class in can.interface.BACKENDS".
    monkeypatch.setitem(can.interface.BACKENDS, "mine", ("can.interfaces.virtual", "VirtualBus"))
    assert "mine" in can.VALID_INTERFACES
    with can.Bus(interface="mine", channel="m") as bus:
        assert isinstance(bus, VirtualBus)


def test_resolving_a_name_imports_only_its_module() -> None:
    code = (
        "import sys, can\n"
        "from can.interfaces import BACKENDS\n"
        "before = {m for m, _ in BACKENDS.values()} & set(sys.modules)\n"
        "can.interfaces.resolve_interface('virtual')\n"
        "after = {m for m, _ in BACKENDS.values()} & set(sys.modules)\n"
        "print(sorted(before), sorted(after))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[] ['can.interfaces.virtual']"


def test_import_can_reads_no_entry_points_and_no_config_parser() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import can\n"
        "new = set(sys.modules) - before\n"
        "print(sorted(new & {'importlib.metadata', 'configparser', 'json', 'ast'}))\n"
        "can.VALID_INTERFACES\n"
        "print('importlib.metadata' in sys.modules)\n"
    )
    lines = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert lines == ["[]", "True"]


# -- third-party backends through entry points ---------------------------------------------------


def test_entry_point_backend_is_found_without_importing_it(plugin: Path) -> None:
    with can.Bus(interface="demo", channel="p", bitrate="250k", fd="true") as bus:
        assert type(bus).__name__ == "DemoBus"
        assert type(bus).__module__ == "can_plugin_demo"
        assert bus.channel_id == "p"
        assert bus.init_kwargs == {"bitrate": 250000, "fd": True}  # type: ignore[attr-defined]
        assert isinstance(bus, can.Bus)
        assert isinstance(bus, can.BusABC)
    assert "demo" in can.VALID_INTERFACES


def test_entry_point_names_are_listed_lazily(plugin: Path) -> None:
    can.interfaces.refresh_entry_points()
    names = can.VALID_INTERFACES
    assert {"demo", "nodetect", "missing_module", "faulty", "no_class", "not_a_bus"} <= names
    assert "no_attribute" not in names
    assert "can_plugin_demo" not in sys.modules
    assert "can_plugin_faulty" not in sys.modules
    assert can.interfaces.registered_interfaces()[: len(can.interfaces.BACKENDS)] == list(
        can.interfaces.BACKENDS
    )


def test_entry_point_from_the_environment_and_files(
    plugin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAN_INTERFACE", "demo")
    monkeypatch.setenv("CAN_CHANNEL", "env")
    with can.Bus() as bus:
        assert type(bus).__name__ == "DemoBus"


def test_entry_point_cannot_shadow_a_builtin(
    plugin: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="can.registry"):
        can.interfaces.refresh_entry_points()
    assert "'virtual'" in caplog.text
    assert "built-in" in caplog.text
    assert "'no_attribute'" in caplog.text
    assert can.interfaces.resolve_interface("virtual") is VirtualBus


def test_entry_point_with_missing_module(plugin: Path) -> None:
    with pytest.raises(can.CanInterfaceNotImplementedError) as info:
        can.Bus(interface="missing_module")
    message = str(info.value)
    assert "'missing_module'" in message
    assert "can_plugin_missing_xyz:Bus" in message
    assert "does not exist" in message
    assert isinstance(info.value.__cause__, ImportError)


def test_entry_point_whose_module_fails_to_import(plugin: Path) -> None:
    with pytest.raises(can.CanInterfaceNotImplementedError) as info:
        can.Bus(interface="faulty")
    message = str(info.value)
    assert "importing 'can_plugin_faulty' failed" in message
    assert "can_dependency_missing_xyz" in message
    cause = info.value.__cause__
    assert isinstance(cause, ModuleNotFoundError)
    assert cause.name == "can_dependency_missing_xyz"


def test_entry_point_naming_a_missing_class(plugin: Path) -> None:
    with pytest.raises(can.CanInterfaceNotImplementedError, match="no attribute 'Missing'"):
        can.Bus(interface="no_class")


def test_entry_point_naming_something_that_is_not_a_bus(plugin: Path) -> None:
    with pytest.raises(can.CanInterfaceNotImplementedError, match=r"not a can\.BusABC subclass"):
        can.Bus(interface="not_a_bus")


# -- Bus -----------------------------------------------------------------------------------------


def test_bus_returns_the_backend_instance() -> None:
    bus = can.Bus(interface="virtual", channel="b", receive_own_messages=True)
    try:
        assert type(bus) is VirtualBus
        assert isinstance(bus, can.Bus)
        assert isinstance(bus, can.BusABC)
        bus.send(can.Message(arbitration_id=1, data=[1, 2]))
        received = bus.recv(timeout=1)
        assert received is not None
        assert bytes(received.data) == b"\x01\x02"
    finally:
        bus.shutdown()


def test_bus_class_checks() -> None:
    assert issubclass(VirtualBus, can.Bus)
    assert issubclass(can.Bus, can.BusABC)
    assert not isinstance(object(), can.Bus)
    assert not isinstance(3, can.BusABC)
    assert not issubclass(int, can.BusABC)
    assert not issubclass(int, can.Bus)


def test_manual_interfaces_interface_module() -> None:
    from can.interfaces.interface import Bus, detect_available_configs

    assert Bus is can.Bus is can.interface.Bus
    assert detect_available_configs is can.detect_available_configs


# -- detect_available_configs --------------------------------------------------------------------


def test_detect_available_configs_virtual() -> None:
    bus_a = can.Bus(interface="virtual", channel="detect-a")
    bus_b = can.Bus(interface="virtual", channel="detect-b")
    try:
        for found in (
            can.detect_available_configs("virtual"),
            can.detect_available_configs(["virtual"]),
            can.interface.detect_available_configs(),
        ):
            assert {"interface": "virtual", "channel": "detect-a"} in found
            assert {"interface": "virtual", "channel": "detect-b"} in found
            assert all("interface" in config for config in found)
    finally:
        bus_a.shutdown()
        bus_b.shutdown()
    assert {"interface": "virtual", "channel": "detect-a"} not in can.detect_available_configs(
        "virtual"
    )


def test_detect_available_configs_skips_what_cannot_be_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(can.interfaces.BACKENDS, "ghost", ("can.interfaces.ghost_xyz", "GhostBus"))
    with can.Bus(interface="virtual", channel="skip"):
        found = can.detect_available_configs(["ghost", "virtual", "not-registered"])
    # The open channel, and the fresh one the virtual interface always offers.
    assert found[0] == {"interface": "virtual", "channel": "skip"}
    assert [c["interface"] for c in found] == ["virtual", "virtual"]


def test_detect_available_configs_of_plugins(plugin: Path) -> None:
    assert can.detect_available_configs("demo") == [
        {"interface": "demo", "channel": "demo0"},
        {"interface": "demo", "channel": "demo1"},
    ]
    assert can.detect_available_configs(["nodetect", "faulty", "missing_module"]) == []
    everything = can.detect_available_configs()
    assert {"interface": "demo", "channel": "demo0"} in everything


def test_module_doctests() -> None:
    for module in (can.interface, can.interfaces):
        result = doctest.testmod(module)
        assert result.attempted > 0, module
        assert result.failed == 0, module


def test_read_entry_points(plugin: Path) -> None:
    from can._registry import read_entry_points

    found = read_entry_points("can.interface")
    assert found["demo"] == ("can_plugin_demo", "DemoBus")
    assert found["missing_module"] == ("can_plugin_missing_xyz", "Bus")
    assert found["with_extras"] == ("can_plugin_demo", "DemoBus")
    assert "no_attribute" not in found
    # read, but the registry keeps the built-in
    assert found["virtual"] == ("can_plugin_demo", "DemoBus")
