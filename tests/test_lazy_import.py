"""``import can`` imports only messages and exceptions; every other public name (and the
submodules python-can's ``import can`` makes attributes) is imported on first use and is the
same object as in its own module."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import can
import can.io

# Modules a conversion or a script that only makes messages does not need.
HEAVY = [
    "can.bus",
    "can.interface",
    "can.interfaces",
    "can.broadcastmanager",
    "can.notifier",
    "can.bit_timing",
    "can.util",
    "can.io.asc",
    "can.io.blf",
    "can.io.trc",
    "can.io.canutils",
    "can.io.csv",
    "can.io.logger",
    "can.io.player",
    "importlib.metadata",
]


def _fresh(code: str) -> list[str]:
    """The lines ``code`` prints in a new interpreter."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()


def test_import_can_leaves_buses_and_formats_to_first_use() -> None:
    lines = _fresh(
        "import sys\n"
        "before = set(sys.modules)\n"
        "import can\n"
        f"print(sorted((set(sys.modules) - before) & set({[*HEAVY, 'logging']!r})))\n"
        "m = can.Message(arbitration_id=1, data=b'\\x01')\n"
        "print(type(m).__module__, m.dlc)\n"
        "import logging\n"
        "print(can.log is logging.getLogger('can'), can.log.name)\n"
    )
    assert lines == ["[]", "can.message 1", "True can"]


def test_logconvert_imports_no_format_classes_and_no_entry_points(tmp_path: Path) -> None:
    src = tmp_path / "in.log"
    src.write_text("(1700000000.000000) vcan0 123#DEADBEEF\n(1700000000.250000) vcan0 1ABCDEF0#\n")
    out = tmp_path / "out.asc"
    lines = _fresh(
        "import runpy, sys\n"
        f"sys.argv = ['can-logconvert', {str(src)!r}, {str(out)!r}]\n"
        "try:\n"
        "    runpy.run_module('can.logconvert', run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        f"print(sorted(set(sys.modules) & set({HEAVY!r})))\n"
    )
    assert lines == ["[]"]
    got = [(m.arbitration_id, m.is_extended_id, bytes(m.data)) for m in can.ASCReader(out)]
    assert got == [(0x123, False, b"\xde\xad\xbe\xef"), (0x1ABCDEF0, True, b"")]


def test_every_public_name_resolves_to_its_modules_object() -> None:
    where = {
        "BLFReader": "can.io.blf",
        "BLFWriter": "can.io.blf",
        "ASCReader": "can.io.asc",
        "TRCFileVersion": "can.io.trc",
        "Logger": "can.io.logger",
        "LogReader": "can.io.player",
        "Bus": "can.interface",
        "BusABC": "can.bus",
        "Notifier": "can.notifier",
        "BitTiming": "can.bit_timing",
        "ThreadSafeBus": "can.thread_safe_bus",
        "CyclicSendTaskABC": "can.broadcastmanager",
        "set_logging_level": "can.util",
        "BufferedReader": "can.listener",
    }
    for name, module in where.items():
        assert getattr(can, name) is getattr(importlib.import_module(module), name), name
    for name in can.__all__:
        if name not in ("MF4Reader", "MF4Writer"):  # need the optional asammdf when used
            assert getattr(can, name) is not None, name
    for name in can.io.__all__:
        if name not in ("MF4Reader", "MF4Writer"):
            assert getattr(can.io, name) is not None, name
    assert can.io.ASCReader is can.io.asc.ASCReader
    assert can.io.MESSAGE_READERS is importlib.import_module("can.io.formats").MESSAGE_READERS
    assert {"BLFReader", "Notifier", "util", "bus"} <= set(dir(can))
    assert {"ASCWriter", "blf"} <= set(dir(can.io))


def test_submodules_are_attributes_as_in_python_can() -> None:
    lines = _fresh(
        "import can\n"
        "print(can.util.__name__, can.bus.__name__, can.io.blf.__name__, "
        "can.interfaces.__name__, can.broadcastmanager.__name__)\n"
        "from can import *\n"
        "print(BLFWriter.__module__, Notifier.__module__)\n"
        "from can.io import *\n"
        "print(TRCReader.__module__)\n"
        "try:\n"
        "    can.NoSuchThing\n"
        "except AttributeError as e:\n"
        "    print(e)\n"
    )
    assert lines == [
        "can.util can.bus can.io.blf can.interfaces can.broadcastmanager",
        "can.io.blf can.notifier",
        "can.io.trc",
        "module 'can' has no attribute 'NoSuchThing'",
    ]
