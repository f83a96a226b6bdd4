"""The udp_multicast interface (python-can 4.x; issue 13 item 11).

Buses talk across processes, with python-can 4.x's udp_multicast bus (the reference venv) as
the peer in both directions, over IPv4 and IPv6. Every test that sends a datagram runs inside a
network namespace of its own (``unshare -n``) that has only ``lo`` and, for IPv6 (which the
loopback device does not carry multicast for), a veth pair whose two ends are both inside it:
nothing ever reaches the host's network.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
from typing import Any

import pytest

import can

ROOT = pathlib.Path(__file__).resolve().parents[2]
REF_PYTHON = pathlib.Path(
    os.environ.get("CAN_REF_PYTHON", ROOT / "build" / "ref-venv" / "bin" / "python")
)
msgpack = pytest.importorskip("msgpack", reason="msgpack (can[udp_multicast]) not installed")

from can.interfaces.udp_multicast import (  # noqa: E402
    DEFAULT_GROUP_IPv4,
    DEFAULT_GROUP_IPv6,
    UdpMulticastBus,
    pack_message,
    unpack_message,
)

# The namespace: lo up with the IPv4 multicast range routed to it; IPv6 multicast routed to a
# veth pair inside the namespace (DAD off, so its addresses are usable at once).
_NETNS_SETUP = (
    "ip link set lo up && ip route add 224.0.0.0/4 dev lo && "
    "sysctl -qw net.ipv6.conf.default.accept_dad=0 && "
    "ip link add mc0 type veth peer name mc1 && ip link set mc0 up && ip link set mc1 up && "
    "ip -6 route add ff00::/8 dev mc0 table local"
)

# A command line prefix that runs the rest of the command line inside a fresh namespace.
_IN_NETNS = ["unshare", "-n", "sh", "-c", _NETNS_SETUP + ' && exec "$@"', "sh"]


def _netns_problem() -> str:
    """Why a private network namespace cannot be made here ("" if it can)."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "unshare or ip (iproute2) not installed"
    try:
        proc = subprocess.run(
            ["unshare", "-n", "sh", "-c", _NETNS_SETUP],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    return proc.stderr.strip() if proc.returncode else ""


_PROBLEM: str | None = None


def netns() -> None:
    global _PROBLEM
    if _PROBLEM is None:
        _PROBLEM = _netns_problem()
    if _PROBLEM:
        pytest.skip(f"cannot make a private network namespace for multicast: {_PROBLEM}")


def ref_python() -> str:
    if not REF_PYTHON.exists():
        pytest.skip(
            f"no reference python-can interpreter at {REF_PYTHON} (run `make ref-venv` or set "
            "CAN_REF_PYTHON)"
        )
    return str(REF_PYTHON)


# -- the wire format --------------------------------------------------------------------------

# What python-can 4.6.1 sent for Message(timestamp=123.5, arbitration_id=0x123,
# is_extended_id=False, data=[1, 2, 3], channel="zz"), captured on the wire.
_CAPTURED = (
    "8ba974696d657374616d70cb405ee00000000000ae6172626974726174696f6e5f6964cd0123ae69735f65"
    "7874656e6465645f6964c2af69735f72656d6f74655f6672616d65c2ae69735f6572726f725f6672616d65"
    "c2a76368616e6e656ca27a7aa3646c6303a464617461c403010203a569735f6664c2ae62697472617465"
    "5f737769746368c2b56572726f725f73746174655f696e64696361746f72c2"
)


def test_datagram_is_the_one_python_can_sends() -> None:
    msg = can.Message(
        timestamp=123.5, arbitration_id=0x123, is_extended_id=False, data=[1, 2, 3], channel="zz"
    )
    assert pack_message(msg).hex() == _CAPTURED


def test_datagram_round_trip() -> None:
    msg = can.Message(
        timestamp=5.25,
        arbitration_id=0x1ABCDEF,
        is_fd=True,
        bitrate_switch=True,
        error_state_indicator=True,
        data=bytes(range(12)),
    )
    back = unpack_message(pack_message(msg))
    assert back.equals(msg)
    assert unpack_message(pack_message(msg), timestamp=9.0).timestamp == 9.0


@pytest.mark.parametrize(
    "datagram",
    [
        b"\x01\x02garbage",
        msgpack.packb([1, 2, 3]),
        msgpack.packb({"arbitration_id": 5, "data": b"ab"}),
        msgpack.packb({"arbitration_id": 5, "dlc": 2, "data": "text"}),
        msgpack.packb({"arbitration_id": 0x800, "dlc": 0, "data": b"", "is_extended_id": False}),
    ],
)
def test_a_datagram_that_is_no_frame_is_refused(datagram: bytes) -> None:
    with pytest.raises(ValueError, match="not a"):
        unpack_message(datagram)


def test_extra_keys_are_ignored() -> None:
    datagram = msgpack.packb({"arbitration_id": 5, "dlc": 2, "data": b"ab", "later": 1})
    assert unpack_message(datagram).data == b"ab"


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"channel": "10.0.0.1"}, "not a multicast address"),
        ({"channel": "nonsense"}, "must be a multicast IP address"),
        ({"channel": DEFAULT_GROUP_IPv4, "port": 70000}, "port must be 0 to 65535"),
        ({"channel": DEFAULT_GROUP_IPv4, "hop_limit": 300}, "hop_limit must be 0 to 255"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any], text: str) -> None:
    with pytest.raises(can.CanInitializationError, match=text):
        UdpMulticastBus(**kwargs)


def test_registered_and_detected() -> None:
    assert "udp_multicast" in can.VALID_INTERFACES
    assert can.detect_available_configs("udp_multicast") == [
        {"interface": "udp_multicast", "channel": DEFAULT_GROUP_IPv6},
        {"interface": "udp_multicast", "channel": DEFAULT_GROUP_IPv4},
    ]


# -- across processes, in a private network namespace -------------------------------------------

# A peer: "recv" prints "ready" once its bus has joined, then the frames it receives as JSON;
# "send" sends the frames given as JSON.
_PEER = r"""
import json, sys, time
import can
from can.interfaces.udp_multicast import UdpMulticastBus
role, group, fd, frames = sys.argv[1], sys.argv[2], sys.argv[3] == "fd", json.loads(sys.argv[4])
with UdpMulticastBus(channel=group, fd=fd) as bus:
    if role == "send":
        for f in frames:
            bus.send(can.Message(**{**f, "data": bytes.fromhex(f["data"])}))
    else:
        print("ready", flush=True)
        got = []
        for _ in frames:
            m = bus.recv(5)
            if m is None:
                break
            got.append({"arbitration_id": m.arbitration_id, "is_extended_id": m.is_extended_id,
                        "is_remote_frame": m.is_remote_frame, "is_error_frame": m.is_error_frame,
                        "dlc": m.dlc, "data": bytes(m.data).hex(), "is_fd": m.is_fd,
                        "bitrate_switch": m.bitrate_switch,
                        "error_state_indicator": m.error_state_indicator, "channel": m.channel,
                        "is_rx": m.is_rx, "age": time.time() - m.timestamp})
        print(json.dumps(got), flush=True)
"""

# Runs inside the namespace: starts the receiver, waits until it is ready, runs the sender.
_DRIVER = r"""
import json, os, subprocess, sys
peer, receiver, sender, group, fd, frames = sys.argv[1:7]
def env(python):
    e = dict(os.environ)
    if python != sys.executable:
        e.pop("PYTHONPATH", None)
    return e
rx = subprocess.Popen([receiver, "-c", peer, "recv", group, fd, frames], stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, text=True, env=env(receiver))
line = rx.stdout.readline()
if line.strip() != "ready":
    sys.exit("receiver failed: " + line + rx.stderr.read())
tx = subprocess.run([sender, "-c", peer, "send", group, fd, frames], capture_output=True,
                    text=True, env=env(sender), timeout=30)
if tx.returncode:
    sys.exit("sender failed: " + tx.stderr)
out, err = rx.communicate(timeout=30)
if rx.returncode:
    sys.exit("receiver failed: " + err)
print(out)
"""


def _frames(fd: bool) -> list[dict[str, Any]]:
    base = {
        "is_extended_id": True,
        "is_remote_frame": False,
        "is_error_frame": False,
        "is_fd": False,
        "bitrate_switch": False,
        "error_state_indicator": False,
        "channel": None,
    }
    frames = [
        {**base, "arbitration_id": 0x123, "is_extended_id": False, "dlc": 3, "data": "010203"},
        {**base, "arbitration_id": 0x18DAF110, "dlc": 8, "data": "1122334455667788"},
        {**base, "arbitration_id": 0x7FF, "is_extended_id": False, "is_remote_frame": True}
        | {"dlc": 4, "data": ""},
        {**base, "arbitration_id": 0, "is_error_frame": True, "dlc": 0, "data": ""},
        {**base, "arbitration_id": 0x42, "dlc": 2, "data": "abcd", "channel": "bench"},
    ]
    if fd:
        frames += [
            {**base, "arbitration_id": 0x1ABCDEF, "is_fd": True, "bitrate_switch": True}
            | {"error_state_indicator": True, "dlc": 12, "data": bytes(range(12)).hex()},
            {**base, "arbitration_id": 0x100, "is_fd": True, "dlc": 64}
            | {"data": bytes(range(64)).hex()},
        ]
    return frames


def _exchange(sender: str, receiver: str, group: str, fd: bool) -> list[dict[str, Any]]:
    frames = _frames(fd)
    args = [_DRIVER, _PEER, receiver, sender, group, "fd" if fd else "classic", json.dumps(frames)]
    proc = subprocess.run(
        [*_IN_NETNS, sys.executable, "-c", *args],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr
    got: list[dict[str, Any]] = json.loads(proc.stdout)
    for frame in got:
        # the receive time, in Unix time
        assert 0 <= frame.pop("age") < 30
    assert got == [{**f, "is_rx": True} for f in frames]
    return got


_IPV4, _IPV6 = DEFAULT_GROUP_IPv4, DEFAULT_GROUP_IPv6


@pytest.mark.parametrize(
    ("sender", "receiver", "group", "fd"),
    [
        pytest.param(sender, receiver, group, True, id=f"{sender}-to-{receiver}-{name}-fd")
        for sender, receiver in (("ours", "python-can"), ("python-can", "ours"))
        for name, group in (("ipv4", _IPV4), ("ipv6", _IPV6))
    ]
    + [
        pytest.param("ours", "python-can", _IPV4, False, id="ours-to-python-can-ipv4-classic"),
        pytest.param("python-can", "ours", _IPV6, False, id="python-can-to-ours-ipv6-classic"),
        pytest.param("ours", "ours", _IPV6, True, id="ours-to-ours-ipv6-fd"),
    ],
)
def test_buses_in_two_processes_see_each_other(
    sender: str, receiver: str, group: str, fd: bool
) -> None:
    netns()
    pythons = {"ours": sys.executable}
    if "python-can" in (sender, receiver):
        pythons["python-can"] = ref_python()
    _exchange(pythons[sender], pythons[receiver], group, fd)


# One process: own frames, fd=False, errors. Prints the outcomes as JSON.
_ONE_PROCESS = r"""
import json, socket, sys
import can
from can.interfaces.udp_multicast import UdpMulticastBus
group = sys.argv[1]
out = {}
fd_frame = can.Message(arbitration_id=1, is_fd=True, data=bytes(12))
with UdpMulticastBus(channel=group) as quiet, UdpMulticastBus(channel=group,
        receive_own_messages=True) as echo, UdpMulticastBus(channel=group, fd=False) as classic:
    quiet.send(can.Message(arbitration_id=1))
    out["quiet gets its own"] = quiet.recv(0.3) is not None
    got = echo.recv(2)
    out["echo gets quiet's"] = [got.arbitration_id, got.is_rx]
    echo.send(can.Message(arbitration_id=2))
    got = echo.recv(2)
    out["echo gets its own"] = [got.arbitration_id, got.is_rx]
    out["quiet gets echo's"] = quiet.recv(2).arbitration_id
    out["classic gets 1 and 2"] = [classic.recv(2).arbitration_id, classic.recv(2).arbitration_id]
    echo.send(fd_frame)
    out["classic skips fd"] = classic.recv(0.3) is None
    out["quiet gets fd"] = quiet.recv(2).is_fd
    try:
        classic.send(fd_frame)
    except can.CanOperationError as e:
        out["classic refuses to send fd"] = "fd=False" in str(e)
    s = socket.socket(socket.AF_INET6 if ":" in group else socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"garbage", (group, quiet.port))
    try:
        quiet.recv(2)
    except can.CanOperationError as e:
        out["garbage"] = "is not a CAN frame" in str(e)
    out["fileno"] = quiet.fileno() > 0
    out["protocol"] = [quiet.protocol.name, classic.protocol.name]
quiet_after = quiet
for name, call in (("send", lambda: quiet_after.send(can.Message())),
                   ("recv", lambda: quiet_after.recv(0))):
    try:
        call()
    except can.CanOperationError:
        out[f"{name} after shutdown"] = "CanOperationError"
print(json.dumps(out))
"""


@pytest.mark.parametrize("group", [DEFAULT_GROUP_IPv4, DEFAULT_GROUP_IPv6], ids=["ipv4", "ipv6"])
def test_own_frames_fd_and_errors(group: str) -> None:
    netns()
    proc = subprocess.run(
        [*_IN_NETNS, sys.executable, "-c", _ONE_PROCESS, group],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "quiet gets its own": False,
        "echo gets quiet's": [1, True],
        "echo gets its own": [2, False],
        "quiet gets echo's": 2,
        "classic gets 1 and 2": [1, 2],
        "classic skips fd": True,
        "quiet gets fd": True,
        "classic refuses to send fd": True,
        "garbage": True,
        "fileno": True,
        "protocol": ["CAN_FD", "CAN_20"],
        "send after shutdown": "CanOperationError",
        "recv after shutdown": "CanOperationError",
    }
