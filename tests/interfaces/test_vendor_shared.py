"""The part every vendor backend stands on: :mod:`can.ctypesutil` (finding and loading a
vendor library, declaring functions, mapping status codes) and the simulated bus
(tests/simlibs/simcore.c) that the simulated vendor libraries are built on."""

from __future__ import annotations

import ctypes
import os
import select
import time
from collections.abc import Iterator
from typing import Any

import pytest
import simctl

import can
from can.ctypesutil import HostClock, VendorLibrary, platform_key


class SimFrame(ctypes.Structure):
    # simcore.h's sim_frame
    _fields_ = [
        ("id", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("len", ctypes.c_uint8),
        ("data", ctypes.c_uint8 * 64),
        ("time_us", ctypes.c_uint64),
    ]


def _describe(status: int) -> tuple[bool, str]:
    texts = {-1: "no such port", -2: "no such channel", -4: "bus off", -6: "bad argument"}
    return status < 0, texts.get(status, f"status {status}")


@pytest.fixture
def core(simlib_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    path = simlib_path("core")
    monkeypatch.setenv("CAN_SIMCORE_LIBRARY", str(path))
    lib = VendorLibrary(
        "simulated core", {"linux": ("libnothere.so",)}, "CAN_SIMCORE_LIBRARY", "build it"
    )
    int_ = ctypes.c_int
    f = lib.declare(
        {
            "sim_port_open": (int_, [int_, int_]),
            "sim_port_close": (int_, [int_]),
            "sim_port_send": (int_, [int_, ctypes.POINTER(SimFrame)]),
            "sim_port_recv": (int_, [int_, ctypes.POINTER(SimFrame), int_]),
            "sim_port_set_echo": (int_, [int_, int_]),
            "sim_port_overrun": (int_, [int_, int_]),
            "sim_port_fd": (int_, [int_]),
            "sim_channel_reset": (int_, [int_]),
        },
        _describe,
    )
    ctl = simctl.SimControl(path)
    ctl.reset()
    yield {"lib": lib, "f": f, "ctl": ctl}
    ctl.reset()


def _frame(can_id: int, data: bytes = b"", flags: int = 0) -> SimFrame:
    frame = SimFrame(id=can_id, flags=flags, len=len(data))
    frame.data[: len(data)] = list(data)
    return frame


def test_platform_keys() -> None:
    assert platform_key("win32") == "win32"
    assert platform_key("cygwin") == "win32"
    assert platform_key("darwin") == "darwin"
    assert platform_key("linux") == "linux"
    assert platform_key("freebsd13") == "linux"


def test_a_missing_library_says_what_was_looked_for_and_how_to_fix_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CAN_NOPE_LIBRARY", raising=False)
    lib = VendorLibrary(
        "Nope CAN",
        {
            "linux": ("libnope.so.1", "libnope.so"),
            "win32": ("nope.dll",),
            "darwin": ("libnope.dylib",),
        },
        "CAN_NOPE_LIBRARY",
        "install the Nope driver from nope.example",
    )
    with pytest.raises(can.CanInitializationError) as info:
        lib.load()
    text = str(info.value)
    expected = lib.names[platform_key()]
    for name in expected:
        assert name in text
    assert "CAN_NOPE_LIBRARY" in text
    assert "install the Nope driver from nope.example" in text
    assert not lib.loaded


def test_the_environment_variable_is_the_one_path_tried(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    missing = tmp_path / "libvendor.so"
    monkeypatch.setenv("CAN_NOPE_LIBRARY", str(missing))
    lib = VendorLibrary("Nope CAN", {"linux": ("libc.so.6",)}, "CAN_NOPE_LIBRARY", "hint")
    assert lib.candidates() == [str(missing)]
    with pytest.raises(can.CanInitializationError, match=f"CAN_NOPE_LIBRARY={missing}"):
        lib.load()


def test_functions_are_declared_once_and_checked(core: dict[str, Any]) -> None:
    lib, f = core["lib"], core["f"]
    assert lib.loaded
    assert (
        lib.function("sim_port_open", ctypes.c_int, [ctypes.c_int, ctypes.c_int])
        is f["sim_port_open"]
    )
    # A failing status becomes the library's error with the function, the text and the code.
    with pytest.raises(can.CanOperationError) as info:
        f["sim_port_open"](99, 10)
    assert info.value.error_code == -2
    assert "sim_port_open failed: no such channel" in str(info.value)


def test_a_missing_function_is_an_initialization_error(core: dict[str, Any]) -> None:
    lib = core["lib"]
    with pytest.raises(can.CanInitializationError, match="has no function canNothing"):
        lib.function("canNothing", ctypes.c_int, [])
    assert lib.function("canNothing", ctypes.c_int, [], optional=True) is None


def test_the_error_class_is_the_backends(core: dict[str, Any], monkeypatch: Any) -> None:
    class VendorError(can.CanOperationError):
        pass

    lib = VendorLibrary("simulated core", {}, "CAN_SIMCORE_LIBRARY", "hint", error=VendorError)
    close = lib.function("sim_port_close", ctypes.c_int, [ctypes.c_int], _describe)
    with pytest.raises(VendorError, match="sim_port_close failed: no such port"):
        close(63)


def test_two_ports_on_a_channel_see_each_others_frames_not_their_own(
    core: dict[str, Any],
) -> None:
    f = core["f"]
    a, b, other = f["sim_port_open"](0, 16), f["sim_port_open"](0, 16), f["sim_port_open"](1, 16)
    f["sim_port_send"](a, ctypes.byref(_frame(0x123, b"\x01\x02")))
    got = SimFrame()
    assert f["sim_port_recv"](b, ctypes.byref(got), 1000) == 1
    assert (got.id, bytes(got.data[: got.len])) == (0x123, b"\x01\x02")
    assert f["sim_port_recv"](a, ctypes.byref(got), 0) == 0
    assert f["sim_port_recv"](other, ctypes.byref(got), 0) == 0
    f["sim_port_set_echo"](a, 1)
    f["sim_port_send"](a, ctypes.byref(_frame(0x5)))
    assert f["sim_port_recv"](a, ctypes.byref(got), 1000) == 1
    assert got.flags & simctl.ECHO


def test_a_full_queue_drops_new_frames_and_flags_overrun(core: dict[str, Any]) -> None:
    f = core["f"]
    a, b = f["sim_port_open"](0, 16), f["sim_port_open"](0, 3)
    for i in range(5):
        f["sim_port_send"](a, ctypes.byref(_frame(i)))
    assert f["sim_port_overrun"](b, 1) == 1
    assert f["sim_port_overrun"](b, 0) == 0
    got = SimFrame()
    ids = []
    while f["sim_port_recv"](b, ctypes.byref(got), 0) == 1:
        ids.append(got.id)
    assert ids == [0, 1, 2]


def test_the_port_fd_is_readable_exactly_while_frames_wait(core: dict[str, Any]) -> None:
    f = core["f"]
    a, b = f["sim_port_open"](0, 16), f["sim_port_open"](0, 16)
    fd = f["sim_port_fd"](b)
    assert select.select([fd], [], [], 0)[0] == []
    f["sim_port_send"](a, ctypes.byref(_frame(1)))
    f["sim_port_send"](a, ctypes.byref(_frame(2)))
    assert select.select([fd], [], [], 1)[0] == [fd]
    got = SimFrame()
    f["sim_port_recv"](b, ctypes.byref(got), 0)
    assert select.select([fd], [], [], 0)[0] == [fd]
    f["sim_port_recv"](b, ctypes.byref(got), 0)
    assert select.select([fd], [], [], 0)[0] == []


def test_bus_off_refuses_sends_until_reset(core: dict[str, Any]) -> None:
    f, ctl = core["f"], core["ctl"]
    a = f["sim_port_open"](0, 4)
    ctl.set_state(0, simctl.BUSOFF, 255, 12)
    assert ctl.state(0) == (simctl.BUSOFF, 255, 12)
    with pytest.raises(can.CanOperationError, match="bus off"):
        f["sim_port_send"](a, ctypes.byref(_frame(1)))
    f["sim_channel_reset"](0)
    assert ctl.state(0) == (simctl.ACTIVE, 0, 0)
    f["sim_port_send"](a, ctypes.byref(_frame(1)))


def test_injected_frames_reach_every_port_and_a_blocked_recv_wakes(
    core: dict[str, Any],
) -> None:
    f, ctl = core["f"], core["ctl"]
    a, b = f["sim_port_open"](2, 4), f["sim_port_open"](2, 4)
    assert ctl.open_ports(2) == 2
    ctl.inject_frame(2, 0x1ABCDEF, b"\xaa", simctl.EXT)
    ctl.inject_error(2, 0x4, b"\x00\x10")
    got = SimFrame()
    for port in (a, b):
        assert f["sim_port_recv"](port, ctypes.byref(got), 1000) == 1
        assert (got.id, got.flags) == (0x1ABCDEF, simctl.EXT)
        assert f["sim_port_recv"](port, ctypes.byref(got), 1000) == 1
        assert got.flags == simctl.ERR
    start = time.perf_counter()
    assert f["sim_port_recv"](a, ctypes.byref(got), 100) == 0
    assert 0.09 <= time.perf_counter() - start < 1.0
    f["sim_port_close"](a)
    assert ctl.open_ports(2) == 1


def test_host_clock_maps_device_time_to_host_time() -> None:
    clock = HostClock()
    clock.sync(10.0, host_now=1000.0)
    assert clock.to_host(10.5) == 1000.5
    fresh = HostClock()
    before = time.time()
    first = fresh.to_host(3.0)
    assert before <= first <= time.time()
    assert fresh.to_host(4.0) == pytest.approx(first + 1.0)


def test_simulated_libraries_build_from_source(simlib_path: Any) -> None:
    path = simlib_path("core")
    assert path.name == "libsimcore.so" and os.path.getsize(path) > 0
