"""The console scripts, ours against upstream python-can's, as real processes.

Usage::

    python benches/bench_scripts.py [--ref build/ref-venv/bin/python] [--n 200000]
                                    [--repeat 3] [--only logger,player]

Both libraries' scripts get their frames from the same bus, ``testgen`` (tests/cli_plugin), a
third-party interface installed for the run through an entry point on PYTHONPATH, which each
library loads the way it loads any plug-in:

* ``logger``: ``<lib> -m can.logger -i testgen -c N -f out.<fmt>`` with a bus that hands over
  N frames as fast as they are asked for (a saturated bus). Measured: the process's CPU time
  (user + system, from ``wait4``) per frame, less that of the same command receiving 0 frames
  (start-up, imports, the empty file), for .blf and .asc. The files are read back with our
  reader and must hold all N frames.
* ``logger-socketcan`` (only where ``vcan0`` exists and as root, e.g. under
  ``../shared/kernel/kernel-run.sh``): the same on a real saturated bus: ``-i socketcan -c
  vcan0`` while ``cangen vcan0 -g 0 -n N`` sends back to back. The kernel's default receive
  buffer is raised for the run so that either logger's socket holds the whole burst: each then
  takes every frame at its own pace (the run ends when the logger has used no CPU for a second)
  and must have all N in its file, so both do the same work and the CPU per frame compares it.
* ``player``: ``<lib> -m can.player -i testgen FILE`` replaying a candump log of 1000 frames 2
  ms apart (with a few longer gaps); the bus records the monotonic time of each send.
  Measured: how far each send is from its recorded offset from the first one (median, p99,
  max), and whether every frame was sent.

The runs of the two libraries alternate, and the median of ``--repeat`` runs is reported. Not
part of CI.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PLUGIN = ROOT / "tests" / "cli_plugin"


def plugin_env(tmp: Path, ours: bool) -> dict[str, str]:
    site = tmp / "site"
    info = site / "testgen-0.dist-info"
    if not info.exists():
        info.mkdir(parents=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: testgen\nVersion: 0\n")
        (info / "entry_points.txt").write_text("[can.interface]\ntestgen = testgen:GenBus\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    paths = [str(site), str(PLUGIN)]
    if ours and os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["TESTGEN_REPORT"] = str(tmp / "report.json")
    return env


def cpu_of(cmd: list[str], env: dict[str, str], report: Path) -> float:
    """Runs ``cmd`` until the bus reports it handed out its frames, stops it with SIGINT and
    returns its CPU seconds."""
    report.unlink(missing_ok=True)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600
    while not report.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{cmd} ended early: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.005)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a running process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_until_idle(pid: int, quiet: float = 1.0, limit: float = 600) -> None:
    """Waits until the process has used no CPU for ``quiet`` seconds (it has taken every
    frame waiting in its socket)."""
    deadline = time.monotonic() + limit
    last, since = _proc_cpu(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = _proc_cpu(pid)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
    raise RuntimeError(f"the logger (pid {pid}) was still busy after {limit} s")


def cpu_socketcan(cmd: list[str], env: dict[str, str], n: int) -> float:
    """Runs the logger ``cmd`` on vcan0 while cangen sends ``n`` frames back to back, waits
    until it has taken them all from its socket, stops it with SIGINT and returns its CPU
    seconds."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1)
    _wait_until_idle(proc.pid)  # imported, bus open, waiting for frames
    if n:
        subprocess.run(
            ["cangen", "vcan0", "-g", "0", "-I", "i", "-L", "8", "-D", "i", "-n", str(n)],
            check=True,
            timeout=600,
        )
    _wait_until_idle(proc.pid)
    proc.send_signal(signal.SIGINT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


#: The kernel's receive buffer limits, raised for the socketcan runs (see BigReceiveBuffers).
RMEM = (Path("/proc/sys/net/core/rmem_default"), Path("/proc/sys/net/core/rmem_max"))


class BigReceiveBuffers:
    """Raises the default and largest socket receive buffer to 256 MiB while entered (as
    root; restored after), so that each logger's socket holds a whole burst however slowly the
    logger takes the frames: both then keep every frame and CPU per frame compares the same
    work. (python-can's bus keeps the kernel's default buffer, about 200 kB, where a flood
    overflows its queue and most frames are dropped before they cost it anything.)"""

    def __enter__(self) -> bool:
        self.saved = [p.read_text() for p in RMEM]
        try:
            for p in RMEM:
                p.write_text(str(256 << 20))
        except OSError:
            return False
        return True

    def __exit__(self, *exc: object) -> None:
        for p, v in zip(RMEM, self.saved):
            try:
                p.write_text(v)
            except OSError:
                pass


def bench_logger_socketcan(python: str, ours: bool, n: int, fmt: str, tmp: Path) -> float:
    env = plugin_env(tmp, ours)
    out = tmp / f"out{fmt}"
    cmd = [python, "-m", "can.logger", "-i", "socketcan", "-c", "vcan0", "-f", str(out)]
    with BigReceiveBuffers() as raised:
        if not raised:
            raise RuntimeError("logger-socketcan needs root (it raises net.core.rmem_default)")
        idle = cpu_socketcan(cmd, env, 0)
        busy = cpu_socketcan(cmd, env, n)
    kept = frames_in(out)
    if kept != n:
        raise RuntimeError(f"{'ours' if ours else 'python-can'} logged {kept} of {n} frames")
    return (busy - idle) / kept


def frames_in(path: Path) -> int:
    import can

    with can.LogReader(path) as reader:
        return sum(1 for _ in reader)


def bench_logger(python: str, ours: bool, n: int, fmt: str, tmp: Path) -> float:
    env = plugin_env(tmp, ours)
    report = Path(env["TESTGEN_REPORT"])
    out = tmp / f"out{fmt}"
    base = [python, "-m", "can.logger", "-i", "testgen", "-f", str(out)]
    idle = cpu_of([*base, "-c", "0"], env, report)
    busy = cpu_of([*base, "-c", str(n)], env, report)
    got = frames_in(out)
    if got != n:
        raise RuntimeError(f"{'ours' if ours else 'python-can'} logged {got} of {n} frames")
    return (busy - idle) / n


def bench_player(python: str, ours: bool, tmp: Path) -> dict[str, float]:
    import can

    path = tmp / "replay.log"
    stamps = []
    t = 1000.0
    for i in range(1000):
        t += 0.002 if i % 100 else 0.05
        stamps.append(t)
    with can.Logger(path) as writer:
        for i, ts in enumerate(stamps):
            writer(can.Message(timestamp=ts, arbitration_id=i & 0x7FF, is_extended_id=False))
    env = plugin_env(tmp, ours)
    report = Path(env["TESTGEN_REPORT"])
    report.unlink(missing_ok=True)
    proc = subprocess.run(
        [python, "-m", "can.player", "-i", "testgen", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode:
        raise RuntimeError(proc.stderr)
    sent = json.loads(report.read_text())["sent"]
    if len(sent) != len(stamps):
        raise RuntimeError(f"{len(sent)} of {len(stamps)} frames sent")
    dev = sorted(abs((s[0] - sent[0][0]) - (ts - stamps[0])) * 1e3 for s, ts in zip(sent, stamps))
    return {
        "median_ms": statistics.median(dev),
        "p99_ms": dev[int(len(dev) * 0.99)],
        "max_ms": dev[-1],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", default="build/ref-venv/bin/python", help="upstream interpreter")
    ap.add_argument("--n", type=int, default=200_000, help="frames for the logger runs")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="logger,player")
    args = ap.parse_args()
    only = set(args.only.split(","))
    ours_py = sys.executable
    print(f"ours: {ours_py}\ntheirs: {args.ref}\nload: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for kind, fn in (("logger", bench_logger), ("logger-socketcan", bench_logger_socketcan)):
            if kind not in only:
                continue
            for fmt in (".blf", ".asc"):
                rows: dict[str, list[float]] = {"ours": [], "python-can": []}
                for _ in range(args.repeat):
                    rows["ours"].append(fn(ours_py, True, args.n, fmt, tmp))
                    rows["python-can"].append(fn(args.ref, False, args.n, fmt, tmp))
                a = statistics.median(rows["ours"]) * 1e6
                b = statistics.median(rows["python-can"]) * 1e6
                print(
                    f"{kind} {fmt}: CPU per frame ours {a:.2f} us, python-can {b:.2f} us, "
                    f"ours/theirs {a / b:.2f} (target <= 0.20), {args.n} frames each, all kept"
                )
        if "player" in only:
            res: dict[str, list[dict[str, float]]] = {"ours": [], "python-can": []}
            for _ in range(args.repeat):
                res["ours"].append(bench_player(ours_py, True, tmp))
                res["python-can"].append(bench_player(args.ref, False, tmp))
            for who, runs in res.items():
                med: dict[str, Any] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                print(
                    f"player {who}: deviation from the recorded offsets, median "
                    f"{med['median_ms']:.3f} ms, p99 {med['p99_ms']:.3f} ms, max "
                    f"{med['max_ms']:.3f} ms (1000 frames, 2 ms apart)"
                )


if __name__ == "__main__":
    main()
