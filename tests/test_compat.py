"""Side by side with python-can 4.x: the same snippet run under ours and under upstream.

Each snippet records what it observes with ``rec(name, thunk)``: the value the thunk returns
(made JSON-able) or the name of the exception it raised. The snippet runs in a fresh interpreter
of ours (this test's) and in the reference interpreter (upstream python-can 4.x in a venv of its
own, see tests/io/conftest.py), and the two records must be equal, so that a later change that
drifts from upstream on one of these points is caught. The deliberate differences are listed in
docs/compatibility.rst and kept out of the snippets (or normalised by them).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
from typing import Any

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
REF_PYTHON = pathlib.Path(
    os.environ.get("CAN_REF_PYTHON", ROOT / "build" / "ref-venv" / "bin" / "python")
)

_PRELUDE = """
import json, sys, warnings
import can

_out = {}

def _jsonable(v):
    if isinstance(v, (bytes, bytearray)):
        return "bytes:" + bytes(v).hex()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return repr(v)

def rec(name, thunk):
    try:
        _out[name] = ["ok", _jsonable(thunk())]
    except Exception as exc:
        _out[name] = ["raises", type(exc).__name__]
"""

_EPILOGUE = """
json.dump(_out, sys.stdout, sort_keys=True)
"""


def _run(python: str, snippet: str, cwd: pathlib.Path, env: dict[str, str]) -> dict[str, Any]:
    script = _PRELUDE + textwrap.dedent(snippet) + _EPILOGUE
    proc = subprocess.run(
        [python, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=cwd,
    )
    if proc.returncode:
        raise AssertionError(f"{python} failed on the snippet:\n{proc.stderr}")
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def run_both(snippet: str, tmp_path: pathlib.Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The records of ``snippet`` under ours and under upstream python-can."""
    if not REF_PYTHON.exists():
        pytest.skip(
            f"no reference python-can interpreter at {REF_PYTHON} (run `make ref-venv` or set "
            "CAN_REF_PYTHON)"
        )
    # Neither interpreter may read a configuration file or variable of the developer's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAN_") and k != "PYTHONPATH"}
    env["HOME"] = str(tmp_path)
    ours_env = dict(env)
    if "PYTHONPATH" in os.environ:
        ours_env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    ours = _run(sys.executable, snippet, tmp_path, ours_env)
    ref = _run(str(REF_PYTHON), snippet, tmp_path, env)
    return ours, ref


def assert_same(snippet: str, tmp_path: pathlib.Path) -> None:
    ours, ref = run_both(snippet, tmp_path)
    assert ours.keys() == ref.keys()
    differing = {k: {"ours": ours[k], "python-can": ref[k]} for k in ours if ours[k] != ref[k]}
    assert not differing


# -- item 1: Message ------------------------------------------------------------------------------

MESSAGE = """
M = can.Message
def fields(m):
    return [m.dlc, bytes(m.data), m.is_remote_frame, len(m), bytes(m)]
rec("remote with data", lambda: fields(M(is_remote_frame=True, data=[1, 2])))
rec("remote with data and dlc", lambda: fields(M(is_remote_frame=True, data=b"ab", dlc=5)))
rec("remote with data, check", lambda: fields(M(is_remote_frame=True, data=[1], check=True)))
rec("remote dlc 8, check", lambda: fields(M(is_remote_frame=True, dlc=8, check=True)))
rec("remote dlc 9, check", lambda: fields(M(is_remote_frame=True, dlc=9, check=True)))
rec("remote fd, check", lambda: fields(M(is_remote_frame=True, is_fd=True, check=True)))
for n in (9, 10, 13, 63, 64, 65):
    rec(f"fd {n} bytes, check", lambda: fields(M(is_fd=True, data=bytes(n), check=True)))
rec("fd 10 bytes dlc 12, check", lambda: fields(M(is_fd=True, data=bytes(10), dlc=12, check=True)))
rec("classic 9 bytes, check", lambda: fields(M(data=bytes(9), check=True)))
rec("dlc beyond data", lambda: fields(M(data=[1, 2, 3], dlc=5)))
rec("dlc below data", lambda: fields(M(data=[1, 2, 3], dlc=2)))
rec("empty", lambda: fields(M()))
rec("bool of empty", lambda: bool(M()))
def data_on_remote():
    m = M(is_remote_frame=True, dlc=2)
    m.data = bytearray(b"xy")
    m._check()
rec("_check of data put on a remote frame", data_on_remote)
"""


def test_message_matches_python_can(tmp_path: pathlib.Path) -> None:
    assert_same(MESSAGE, tmp_path)


# -- item 2: send_periodic and cyclic task argument names ---------------------------------------

CYCLIC = """
import inspect, time
from can import broadcastmanager as bm
def params(f, n):
    return list(inspect.signature(f).parameters)[:n]
rec("send_periodic parameters", lambda: params(can.BusABC.send_periodic, 7))
rec("_send_periodic_internal parameters", lambda: params(can.BusABC._send_periodic_internal, 6))
rec("CyclicSendTaskABC parameters", lambda: params(bm.CyclicSendTaskABC.__init__, 3))
rec("modify_data parameters", lambda: params(bm.ModifiableCyclicTaskABC.modify_data, 2))
tx = can.Bus("compat-cyclic", interface="virtual")
rx = can.Bus("compat-cyclic", interface="virtual")
m = can.Message(arbitration_id=0x10, data=[1])
def drain():
    n = 0
    while rx.recv(0.02) is not None:
        n += 1
    return n
def by_keywords():
    task = tx.send_periodic(msgs=m, period=0.005, duration=None, store_task=True,
                            autostart=True, modifier_callback=None)
    time.sleep(0.03)
    task.stop()
    return drain() > 0
rec("send_periodic by keywords", by_keywords)
def not_started():
    task = tx.send_periodic(m, 0.005, None, True, False)
    time.sleep(0.03)
    before = drain()
    task.start()
    time.sleep(0.03)
    task.stop()
    return [before, drain() > 0]
rec("autostart False, then start", not_started)
def modify():
    task = tx.send_periodic(m, 0.005)
    task.modify_data(messages=can.Message(arbitration_id=0x10, data=[2]))
    time.sleep(0.03)
    task.stop()
    rx.recv(0.02)
    last = None
    while (got := rx.recv(0.02)) is not None:
        last = got
    return bytes(last.data)
rec("modify_data(messages=...)", modify)
rec("modify_data, another id",
    lambda: tx.send_periodic(m, 0.01).modify_data(can.Message(arbitration_id=0x11)))
tx.stop_all_periodic_tasks()
class Task(bm.LimitedDurationCyclicSendTaskABC):
    def stop(self):
        pass
rec("ABC by keywords", lambda: Task(messages=m, period=0.5, duration=2).duration)
rec("ABC, sequence", lambda: len(Task([m, m], 0.5, None).messages))
tx.shutdown()
rx.shutdown()
"""


def test_cyclic_arguments_match_python_can(tmp_path: pathlib.Path) -> None:
    assert_same(CYCLIC, tmp_path)


# -- item 3: BusState and CanProtocol -----------------------------------------------------------

STATES = """
rec("BusState", lambda: [(s.name, s.value) for s in can.BusState])
rec("BusState(2)", lambda: can.BusState(2).name)
rec("BusState.ACTIVE == 1", lambda: can.BusState.ACTIVE == 1)
rec("BusState.ACTIVE == 'active'", lambda: can.BusState.ACTIVE == "active")
rec("BusState order", lambda: can.BusState.ACTIVE < can.BusState.PASSIVE)
rec("str(BusState.ERROR)", lambda: str(can.BusState.ERROR))
rec("CanProtocol", lambda: [(p.name, p.value) for p in can.CanProtocol])
rec("CanProtocol(2)", lambda: can.CanProtocol(2).name)
def protocol(**kw):
    with can.Bus("compat-protocol", interface="virtual", **kw) as bus:
        return [bus.protocol.name, bus.state.name]
rec("virtual protocol", protocol)
rec("virtual CAN_FD", lambda: protocol(protocol=can.CanProtocol.CAN_FD))
rec("BusABC.protocol is a property", lambda: isinstance(can.BusABC.protocol, property))
"""


def test_bus_state_and_protocol_match_python_can(tmp_path: pathlib.Path) -> None:
    assert_same(STATES, tmp_path)


# -- item 4: can.util, can.exceptions.error_check, can.typechecking ------------------------------

UTIL = """
import logging, os, typing
from can import util
for dlc in (0, 8, 9, 15, 16, 100):
    rec(f"dlc2len({dlc})", lambda: util.dlc2len(dlc))
for n in (0, 8, 9, 10, 12, 13, 48, 49, 64, 65, 1000):
    rec(f"len2dlc({n})", lambda: util.len2dlc(n))
rec("CAN_FD_DLC", lambda: util.CAN_FD_DLC)
def level(name):
    util.set_logging_level(name)
    return logging.getLogger("can").level
for name in ("critical", "error", "warning", "warn", "info", "debug", "subdebug", "notset",
             "bogus", "INFO", None):
    rec(f"set_logging_level({name!r})", lambda: level(name))
rec("can.set_logging_level", lambda: callable(can.set_logging_level))
rec("load_file_config(missing)", lambda: util.load_file_config("missing.conf"))
rec("load_file_config(missing, HS)", lambda: util.load_file_config("missing.conf", "HS"))
for text in ("1", "-3", "+3", "007", "1.5", ".5", "-.5", "1.0e5", "1.5E3", "true", "TrUe",
             "false", "0x10", "1e3", "1.", "yes", "", " 2 ", "inf", "None"):
    rec(f"cast_from_string({text!r})", lambda: [type(util.cast_from_string(text)).__name__,
                                                 util.cast_from_string(text)])
@util.deprecated_args_alias("4.0.0", "5.0.0", old="new", gone=None)
def func(new=1, other=2):
    return [new, other]
def called(**kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(**kw)
    return [result, [w.category.__name__ for w in caught]]
rec("alias renamed", lambda: called(old=5))
rec("alias dropped", lambda: called(gone=3))
rec("alias and new name", lambda: called(old=5, new=6))
rec("alias not used", lambda: called(new=7))
rec("alias keeps the name", lambda: func.__name__)
rec("time_perfcounter_correlation", lambda: [type(x).__name__
                                             for x in util.time_perfcounter_correlation()])
rec("check_or_adjust_timing_clock exists", lambda: callable(util.check_or_adjust_timing_clock))
from can.exceptions import error_check
def checked(*args):
    try:
        with error_check(*args):
            raise KeyError("inner")
    except can.CanError as exc:
        return [type(exc).__name__, str(exc), type(exc.__cause__).__name__]
rec("error_check(message)", lambda: checked("failed"))
rec("error_check()", lambda: checked())
rec("error_check(message, type)", lambda: checked("x", can.CanInitializationError))
import can.typechecking as tc
rec("CanFilter keys", lambda: [sorted(tc.CanFilter.__required_keys__),
                               sorted(tc.CanFilter.__optional_keys__)])
for name in ("AutoDetectedConfig", "BitTimingDict", "BitTimingFdDict"):
    rec(f"{name} keys", lambda: sorted(typing.get_type_hints(getattr(tc, name))))
for name in ("BusConfig", "CanData", "CanFilters", "Channel", "ChannelInt", "ChannelStr",
             "FileLike", "ReadableBytesLike", "StringPathLike", "TAdditionalCliArgs",
             "TDataStructs"):
    rec(f"typechecking.{name}", lambda: hasattr(tc, name))
"""


def test_util_matches_python_can(tmp_path: pathlib.Path) -> None:
    assert_same(UTIL, tmp_path)


# -- item 5: config channels, interface names, Listener.on_error ---------------------------------

CONFIG = """
import os
from can import util
for ch in ("0", "12", "-1", "can0", "0x1", " 3", "vcan0", 3):
    rec(f"channel {ch!r}", lambda: [type(c := util.load_config(
        config={"interface": "virtual", "channel": ch})["channel"]).__name__, c])
os.environ["CAN_INTERFACE"] = "virtual"
os.environ["CAN_CHANNEL"] = "5"
rec("channel from the environment", lambda: util.load_config()["channel"])
del os.environ["CAN_CHANNEL"], os.environ["CAN_INTERFACE"]
for name in ("socketcan", "virtual", "kvaser", "pcan", "vector", "serial", "slcan"):
    rec(f"{name} in VALID_INTERFACES", lambda: name in can.VALID_INTERFACES)
class Quiet(can.Listener):
    def on_message_received(self, msg):
        pass
    def on_error(self, exc):
        self.seen = exc
        return "handled"
def quiet():
    q = Quiet()
    err = ValueError("x")
    return [q.on_error(err), q.seen is err]
rec("overridden on_error", quiet)
"""


def test_config_and_listener_match_python_can(tmp_path: pathlib.Path) -> None:
    assert_same(CONFIG, tmp_path)


# -- item 6: the virtual interface ----------------------------------------------------------------

VIRTUAL = """
import gc, inspect
from can.interfaces.virtual import VirtualBus
rec("VirtualBus parameters", lambda: [p for p in inspect.signature(VirtualBus.__init__).parameters
                                      if p not in ("self", "kwargs", "can_filters")])
def fresh():
    configs = can.detect_available_configs("virtual")
    return [len(configs), [c["interface"] for c in configs]]
rec("detect with no bus open", fresh)
def with_one_open():
    with can.Bus("compat-open", interface="virtual"):
        configs = can.detect_available_configs("virtual")
        return [len(configs), {"interface": "virtual", "channel": "compat-open"} in configs]
rec("detect with one bus open", with_one_open)
def full():
    with can.Bus("compat-full", interface="virtual") as tx, \\
            can.Bus("compat-full", interface="virtual", rx_queue_size=1):
        tx.send(can.Message())
        try:
            tx.send(can.Message(), timeout=0.05)
        except can.CanOperationError as exc:
            return "CanOperationError"
rec("full queue", full)
def abandoned():
    import weakref
    tx = can.Bus("compat-gc", interface="virtual")
    rx = can.Bus("compat-gc", interface="virtual")
    ref = weakref.ref(rx)
    del rx
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()
    tx.send(can.Message())
    tx.shutdown()
    return ref() is None
rec("an abandoned bus queues nothing", abandoned)
def own():
    with can.Bus("compat-own", interface="virtual", receive_own_messages=True,
                 preserve_timestamps=True) as bus:
        bus.send(can.Message(timestamp=12.5, arbitration_id=7))
        got = bus.recv(1)
        return [got.timestamp, got.is_rx, got.channel]
rec("receive_own_messages and preserve_timestamps", own)
"""


def test_virtual_matches_python_can(tmp_path: pathlib.Path) -> None:
    assert_same(VIRTUAL, tmp_path)


# -- item 7: Notifier -----------------------------------------------------------------------------

NOTIFIER = """
a = can.Bus("compat-notifier", interface="virtual")
b = can.Bus("compat-notifier", interface="virtual")
n1 = can.Notifier(a, [])
rec("find_instances", lambda: [len(can.Notifier.find_instances(a)),
                               can.Notifier.find_instances(a)[0] is n1,
                               type(can.Notifier.find_instances(b)).__name__,
                               len(can.Notifier.find_instances(b))])
rec("second notifier on a bus", lambda: can.Notifier(a, []))
rec("add_bus of the same bus", lambda: n1.add_bus(a))
rec("bus, one", lambda: n1.bus is a)
n1.add_bus(b)
rec("bus, two", lambda: [type(n1.bus).__name__, n1.bus == (a, b)])
rec("find_instances, added", lambda: can.Notifier.find_instances(b) == (n1,))
rec("stopped before", lambda: n1.stopped)
n1.stop()
rec("stopped after", lambda: n1.stopped)
rec("find_instances after stop", lambda: len(can.Notifier.find_instances(a)))
def as_context():
    with can.Notifier([a], []) as n:
        inside = [n.bus is a, n.stopped]
    return inside + [n.stopped]
rec("context manager", as_context)
def delivered():
    got = []
    with can.Notifier(b, [got.append]):
        a.send(can.Message(arbitration_id=5))
        import time
        deadline = time.monotonic() + 2
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
    return [m.arbitration_id for m in got]
rec("delivery", delivered)
a.shutdown()
b.shutdown()
"""


def test_notifier_matches_python_can(tmp_path: pathlib.Path) -> None:
    assert_same(NOTIFIER, tmp_path)


# -- item 8: ThreadSafeBus, ignore_config, buses left open, task.thread ---------------------------

LIFETIME = """
import gc, logging, os, time, weakref
tsb = can.ThreadSafeBus(interface="virtual", channel="compat-tsb", receive_own_messages=True)
rec("ThreadSafeBus isinstance BusABC", lambda: isinstance(tsb, can.BusABC))
for attr in ("channel_info", "receive_own_messages", "channel_id", "preserve_timestamps",
             "RECV_LOGGING_LEVEL", "filters"):
    rec(f"ThreadSafeBus.{attr}", lambda: getattr(tsb, attr))
rec("ThreadSafeBus.protocol", lambda: tsb.protocol.name)
rec("ThreadSafeBus.state", lambda: tsb.state.name)
def echo():
    tsb.send(can.Message(arbitration_id=3))
    return tsb.recv(1).arbitration_id
rec("ThreadSafeBus send and recv", echo)
tsb.shutdown()
os.environ["CAN_INTERFACE"] = "no-such-interface"
os.environ["CAN_BITRATE"] = "not a number"
def ignoring():
    with can.Bus(interface="virtual", channel="compat-ignore", ignore_config=True) as bus:
        return type(bus).__name__
rec("ignore_config skips the environment", ignoring)
del os.environ["CAN_INTERFACE"], os.environ["CAN_BITRATE"]
records = []
class Collect(logging.Handler):
    def emit(self, record):
        records.append(record)
logging.getLogger("can").addHandler(Collect())
def left_open():
    peer = can.Bus("compat-left", interface="virtual")
    bus = can.Bus("compat-left", interface="virtual")
    ref = weakref.ref(bus)
    del bus
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()
    peer.shutdown()
    return [ref() is None, any(r.levelno == logging.WARNING and "shut down" in r.getMessage()
                               for r in records)]
rec("a bus left open is shut down with a warning", left_open)
def thread_join():
    with can.Bus("compat-thread", interface="virtual") as bus:
        idle = bus.send_periodic(can.Message(arbitration_id=1), 0.01, autostart=False)
        before = idle.thread is None
        task = bus.send_periodic(can.Message(arbitration_id=2), 0.005)
        alive = task.thread.is_alive()
        task.stop()
        task.thread.join(1)
        return [before, alive, task.thread.is_alive()]
rec("task.thread", thread_join)
"""


def test_lifetime_matches_python_can(tmp_path: pathlib.Path) -> None:
    assert_same(LIFETIME, tmp_path)


# -- item 10: BitTiming and BitTimingFd (the arithmetic: tests/test_bit_timing.py) -------------

BIT_TIMING = """
import argparse, contextlib, copy, io, pickle
import can.cli, can.util
B, F = can.BitTiming, can.BitTimingFd
t = B(f_clock=8_000_000, brp=1, tseg1=5, tseg2=2, sjw=1)
fd = F(f_clock=80_000_000, nom_brp=1, nom_tseg1=119, nom_tseg2=40, nom_sjw=40, data_brp=1,
       data_tseg1=29, data_tseg2=10, data_sjw=10)
rec("names", lambda: [can.BitTiming.__name__, can.BitTimingFd.__name__,
                      can.bit_timing.BitTiming is B])
for name, x in (("classic", t), ("fd", fd)):
    rec(f"{name} str", lambda: str(x))
    rec(f"{name} repr", lambda: repr(x))
    rec(f"{name} mapping", lambda: [dict(x), len(x), list(x), isinstance(x, dict)])
    rec(f"{name} equality", lambda: [x == type(x)(**x), x == dict(x), x != type(x)(**x),
                                    hash(x) == hash(type(x)(**x)), t == fd])
    rec(f"{name} pickle and copy", lambda: [pickle.loads(pickle.dumps(x)) == x,
                                           copy.copy(x) == x, copy.deepcopy(x) == x])
    rec(f"{name} immutable", lambda: setattr(x, "f_clock", 1))
    rec(f"{name} unknown key", lambda: x["nope"])
    rec(f"{name} get", lambda: [x.get("f_clock"), x.get("nope", 5), "f_clock" in x])
rec("keyword names", lambda: repr(B.from_sample_point(f_clock=8_000_000, bitrate=500_000,
                                                      sample_point=87.5)))
rec("fd keyword names", lambda: repr(F.from_sample_point(
    f_clock=80_000_000, nom_bitrate=500_000, nom_sample_point=80.0, data_bitrate=2_000_000,
    data_sample_point=80.0)))
rec("iterate is lazy", lambda: type(B.iterate_from_sample_point(8_000_000, 500_000)).__name__)
rec("refused sample point, lazily", lambda: B.iterate_from_sample_point(8_000_000, 500_000, 40)
    is not None)
def adjust(timing, clocks):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = can.util.check_or_adjust_timing_clock(timing, clocks)
    return [repr(result), [w.category.__name__ for w in caught]]
rec("adjust: valid clock", lambda: adjust(t, [8_000_000, 16_000_000]))
rec("adjust: other clock", lambda: adjust(t, [7_000_000, 16_000_000]))
rec("adjust: none", lambda: adjust(t, [7_000_000]))
rec("adjust: fd", lambda: adjust(fd, [40_000_000]))
keys = {"interface": "virtual", "channel": "x", "f_clock": "8000000", "brp": "1", "tseg1": "5",
        "tseg2": "2", "sjw": "1", "nof_samples": "1"}
rec("config: timing from keys", lambda: repr(can.util.load_config(config=keys)["timing"]))
rec("config: incomplete keys", lambda: "timing" in can.util.load_config(
    config={k: v for k, v in keys.items() if k != "nof_samples"}))
rec("config: fd keys", lambda: repr(can.util.load_config(config={
    "interface": "virtual", "channel": "x", **{k: str(v) for k, v in fd.items()}})["timing"]))
rec("config: timing given", lambda: can.util.load_config(config={**keys, "timing": None})["timing"])
def virtual(timing):
    with can.Bus(interface="virtual", channel="bt", timing=timing) as bus:
        with can.Bus(interface="virtual", channel="bt") as other:
            bus.send(can.Message(arbitration_id=1))
            return other.recv(1).arbitration_id
rec("virtual takes timing", lambda: virtual(t))
rec("virtual takes fd timing", lambda: virtual(fd))
def cli(*argv):
    parser = argparse.ArgumentParser(exit_on_error=False)
    can.cli.add_bus_arguments(parser)
    # python-can 4.x prints the timing while parsing it; this library does not
    with contextlib.redirect_stdout(io.StringIO()):
        args = parser.parse_args(list(argv))
    with can.cli.create_bus_from_namespace(args) as bus:
        return [repr(args.timing), bus.channel_info]
rec("cli --timing", lambda: cli("-i", "virtual", "-c", "c", "--timing", "f_clock=8000000",
                                "brp=1", "tseg1=5", "tseg2=2", "sjw=1", "nof_samples=3"))
rec("cli --timing fd", lambda: cli("-i", "virtual", "-c", "c", "--timing",
                                   *[f"{k}={v}" for k, v in fd.items()]))
"""


def test_bit_timing_matches_python_can(tmp_path: pathlib.Path) -> None:
    assert_same(BIT_TIMING, tmp_path)
