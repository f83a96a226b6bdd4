"""Pseudo-terminals for the serial and slcan tests: a device end the test drives with plain
``os.read``/``os.write``, and a linked pair of paths for two buses (or a bus and python-can)."""

from __future__ import annotations

import json
import os
import pathlib
import select
import shutil
import subprocess
import sys
import threading
import tty
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent

# pytest imports test modules with --import-mode=importlib, which puts nothing on sys.path:
# the shared suites here (bus_contract.py) and the simulated-library builder are imported by
# name from this directory and tests/simlibs.
for _path in (HERE, ROOT / "tests" / "simlibs"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
REF_PYTHON = pathlib.Path(
    os.environ.get("CAN_REF_PYTHON", ROOT / "build" / "ref-venv" / "bin" / "python")
)


def _has_c_compiler() -> bool:
    return bool(os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc"))


@pytest.fixture(scope="session")
def simlib_path() -> Any:
    """``simlib_path(vendor)``: the simulated library of ``vendor`` (a directory of
    tests/simlibs), compiled into build/simlibs first if out of date."""
    if not _has_c_compiler():
        pytest.skip("no C compiler for the simulated vendor libraries")
    import simbuild  # tests/simlibs/simbuild.py

    def path(vendor: str) -> pathlib.Path:
        return simbuild.build(vendor, ROOT / "build" / "simlibs")

    return path


@dataclass
class PtyDevice:
    """``path`` is what a bus opens; ``fd`` is the device end (the pty master)."""

    path: str
    fd: int

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def read_until(self, count: int, terminator: bytes = b"\r", timeout: float = 5.0) -> bytes:
        """Read until ``terminator`` was seen ``count`` times."""
        got = b""
        while got.count(terminator) < count:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            if not ready:
                raise AssertionError(f"the device read only {got!r} in {timeout} s")
            got += os.read(self.fd, 65536)
        return got

    def read_available(self, quiet: float = 0.1) -> bytes:
        """Everything written so far, until the line is quiet for ``quiet`` seconds."""
        got = b""
        while select.select([self.fd], [], [], quiet)[0]:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                break
            got += chunk
        return got


def _open_pty() -> tuple[int, int, str]:
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


@pytest.fixture
def pty_device() -> Iterator[PtyDevice]:
    master, slave, path = _open_pty()
    try:
        yield PtyDevice(path, master)
    finally:
        os.close(slave)
        try:
            os.close(master)
        except OSError:
            pass


@pytest.fixture
def linked_ptys() -> Iterator[tuple[str, str]]:
    """Two pty slave paths whose masters a thread connects: what one end writes, the other
    reads (what socat does)."""
    m1, s1, p1 = _open_pty()
    m2, s2, p2 = _open_pty()
    stop_r, stop_w = os.pipe()
    peers = {m1: m2, m2: m1}

    def relay() -> None:
        while True:
            ready, _, _ = select.select([m1, m2, stop_r], [], [])
            if stop_r in ready:
                return
            for fd in ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    continue
                view = memoryview(data)
                while view:
                    view = view[os.write(peers[fd], view) :]

    thread = threading.Thread(target=relay, daemon=True)
    thread.start()
    try:
        yield p1, p2
    finally:
        os.write(stop_w, b"x")
        thread.join(5)
        for fd in (m1, s1, m2, s2, stop_r, stop_w):
            os.close(fd)


@pytest.fixture
def ref_python() -> pathlib.Path:
    if not REF_PYTHON.exists():
        pytest.skip(
            f"no reference python-can interpreter at {REF_PYTHON} (run `make ref-venv` or set "
            "CAN_REF_PYTHON)"
        )
    return REF_PYTHON


#: The message fields compared across libraries.
REF_FIELDS = (
    "arbitration_id",
    "is_extended_id",
    "is_remote_frame",
    "is_error_frame",
    "dlc",
    "data",
    "is_fd",
    "bitrate_switch",
)

_REF_PEER = r"""
import json, sys, can
interface, path, count = sys.argv[1:4]
fields = json.loads(sys.argv[4])
to_send = json.loads(sys.stdin.readline())
options = {"sleep_after_open": 0} if interface == "slcan" else {}
bus = can.Bus(interface=interface, channel=path, **options)
print("ready", flush=True)
rows = []
while len(rows) < int(count):
    m = bus.recv(10)
    if m is None:
        break
    rows.append([bytes(m.data).hex() if f == "data" else getattr(m, f) for f in fields])
for row in to_send:
    kw = dict(zip(fields, row))
    kw["data"] = bytes.fromhex(kw["data"])
    bus.send(can.Message(**kw))
print(json.dumps(rows), flush=True)
sys.stdin.readline()  # keep the port open until the test has read what was sent
bus.shutdown()
"""


class RefPeer:
    """python-can 4.x's bus in a subprocess of its own, exchanging frames with ours."""

    fields = REF_FIELDS

    def __init__(self, python: pathlib.Path) -> None:
        self.python = python

    @staticmethod
    def row(msg: Any) -> list[Any]:
        return [bytes(msg.data).hex() if f == "data" else getattr(msg, f) for f in REF_FIELDS]

    def exchange(
        self, interface: str, path: str, bus: Any, ours: list[Any], theirs: list[Any]
    ) -> tuple[list[Any], list[Any]]:
        """python-can opens ``path``; ``bus`` sends ``ours``, python-can receives them and then
        sends ``theirs``, which ``bus`` receives. Returns (rows python-can received, rows of
        the messages ``bus`` received)."""
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["PYTHONWARNINGS"] = "ignore"
        proc = subprocess.Popen(
            [str(self.python), "-c", _REF_PEER, interface, path, str(len(ours)),
             json.dumps(REF_FIELDS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps([self.row(m) for m in theirs]) + "\n")
            proc.stdin.flush()
            ready = proc.stdout.readline()
            assert ready.strip() == "ready", ready
            for m in ours:
                bus.send(m)
            received = [bus.recv(10) for _ in theirs]
            theirs_got = json.loads(proc.stdout.readline())
            proc.stdin.write("\n")
            proc.stdin.flush()
            _, err = proc.communicate(timeout=30)
            assert proc.returncode == 0, err
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        return theirs_got, [None if m is None else self.row(m) for m in received]


@pytest.fixture
def ref_peer(ref_python: pathlib.Path) -> RefPeer:
    return RefPeer(ref_python)
