"""How the package is distributed: the wheel's platform tag and the python-can stand-in.

``make test`` builds the wheel (with zig: manylinux2014) and a venv made by the recipe of
docs/installation.rst ("Next to packages that require python-can"): our wheel and the stand-in
``python-can`` wheel (shim/) from local files, then canopen from the package index. These tests
check what that left in the venv and run a canopen exchange in it. On CI neither may be skipped.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import can

SOURCE_TREE = Path(__file__).resolve().parent.parent
ON_CI = os.environ.get("CI") == "true"


def _skip_unless_ci(reason: str) -> None:
    if ON_CI:
        pytest.fail(f"skipped on CI, where this must run: {reason}")
    pytest.skip(reason)


def _wheel_tags() -> list[str]:
    wheel = importlib.metadata.distribution("can").read_text("WHEEL") or ""
    return [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]


@pytest.mark.skipif(
    os.environ.get("CAN_TEST_INSTALLED") != "1", reason="only when testing the installed wheel"
)
@pytest.mark.skipif(sys.platform != "linux", reason="the manylinux tag is for Linux wheels")
def test_installed_wheel_is_manylinux2014() -> None:
    # glibc 2.17: what installs on Ubuntu 20.04, Debian 11, RHEL 8, Raspberry Pi OS bullseye
    # (a wheel tagged manylinux_2_34 is refused there). `make check-wheel` has auditwheel read
    # the symbol versions; this checks the tag pip saw when it installed the wheel.
    tags = _wheel_tags()
    machine = platform.machine()
    wanted = f"cp39-abi3-manylinux_2_17_{machine}"
    if wanted not in tags:
        _skip_unless_ci(f"wheel built without zig (ZIG=0), tags {tags}")
    assert wanted in tags
    assert f"cp39-abi3-manylinux2014_{machine}" in tags


# Runs in the venv of `make shim-venv`: where `can` comes from, what pip recorded, then two
# canopen networks on one virtual channel: an expedited and a segmented SDO upload, an SDO
# download, and the heartbeat (a periodic send) seen by the other side.
_SHIM_CHECK = r"""
import importlib.metadata as md, json, sys, sysconfig
from pathlib import Path

import can, can._core
import canopen
from canopen import objectdictionary as odict

out = {}
site = Path(sysconfig.get_paths()["purelib"]).resolve()
out["can_dir_in_site"] = Path(can.__file__).resolve().parent == site / "can"
out["core_in_package"] = Path(can._core.__file__).resolve().parent == site / "can"
out["versions"] = [can.__version__, md.version("can"), md.version("python-can")]
out["shim_files"] = sorted(
    str(f) for f in (md.distribution("python-can").files or [])
    if not f.parts[0].endswith(".dist-info")
)
out["shim_requires"] = md.requires("python-can")
out["can_owns_core"] = any(
    f.parts[:1] == ("can",) and f.name.startswith("_core.")
    for f in (md.distribution("can").files or [])
)
out["canopen"] = md.version("canopen")
out["canopen_requires"] = md.requires("canopen")

od = odict.ObjectDictionary()
def var(name, index, data_type, default):
    v = odict.ODVariable(name, index, 0)
    v.data_type = data_type
    v.access_type = "rw"
    v.default = default
    od.add_object(v)
var("Device type", 0x1000, odict.UNSIGNED32, 0x00020192)
var("Manufacturer device name", 0x1008, odict.VISIBLE_STRING, "rust-can shim check")
var("Scratch", 0x2000, odict.UNSIGNED32, 0)

channel = "shim-canopen-check"
server_net, client_net = canopen.Network(), canopen.Network()
server_net.connect(interface="virtual", channel=channel)
client_net.connect(interface="virtual", channel=channel)
try:
    local = canopen.LocalNode(0x22, od)
    server_net.add_node(local)
    remote = canopen.RemoteNode(0x22, od)
    client_net.add_node(remote)
    remote.sdo.RESPONSE_TIMEOUT = 5.0
    out["upload_expedited"] = remote.sdo.upload(0x1000, 0).hex()
    out["upload_segmented"] = remote.sdo.upload(0x1008, 0).decode("ascii")
    remote.sdo.download(0x2000, 0, bytes([0x78, 0x56, 0x34, 0x12]))
    out["downloaded"] = local.sdo[0x2000].raw
    local.nmt.state = "OPERATIONAL"
    local.nmt.start_heartbeat(50)
    out["heartbeat_state"] = remote.nmt.wait_for_heartbeat(timeout=5.0)
    local.nmt.stop_heartbeat()
finally:
    server_net.disconnect()
    client_net.disconnect()
print(json.dumps(out))
"""


def test_python_can_stand_in_keeps_our_can_next_to_canopen() -> None:
    shim_python = os.environ.get("CAN_SHIM_PYTHON", "")
    if not shim_python or not Path(shim_python).is_file():
        _skip_unless_ci("no venv made by `make shim-venv` (CAN_SHIM_PYTHON)")
    pinned = (SOURCE_TREE / ".ci" / "requirements-shim.txt").read_text(encoding="utf-8")
    canopen_pin = next(
        line.split("==", 1)[1].strip()
        for line in pinned.splitlines()
        if line.startswith("canopen==")
    )
    proc = subprocess.run(
        [shim_python, "-c", textwrap.dedent(_SHIM_CHECK)],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        cwd=Path(shim_python).parent,
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])

    # pip kept our package: `can` and its native module are the wheel's, in that venv.
    assert got["can_dir_in_site"] and got["core_in_package"] and got["can_owns_core"]
    assert got["versions"] == [can.__version__] * 3
    # The stand-in installs no file and requires exactly our version.
    assert got["shim_files"] == []
    assert got["shim_requires"] == [f"can=={can.__version__}"]
    # canopen from the index, with its requirement on python-can met by the stand-in.
    assert got["canopen"] == canopen_pin
    assert any(r.startswith("python-can") for r in got["canopen_requires"])
    # The values put into the object dictionary above, CiA 301 little-endian on the wire.
    assert got["upload_expedited"] == "92010200"
    assert got["upload_segmented"] == "rust-can shim check"
    assert got["downloaded"] == 0x12345678
    assert got["heartbeat_state"] == "OPERATIONAL"
