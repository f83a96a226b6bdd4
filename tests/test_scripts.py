"""The console scripts can-logger and can-player (manual chapter 5), run as real processes.

Frames come from (and go to) the ``testgen`` interface of tests/cli_plugin, installed for each
test as a third-party plug-in through an entry point on PYTHONPATH. It reports what it received
and sent, and the bus arguments it was opened with, in a JSON file.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

import can

PLUGIN = pathlib.Path(__file__).resolve().parent / "cli_plugin"


class Env:
    def __init__(self, tmp: pathlib.Path) -> None:
        self.tmp = tmp
        site = tmp / "site"
        info = site / "testgen-0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: testgen\nVersion: 0\n")
        (info / "entry_points.txt").write_text("[can.interface]\ntestgen = testgen:GenBus\n")
        self.report = tmp / "report.json"
        self.env = dict(os.environ)
        paths = [str(site), str(PLUGIN), *filter(None, [os.environ.get("PYTHONPATH")])]
        self.env["PYTHONPATH"] = os.pathsep.join(paths)
        self.env["TESTGEN_REPORT"] = str(self.report)
        self.env.pop("CAN_INTERFACE", None)

    def command(self, script: str) -> list[str]:
        exe = pathlib.Path(sys.executable).parent / script
        if exe.exists():
            return [str(exe)]
        return [sys.executable, "-m", "can." + script.split("-")[1]]

    def start(self, script: str, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*self.command(script), *args],
            env=self.env,
            cwd=self.tmp,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, script: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command(script), *args],
            env=self.env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def wait_report(self, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.report.exists():
                data: dict[str, Any] = json.loads(self.report.read_text())
                return data
            time.sleep(0.02)
        raise AssertionError("the testgen bus wrote no report")

    def log(
        self, n: int, *args: str, sig: int = signal.SIGINT
    ) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
        """can-logger on testgen with ``n`` frames, stopped by ``sig`` once they are received."""
        proc = self.start("can-logger", "-i", "testgen", "-c", str(n), *args)
        try:
            report = self.wait_report()
            time.sleep(0.1)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), report


@pytest.fixture
def env(tmp_path: pathlib.Path) -> Env:
    return Env(tmp_path)


def expected_ids(n: int) -> list[int]:
    return [0x4 if i % 50 == 49 else (i & 0x7FF if i % 10 else 0x18DA0000 + i) for i in range(n)]


def read(path: pathlib.Path) -> list[can.Message]:
    with can.LogReader(path) as reader:
        return list(reader)


# -- can-logger ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize(
    "name", ["out.asc", "out.blf", "out.log", "out.csv", "out.db", "out.log.gz"]
)
def test_logger_records_every_frame(env: Env, name: str, sig: int) -> None:
    n = 3000
    proc, report = env.log(n, "-f", name, sig=sig)
    assert proc.returncode == 0, proc.stderr
    assert report["received"] == n
    got = read(env.tmp / name)
    # (ASC keeps no error class: error frames are compared by their position)
    assert [None if m.is_error_frame else m.arbitration_id for m in got] == [
        None if k % 50 == 49 else i for k, i in enumerate(expected_ids(n))
    ]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{n} frames ({n // 50} error frames) logged to {name}")


def test_logger_prints_to_stdout_without_a_file(env: Env) -> None:
    proc, _ = env.log(5)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 5
    assert lines[1].startswith("Timestamp:") and "ID: 0001" in lines[1]


def test_logger_filters(env: Env) -> None:
    # three digits: standard ids only. 010:7F0 passes 0x010-0x01F; 000~7F0 every id from 0x010
    data_frames = [
        (k, i) for k, i in enumerate(expected_ids(300)) if k % 10 and k % 50 != 49
    ]  # standard data frames, in order
    proc, _ = env.log(300, "-f", "f.log", "--filter", "010:7F0")
    assert proc.returncode == 0, proc.stderr
    ids = [m.arbitration_id for m in read(env.tmp / "f.log") if not m.is_error_frame]
    assert ids == [i for _, i in data_frames if 0x10 <= i <= 0x1F]
    env.report.unlink()
    proc, _ = env.log(300, "-f", "g.log", "--filter", "000~7F0")
    assert proc.returncode == 0, proc.stderr
    ids = [m.arbitration_id for m in read(env.tmp / "g.log") if not m.is_error_frame]
    assert ids == [i for _, i in data_frames if i >= 0x10]


def test_logger_bus_options_reach_the_bus(env: Env) -> None:
    proc, report = env.log(
        1,
        "-b",
        "250k",
        "--fd",
        "--data-bitrate",
        "2M",
        "--passive",
        "--bus-kwargs",
        "receive_own_messages=yes",
        "app_name=Bench",
        "rx_queue_size=0x100",
    )
    assert proc.returncode == 0, proc.stderr
    assert report["state"] == "PASSIVE"
    assert report["kwargs"] == {
        "bitrate": 250000,
        "fd": True,
        "data_bitrate": 2000000,
        "receive_own_messages": True,
        "app_name": "Bench",
        "rx_queue_size": 256,
    }


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["f_clock=8000000", "brp=2", "tseg1=13", "tseg2=2", "sjw=1", "nof_samples=3"],
            can.BitTiming(f_clock=8_000_000, brp=2, tseg1=13, tseg2=2, sjw=1, nof_samples=3),
        ),
        (
            ["f_clock=8M", "brp=1", "tseg1=5", "tseg2=2", "sjw=1"],
            can.BitTiming(f_clock=8_000_000, brp=1, tseg1=5, tseg2=2, sjw=1),
        ),
        (
            "f_clock=80000000 nom_brp=1 nom_tseg1=119 nom_tseg2=40 nom_sjw=40 data_brp=1 "
            "data_tseg1=29 data_tseg2=10 data_sjw=10".split(),
            can.BitTimingFd(
                f_clock=80_000_000,
                nom_brp=1,
                nom_tseg1=119,
                nom_tseg2=40,
                nom_sjw=40,
                data_brp=1,
                data_tseg1=29,
                data_tseg2=10,
                data_sjw=10,
            ),
        ),
    ],
)
def test_logger_timing_reaches_the_bus(env: Env, args: list[str], expected: Any) -> None:
    # python-can 4.x's scripts take --timing and pass the bit timing as timing=
    proc, report = env.log(1, "--timing", *args)
    assert proc.returncode == 0, proc.stderr
    assert report["kwargs"] == {"timing": repr(expected)}


def test_logger_active_is_the_default_state(env: Env) -> None:
    _, report = env.log(1, "--active")
    assert report["state"] == "ACTIVE"


def test_logger_rotates_by_size(env: Env) -> None:
    proc, _ = env.log(2000, "-f", "rot.log", "-s", "20000")
    assert proc.returncode == 0, proc.stderr
    files = sorted(env.tmp.glob("rot*.log"))
    assert len(files) > 3
    assert all(p.stat().st_size <= 20000 + 60 for p in files)
    total = sum(len(read(p)) for p in files)
    assert total == 2000


def test_logger_appends(env: Env) -> None:
    env.log(10, "-f", "a.log")
    env.report.unlink()
    proc, _ = env.log(10, "-f", "a.log", "--append")
    assert proc.returncode == 0, proc.stderr
    assert len(read(env.tmp / "a.log")) == 20


def test_logger_passes_writer_options(env: Env) -> None:
    # BLFWriter(compression_level=0): the objects are stored, their signatures readable
    proc, _ = env.log(200, "-f", "raw.blf", "--compression-level=0")
    assert proc.returncode == 0, proc.stderr
    assert (env.tmp / "raw.blf").read_bytes().count(b"LOBJ") >= 200
    assert len(read(env.tmp / "raw.blf")) == 200


@pytest.mark.parametrize(
    ("args", "status", "text"),
    [
        (["-i", "nosuch"], 2, "invalid choice: 'nosuch'"),
        (["-i", "testgen", "--filter", "12:zz"], 2, "'12:zz' is not a filter"),
        (["-i", "testgen", "-b", "fast"], 2, "'fast'"),
        (["-i", "testgen", "--bus-kwargs", "novalue"], 2, "is not key=value"),
        (["-i", "testgen", "--timing", "f_clock=8000000", "brp=1"], 2, "--timing needs the keys"),
        (["-i", "testgen", "--timing", "brp=x"], 2, "'brp=x' is not key=integer"),
        (
            ["-i", "testgen", "--timing", "f_clock=8M", "brp=0", "tseg1=5", "tseg2=2", "sjw=1"],
            2,
            "bit rate prescaler (=0)",
        ),
        (["-i", "testgen", "-s", "100"], 1, "--file_size needs a file"),
        (["-i", "testgen", "-f", "/nonexistent/dir/x.asc"], 1, "No such file or directory"),
        (["-i", "testgen", "-f", "x.asc", "stray"], 2, "unrecognized argument 'stray'"),
        (["-i", "testgen", "-f", "x.db.gz"], 1, "cannot be gzip-compressed"),
    ],
)
def test_logger_errors_are_one_line(env: Env, args: list[str], status: int, text: str) -> None:
    proc = env.run("can-logger", *args)
    assert proc.returncode == status, proc.stderr
    assert text in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("can-logger: error:")


def test_logger_help_lists_every_option(env: Env) -> None:
    out = env.run("can-logger", "--help").stdout
    for option in (
        "--file_name", "--append", "--file_size", "-v", "--active", "--passive", "--channel",
        "--interface", "--bitrate", "--fd", "--data-bitrate", "--filter", "--bus-kwargs", "--timing",
    ):  # fmt: skip
        assert option in out, option


# -- can-player ---------------------------------------------------------------------------------


def write_log(path: pathlib.Path, stamps: list[float], error_at: int = -1) -> None:
    with can.Logger(path) as writer:
        for i, t in enumerate(stamps):
            if i == error_at:
                writer(
                    can.Message(timestamp=t, is_error_frame=True, arbitration_id=0x4, data=bytes(8))
                )
            else:
                writer(
                    can.Message(
                        timestamp=t, arbitration_id=0x100 + i, is_extended_id=False, data=[i]
                    )
                )


def sent(env: Env, proc: subprocess.CompletedProcess[str]) -> list[tuple[float, int, bool]]:
    assert proc.returncode == 0, proc.stderr
    return [tuple(s) for s in json.loads(env.report.read_text())["sent"]]  # type: ignore[misc]


def assert_on_time(rows: list[tuple[float, int, bool]], offsets: list[float]) -> None:
    """Each send at its offset from the first one: never early (the deadlines are absolute),
    late by at most what a loaded 2-core machine may add."""
    got = [r[0] - rows[0][0] for r in rows]
    assert len(got) == len(offsets)
    for g, want in zip(got, offsets):
        assert want - 0.003 <= g <= want + 0.15, (got, offsets)


@pytest.mark.parametrize("suffix", [".asc", ".blf", ".log", ".csv", ".log.gz"])
def test_player_replays_with_the_recorded_spacing(env: Env, suffix: str) -> None:
    path = env.tmp / f"in{suffix}"
    stamps = [100.0, 100.1, 100.15, 100.35, 100.4]
    write_log(path, stamps)
    rows = sent(env, env.run("can-player", "-i", "testgen", str(path)))
    assert [r[1] for r in rows] == [0x100 + i for i in range(5)]
    # absolute deadlines: each frame at its recorded offset from the first one, never drifting
    assert_on_time(rows, [t - stamps[0] for t in stamps])


def test_player_file_name_option_and_verbose_prints(env: Env) -> None:
    path = env.tmp / "in.log"
    write_log(path, [1.0, 1.01])
    proc = env.run("can-player", "-i", "testgen", "-f", str(path), "-v")
    assert len(sent(env, proc)) == 2
    lines = proc.stdout.splitlines()
    assert len(lines) == 2 and "ID: 0100" in lines[0] and "ID: 0101" in lines[1]


def test_player_ignore_timestamps_gap_and_skip(env: Env) -> None:
    path = env.tmp / "in.log"
    write_log(path, [0.0, 10.0, 20.0])
    start = time.monotonic()
    rows = sent(
        env, env.run("can-player", "-i", "testgen", "--ignore-timestamps", "-g", "0.1", str(path))
    )
    assert_on_time(rows, [0.0, 0.1, 0.2])
    rows = sent(env, env.run("can-player", "-i", "testgen", "-s", "0.2", str(path)))
    assert_on_time(rows, [0.0, 0.2, 0.4])
    assert time.monotonic() - start < 15


def test_player_error_frames_loop_and_rate(env: Env) -> None:
    path = env.tmp / "in.log"
    write_log(path, [0.0, 0.1, 0.2, 0.4], error_at=2)
    rows = sent(env, env.run("can-player", "-i", "testgen", str(path)))
    assert [r[2] for r in rows] == [False, False, False]
    rows = sent(env, env.run("can-player", "-i", "testgen", "--error-frames", str(path)))
    assert [r[2] for r in rows] == [False, False, True, False]
    rows = sent(
        env, env.run("can-player", "-i", "testgen", "--loop", "2", "--rate", "2", str(path))
    )
    assert [r[1] for r in rows] == [0x100, 0x101, 0x103] * 2
    # twice as fast: 0.05 s, then 0.15 s between the remaining frames (in each round)
    assert_on_time(rows[:3], [0.0, 0.05, 0.2])
    assert_on_time(rows[3:], [0.0, 0.05, 0.2])


@pytest.mark.parametrize(
    ("make", "status", "text"),
    [
        (lambda d: str(d / "missing.asc"), 1, "No such file or directory"),
        (lambda d: str(d / "in.xyz"), 1, "cannot read a log file with suffix '.xyz'"),
        (lambda d: "", 1, "no file to replay"),
    ],
)
def test_player_errors_are_one_line(env: Env, make: Any, status: int, text: str) -> None:
    (env.tmp / "in.xyz").write_text("x")
    target = make(env.tmp)
    proc = env.run("can-player", "-i", "testgen", *([target] if target else []))
    assert proc.returncode == status, proc.stderr
    assert text in proc.stderr and "Traceback" not in proc.stderr


def test_player_bad_file_content(env: Env) -> None:
    path = env.tmp / "bad.asc"
    path.write_bytes(bytes(range(256)) * 10)
    proc = env.run("can-player", "-i", "testgen", str(path))
    assert proc.returncode == 1 and proc.stderr.count("\n") <= 3, proc.stderr
    assert "bad.asc" in proc.stderr and "Traceback" not in proc.stderr


SCRIPTS = ["logger", "player", "logconvert", "generate", "bridge"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_runs_by_each_of_its_names(env: Env, name: str) -> None:
    # can-<name>, can_<name> (python-can's names; not for the new generate) and python -m can.<name>
    bindir = pathlib.Path(sys.executable).parent
    if not (bindir / f"can-{name}").exists():
        pytest.skip("only when testing the installed wheel (console scripts)")
    commands = [[str(bindir / f"can-{name}")], [sys.executable, "-m", f"can.{name}"]]
    if name != "generate":
        commands.append([str(bindir / f"can_{name}")])
    for command in commands:
        proc = subprocess.run(
            [*command, "--help"], env=env.env, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, (command, proc.stderr)
        assert proc.stdout.startswith("usage: "), command


def test_generate_sends_what_it_is_asked(env: Env) -> None:
    proc = env.run(
        "can-generate", "-i", "testgen", "-n", "5", "-g", "20", "-I", "7DF", "-L", "3", "-D", "i"
    )
    rows = sent(env, proc)
    assert [r[1] for r in rows] == [0x7DF] * 5
    assert_on_time(rows, [0.0, 0.02, 0.04, 0.06, 0.08])
    assert proc.stderr.strip().splitlines()[-1].startswith("5 frames sent")


@pytest.mark.parametrize(
    ("args", "text"),
    [(["-I", "xyz"], "expected r, i or a hex number"), (["-L", "9"], "cannot carry 9 data bytes")],
)
def test_generate_bad_modes(env: Env, args: list[str], text: str) -> None:
    proc = env.run("can-generate", "-i", "testgen", "-n", "1", *args)
    assert proc.returncode in (1, 2) and text in proc.stderr and "Traceback" not in proc.stderr
