"""can-viewer (manual section 5.3): the decode strings, the screen without a terminal, and the
real console script in a pseudo-terminal under tmux, read back with ``tmux capture-pane``.

Frames come from the ``testgen`` plug-in of tests/cli_plugin (see tests/test_scripts.py): channel
``N`` gives frames 0..N-1 at once, ``N/PERIOD`` those N frames over and over, one every PERIOD
seconds. Frame ``i`` has id ``i & 0x7FF`` (``0x18DA0000 + i``, extended, when ``i % 10 == 0``),
``i % 9`` data bytes of value ``i & 0xFF`` and timestamp ``1000 + i / 1000`` (``1000 + k * PERIOD``
for the k-th frame of a stream); frame 49 (of each 50) is an error frame of class 0x004.
"""

from __future__ import annotations

import json
import os
import pathlib
import shlex
import shutil
import struct
import subprocess
import sys
import textwrap
import time
from typing import Any, Callable, Optional

import pytest

import can
from can.viewer import Viewer, parse_decode, read_decode_file

PLUGIN = pathlib.Path(__file__).resolve().parent / "cli_plugin"
TMUX = shutil.which("tmux")
REF_PYTHON = pathlib.Path(
    os.environ.get(
        "CAN_REF_PYTHON", pathlib.Path(__file__).resolve().parents[1] / "build/ref-venv/bin/python"
    )
)


def frame(i: int, timestamp: Optional[float] = None) -> can.Message:
    """Frame ``i`` of testgen, written out here independently of the plug-in."""
    stamp = 1000.0 + i / 1000 if timestamp is None else timestamp
    if i % 50 == 49:
        return can.Message(timestamp=stamp, is_error_frame=True, arbitration_id=4, data=bytes(8))
    return can.Message(
        timestamp=stamp,
        arbitration_id=0x18DA0000 + i if i % 10 == 0 else i & 0x7FF,
        is_extended_id=i % 10 == 0,
        data=bytes([i & 0xFF]) * (i % 9),
    )


def shown_id(i: int) -> str:
    if i % 50 == 49:
        return "0x004"
    return f"0x{0x18DA0000 + i:08X}" if i % 10 == 0 else f"0x{i & 0x7FF:03X}"


# -- decode strings -------------------------------------------------------------------------------


def test_decode_examples_of_the_manual() -> None:
    # "100:<BHL": uint8, uint16, uint32 from six... seven bytes (1 + 2 + 4), little-endian
    data = bytes([0x01, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12])
    assert parse_decode("100:<BHL").decode(data) == [1, 0x1234, 0x12345678]
    # "101:<BHL:1:10.0:100.0": the second value divided by 10, the third by 100
    assert parse_decode("101:<BHL:1:10.0:100.0").decode(data) == [
        1,
        0x1234 / 10,
        0x12345678 / 100,
    ]
    # "integer division is performed if the scaling value is an integer"
    assert parse_decode("101:<BHL:1:10:100").decode(data) == [1, 466, 3054198]
    # big-endian, ids in hex, fewer scalings than values
    d = parse_decode("18DAF110:>hB:2")
    assert (d.can_id, d.decode(b"\xff\xf6\x07")) == (0x18DAF110, [-5, 7])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("100", "is not a decode string"),
        ("100:", "is not a decode string"),
        ("xyz:<B", "'xyz' is not a CAN id in hex"),
        ("20000000:<B", "is not a CAN id in hex"),
        ("100:<Z", "'<Z' is not a struct format"),
        ("100:<B:zero", "scaling 'zero' is not a number"),
        ("100:<B:0", "scaling '0' cannot divide"),
        ("100:<BH:1:2:3", "3 scalings for the 2 values"),
        ("100:<cB:2", "value 1 is a char"),
        ("100:<9Q", "takes 72 bytes"),
        ("100:<4x", "has no values"),
    ],
)
def test_bad_decode_strings(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + repr(text).replace("[", r"\[")) as e:
        parse_decode(text)
    assert message in str(e.value)


def test_decode_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "decode.txt"
    path.write_text("# engine\n100:<BHL\n\n  101:<BHL:1:10.0:100.0  \n")
    assert [(d.can_id, d.format.format, d.scaling) for d in read_decode_file(str(path))] == [
        (0x100, "<BHL", ()),
        (0x101, "<BHL", (1, 10.0, 100.0)),
    ]
    path.write_text("100:<BHL\n101:<Q:x\n")
    with pytest.raises(ValueError, match=r"decode.txt, line 2: '101:<Q:x': scaling 'x'"):
        read_decode_file(str(path))


# Each with a scaling for every value or none: python-can 4.6 drops the values after the last
# scaling, where we keep them unscaled (test_decode_examples_of_the_manual).
CROSS = [
    ("100:<BHL", bytes([1, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12])),
    ("101:<BHL:1:10.0:100.0", bytes([1, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12])),
    ("102:<BHL:3:10:7", bytes([200, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12])),
    ("7E0:>hhf:2:4.0:0.5", bytes([0x80, 1, 0xFF, 0xFE]) + struct.pack(">f", 1.5)),
    ("18DAF110:<?bxQ:1:-3:1000", bytes([1, 0x85, 0]) + (10**15 + 7).to_bytes(8, "little")),
]


def test_decode_agrees_with_python_can() -> None:
    if not REF_PYTHON.exists():
        pytest.skip(f"no reference python-can at {REF_PYTHON} (make ref-venv)")
    program = textwrap.dedent(
        """
        import json, sys
        import can.viewer as v
        cases = json.load(sys.stdin)
        _, structs = v._parse_viewer_args(["-d", *[text for text, _ in cases]])
        print(json.dumps([
            v.CanViewer.unpack_data(int(text.split(":")[0], 16), structs, bytes.fromhex(data))
            for text, data in cases
        ]))
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CAN_INTERFACE")}
    proc = subprocess.run(
        [str(REF_PYTHON), "-c", program],
        input=json.dumps([(text, data.hex()) for text, data in CROSS]),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    theirs = json.loads(proc.stdout)
    ours = [parse_decode(text).decode(data) for text, data in CROSS]
    assert ours == theirs
    assert [[type(v) for v in row] for row in ours] == [[type(v) for v in row] for row in theirs]


# -- the screen without a terminal ----------------------------------------------------------------


def columns(header: str, line: str) -> dict[str, str]:
    """A screen line cut at the header's column starts."""
    names = ["Count", "Time", "dt", "ID", "DLC", "Data", "Parsed values"]
    starts = [header.index(n) for n in names]
    ends = [*starts[1:], None]
    return {n: line[a:b].strip() for n, a, b in zip(names, starts, ends)}


def test_lines_show_every_column() -> None:
    v = Viewer({0x5: parse_decode("5:<BHH:1:10.0:100")})
    for i in range(60):
        v.receive(frame(i))
    v.receive(frame(5, timestamp=1000.5))
    lines = v.lines(120, 70)
    assert len(lines) == 70
    assert lines[0].style == "header"
    assert lines[0].text.split() == ["Count", "Time", "dt", "ID", "DLC", "Data", "Parsed", "values"]
    rows = [columns(lines[0].text, line.text) for line in lines[1:61]]
    # one row per id in the order of arrival (the error frame's row apart from id 0x004's)
    assert [r["ID"] for r in rows] == [shown_id(i) for i in range(60)]
    assert rows[5] == {
        "Count": "2",
        "Time": "0.500000",  # from the first frame, at 1000.0
        "dt": "0.495000",  # from the previous 0x005, at 1000.005
        "ID": "0x005",
        "DLC": "5",
        "Data": "05 05 05 05 05",
        # 5; 0x0505 = 1285 / 10.0; 1285 // 100
        "Parsed values": "5 128.500000 12",
    }
    assert rows[10] == {
        "Count": "1",
        "Time": "0.010000",
        "dt": "0.000000",
        "ID": "0x18DA000A",
        "DLC": "1",
        "Data": "0A",
        "Parsed values": "",
    }
    assert rows[49]["Parsed values"] == "controller problem"
    assert [line.style for line in lines[1:61]] == [
        "error" if i == 49 else "frame" for i in range(60)
    ]
    assert lines[-1].style == "status" and lines[-1].text.startswith("60 ids, rows 1-60  q quit")


def test_sort_puts_error_frames_then_standard_then_extended_ids() -> None:
    v = Viewer()
    for i in range(60):
        v.receive(frame(i))
    v.key("s")
    ids = [columns(v.lines(120, 70)[0].text, line.text)["ID"] for line in v.lines(120, 70)[1:61]]
    standard = sorted({i & 0x7FF for i in range(60) if i % 10 and i % 50 != 49})
    extended = [0x18DA0000 + i for i in range(0, 60, 10)]
    assert ids == ["0x004"] + [f"0x{i:03X}" for i in standard] + [f"0x{i:08X}" for i in extended]


def test_clear_pause_and_scroll() -> None:
    v = Viewer()
    for i in range(30):
        v.receive(frame(i))
    assert v.key("SPACE") and v.paused
    before = [line.text for line in v.lines(100, 40)]
    for i in range(30, 40):
        v.receive(frame(i))
    v.receive(frame(3, timestamp=1002.0))
    assert [line.text for line in v.lines(100, 40)][:-1] == before[:-1]  # the screen is frozen
    assert "PAUSED" in v.lines(100, 40)[-1].text
    v.key("SPACE")  # ... but every frame was counted
    rows = [columns(before[0], line.text) for line in v.lines(100, 45)[1:41]]
    assert len([r for r in rows if r["ID"]]) == 40
    assert rows[3]["Count"] == "2" and rows[3]["Time"] == "2.000000"
    # scrolling: 12 rows fit in 14 lines; the position stays within the rows
    assert v.lines(100, 14)[-1].text.startswith("40 ids, rows 1-12")
    for name, first in [
        ("DOWN", 2),
        ("PGDN", 14),
        ("PGDN", 26),
        ("PGDN", 29),
        ("UP", 28),
        ("PGUP", 16),
        ("HOME", 1),
        ("UP", 1),
        ("END", 29),
    ]:
        v.key(name)
        lines = v.lines(100, 14)
        assert lines[-1].text.startswith(f"40 ids, rows {first}-{first + 11}"), (name, lines[-1])
        assert columns(lines[0].text, lines[1].text)["ID"] == shown_id(first - 1)
    v.key("c")
    lines = v.lines(100, 14)
    assert lines[-1].text.startswith("0 ids, no rows") and all(not x.text for x in lines[1:-1])
    v.receive(frame(7, timestamp=2000.0))
    assert columns(lines[0].text, v.lines(100, 14)[1].text)["Time"] == "0.000000"
    assert not v.key("q") and not v.key("ESC")


def test_any_screen_size_gives_lines_that_fit() -> None:
    v = Viewer({7: parse_decode("7:<bhL")})
    for i in range(120):
        v.receive(frame(i))
    v.receive(can.Message(arbitration_id=0x123, is_extended_id=False, is_fd=True, data=range(64)))
    v.receive(can.Message(arbitration_id=0x124, is_extended_id=False, is_remote_frame=True, dlc=3))
    v.key("END")
    for height in range(-1, 12):
        for width in range(-1, 160, 7):
            lines = v.lines(width, height)
            assert len(lines) == max(height, 0)
            assert all(len(line.text) <= max(width, 0) for line in lines)
    texts = [line.text for line in v.lines(400, 200)]
    assert any("00 01 02" in t and "3D 3E 3F" in t for t in texts)
    assert any("0x124" in t and "remote request" in t for t in texts)
    # 7 data bytes 07: int8 7, int16 0x0707, uint32 0x07070707
    assert any(
        t.split()[3:] == ["0x007", "7", *["07"] * 7, "7", "1799", "117901063"] for t in texts
    )


def test_data_of_another_length_than_the_format() -> None:
    v = Viewer({3: parse_decode("3:<L")})
    v.receive(frame(3))
    assert v.parsed(frame(3)) == "(3 bytes, <L takes 4)"


# -- the console script ---------------------------------------------------------------------------


class Env:
    """The testgen plug-in on PYTHONPATH, as tests/test_scripts.py installs it."""

    def __init__(self, tmp: pathlib.Path) -> None:
        self.tmp = tmp
        info = tmp / "site" / "testgen-0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: testgen\nVersion: 0\n")
        (info / "entry_points.txt").write_text("[can.interface]\ntestgen = testgen:GenBus\n")
        self.env = {k: v for k, v in os.environ.items() if k not in ("CAN_INTERFACE", "TMUX")}
        paths = [str(tmp / "site"), str(PLUGIN), *filter(None, [os.environ.get("PYTHONPATH")])]
        self.env["PYTHONPATH"] = os.pathsep.join(paths)
        self.env["TESTGEN_REPORT"] = str(tmp / "report.json")

    def command(self) -> list[str]:
        exe = pathlib.Path(sys.executable).parent / "can-viewer"
        return [str(exe)] if exe.exists() else [sys.executable, "-m", "can.viewer"]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command(), *args],
            env=self.env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=False,
        )


class Term:
    """can-viewer in a tmux pane of its own (a tmux server on a socket of this test's)."""

    def __init__(self, env: Env, *args: str, width: int = 120, height: int = 40) -> None:
        assert TMUX, "tmux is needed for the viewer's terminal tests (.ci/run installs it)"
        self.env = env
        self.socket = str(env.tmp / "tmux.sock")
        self.rc = env.tmp / "rc"
        self.stderr = env.tmp / "stderr"
        script = env.tmp / "run.sh"
        exports = "".join(
            f"export {k}={shlex.quote(v)}\n"
            for k, v in env.env.items()
            if k in ("PYTHONPATH", "TESTGEN_REPORT", "PATH", "HOME", "LANG", "LC_ALL")
        )
        script.write_text(
            f"{exports}unset CAN_INTERFACE\ncd {shlex.quote(str(env.tmp))}\n"
            f"{shlex.join([*env.command(), *args])} 2>{shlex.quote(str(self.stderr))}\n"
            f"echo $? >{shlex.quote(str(self.rc))}.tmp && mv {shlex.quote(str(self.rc))}.tmp "
            f"{shlex.quote(str(self.rc))}\n"
        )
        self.tmux(
            "new-session",
            "-d",
            "-x",
            str(width),
            "-y",
            str(height),
            f"bash {shlex.quote(str(script))}",
        )

    def tmux(self, *args: str) -> str:
        proc = subprocess.run(
            [TMUX or "tmux", "-S", self.socket, "-f", os.devnull, *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env={k: v for k, v in self.env.env.items() if k != "TMUX"},
        )
        if proc.returncode:
            raise AssertionError(f"tmux {args}: {proc.stderr.strip()}; viewer: {self.errors()}")
        return proc.stdout

    def errors(self) -> str:
        return self.stderr.read_text() if self.stderr.exists() else ""

    def screen(self, escapes: bool = False) -> list[str]:
        return self.tmux("capture-pane", "-p", *(["-e"] if escapes else [])).splitlines()

    def wait(self, what: Callable[[list[str]], Any], timeout: float = 20) -> list[str]:
        """Polls the screen until ``what`` holds for it (the viewer repaints every 50 ms)."""
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while time.monotonic() < deadline:
            if self.rc.exists():
                raise AssertionError(f"the viewer exited ({self.rc.read_text()}): {self.errors()}")
            lines = self.screen()
            try:
                matched = bool(lines) and bool(what(lines))
            except (ValueError, IndexError, KeyError):
                matched = False  # caught between two paints, or the row is not there yet
            if matched:
                return lines
            time.sleep(0.05)
        screen = "\n".join(lines)
        raise AssertionError(f"the screen never matched; it was:\n{screen}\n{self.errors()}")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def exit_status(self, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.rc.exists():
                return int(self.rc.read_text())
            time.sleep(0.05)
        raise AssertionError(f"the viewer did not exit; screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(
            [TMUX or "tmux", "-S", self.socket, "kill-server"], capture_output=True, check=False
        )


@pytest.fixture
def env(tmp_path: pathlib.Path) -> Env:
    return Env(tmp_path)


@pytest.fixture
def term(env: Env) -> Any:
    started: list[Term] = []

    def start(*args: str, **size: int) -> Term:
        started.append(Term(env, *args, **size))
        return started[-1]

    yield start
    for t in started:
        t.close()


def rows_of(lines: list[str]) -> list[dict[str, str]]:
    return [columns(lines[0], line) for line in lines[1:-1] if line.strip()]


def row(lines: list[str], ident: str) -> dict[str, str]:
    found = [r for r in rows_of(lines) if r["ID"] == ident]
    if len(found) != 1:
        raise KeyError(f"{len(found)} rows of {ident} on the screen")
    return found[0]


def status(lines: list[str]) -> str:
    return lines[-1]


def test_viewer_screen_in_a_terminal(env: Env, term: Any) -> None:
    t = term("-i", "testgen", "-c", "60", width=130, height=66)
    lines = t.wait(lambda s: status(s).startswith("60 ids, rows 1-60"))
    assert lines[0].split() == ["Count", "Time", "dt", "ID", "DLC", "Data", "Parsed", "values"]
    rows = rows_of(lines)
    assert [r["ID"] for r in rows] == [shown_id(i) for i in range(60)]
    for i, r in enumerate(rows):
        data = bytes(8) if i == 49 else bytes([i]) * (i % 9)
        assert (r["Count"], r["Time"], r["dt"], r["DLC"], r["Data"]) == (
            "1",
            f"{i / 1000:.6f}",
            "0.000000",
            str(len(data)),
            " ".join(f"{b:02X}" for b in data),
        )
    assert rows[49]["Parsed values"] == "controller problem"
    # the error frame's row is red (SGR 31), the others are not
    colored = t.screen(escapes=True)
    assert "\x1b[31m" in colored[50]
    assert not any("\x1b[31m" in line for line in colored[1:50] + colored[51:61])
    t.keys("s")
    lines = t.wait(lambda s: rows_of(s)[0]["ID"] == "0x004")
    ids = [r["ID"] for r in rows_of(lines)]
    assert ids[1:4] == ["0x001", "0x002", "0x003"] and ids[-1] == "0x18DA0032"
    t.keys("q")
    assert t.exit_status() == 0


def test_viewer_decodes_and_filters(env: Env, term: Any) -> None:
    (env.tmp / "decode.txt").write_text("# from a file\n8:>Q\n7:<bhL\n")
    t = term(
        "-i", "testgen", "-c", "60",
        "-d", "5:<BHH:1:10.0:100", "18DA000A:<B:2", "decode.txt",
        "-f", "000:7F0", "--filter", "18DA0000:1FFFFFF0",
    )  # fmt: skip
    lines = t.wait(lambda s: status(s).startswith("16 ids"))
    # 000:7F0 passes the standard ids 0x001-0x00F (not 0x004's error frame: it is no data
    # frame of id 4), 18DA0000:1FFFFFF0 the extended ones 0x18DA0000 and 0x18DA000A
    assert sorted(r["ID"] for r in rows_of(lines)) == sorted(
        [f"0x{i:03X}" for i in range(1, 16) if i != 10] + ["0x18DA0000", "0x18DA000A"]
    )
    assert row(lines, "0x005")["Parsed values"] == "5 128.500000 12"  # 0x0505 = 1285
    assert row(lines, "0x18DA000A")["Parsed values"] == "5"  # 10 // 2
    assert row(lines, "0x007")["Parsed values"] == "7 1799 117901063"  # 0x0707, 0x07070707
    assert row(lines, "0x008")["Parsed values"] == str(0x0808080808080808)
    t.keys("Escape")
    assert t.exit_status() == 0


def test_viewer_pause_and_clear(env: Env, term: Any) -> None:
    # 20 ids, each once every 40 ms
    t = term("-i", "testgen", "-c", "20/0.002", width=110, height=30)

    def count(lines: list[str], ident: str = "0x005") -> int:
        return int(row(lines, ident)["Count"])

    t.wait(lambda s: status(s).startswith("20 ids") and count(s) >= 5)
    t.keys("Space")
    paused = t.wait(lambda s: "PAUSED" in status(s))
    held = count(paused)
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:  # nothing moves while paused
        assert t.screen()[:-1] == paused[:-1]
        time.sleep(0.05)
    t.keys("Space")
    # frames went on being counted while paused: 0.5 s is 12 more of 0x005
    lines = t.wait(lambda s: "PAUSED" not in status(s) and count(s) >= held + 12)
    assert float(row(lines, "0x005")["dt"]) == pytest.approx(0.04, abs=1e-6)
    before = count(lines)
    t.keys("c")
    # cleared: counting and the time column start again
    lines = t.wait(
        lambda s: all(r["ID"] != "0x005" or int(r["Count"]) < before for r in rows_of(s))
    )
    t.wait(lambda s: rows_of(s) and min(float(r["Time"]) for r in rows_of(s)) < 0.5)
    t.keys("q")
    assert t.exit_status() == 0


def test_viewer_scrolls_and_copes_with_resizing(env: Env, term: Any) -> None:
    t = term("-i", "testgen", "-c", "60", width=100, height=20)  # 18 rows fit
    t.wait(lambda s: status(s).startswith("60 ids, rows 1-18"))

    def first_id(lines: list[str]) -> str:
        return rows_of(lines)[0]["ID"]

    for keys, first in [
        (["Down", "Down", "Down"], 4),
        (["NPage"], 22),
        (["End"], 43),
        (["Up"], 42),
        (["PPage"], 24),
        (["Home"], 1),
    ]:
        t.keys(*keys)
        lines = t.wait(lambda s, f=first: status(s).startswith(f"60 ids, rows {f}-{f + 17}"))
        assert first_id(lines) == shown_id(first - 1)
    t.tmux("resize-window", "-x", "70", "-y", "10")
    lines = t.wait(lambda s: len(s) <= 10 and status(s).startswith("60 ids, rows 1-8"))
    assert all(len(line) <= 70 for line in lines)
    # too small for anything but a part of the header and the status: drawn, never a crash (a
    # screen merely cropped by tmux would show a row where the status is now)
    for width, height, looks in [
        (12, 3, lambda s: s[0] == "Count  Time" and s[-1] == "60 ids, row"),
        (3, 2, lambda s: s == ["Cou", "60"]),
        (1, 1, None),
        (40, 1, lambda s: s[0].startswith("Count  Time") and len(s[0]) < 40),
    ]:
        t.tmux("resize-window", "-x", str(width), "-y", str(height))
        if looks is not None:
            t.wait(looks)
    t.tmux("resize-window", "-x", "100", "-y", "30")
    lines = t.wait(lambda s: status(s).startswith("60 ids, rows 1-28"))
    assert first_id(lines) == shown_id(0)
    t.keys("q")
    assert t.exit_status() == 0
    assert "Traceback" not in t.errors()


DBC = """VERSION ""

NS_ :

BS_:

BU_: ECU

BO_ 5 Engine: 5 ECU
 SG_ Gear : 0|8@1+ (1,0) [0|255] "" ECU
 SG_ Speed : 8|16@1+ (0.1,0) [0|6553.5] "km/h" ECU
 SG_ Temp : 24|16@1- (1,-40) [-40|1000] "degC" ECU

BO_ {ext} Body: 1 ECU
 SG_ Mode : 0|8@1+ (1,0) [0|255] "" ECU

VAL_ {ext} Mode 10 "Ten" 0 "Off" ;
"""


def test_viewer_decodes_signals_with_a_dbc(env: Env, term: Any) -> None:
    # in a DBC an extended id carries bit 31
    (env.tmp / "car.dbc").write_text(DBC.format(ext=0x18DA000A | 0x80000000))
    t = term("-i", "testgen", "-c", "20", "--dbc", "car.dbc")
    lines = t.wait(lambda s: status(s).startswith("20 ids"))
    # data 05 05 05 05 05: Gear 5, Speed 0x0505 * 0.1, Temp 0x0505 - 40
    assert row(lines, "0x005")["Parsed values"] == "Engine Gear=5 Speed=128.5 Temp=1245"
    assert row(lines, "0x18DA000A")["Parsed values"] == "Body Mode=Ten"
    assert row(lines, "0x006")["Parsed values"] == ""
    t.keys("q")
    assert t.exit_status() == 0


@pytest.mark.parametrize(
    ("args", "status", "text"),
    [
        (["-d", "100:"], 2, "argument -d/--decode: '100:' is not a decode string"),
        (["-d", "100"], 1, "cannot read decode file '100': No such file or directory (a decode"),
        (["-d", "100:<Z"], 2, "'<Z' is not a struct format"),
        (["-d", "100:<B", "101:<B:0"], 2, "scaling '0' cannot divide"),
        (["-d", "missing.txt"], 1, "cannot read decode file 'missing.txt': No such file"),
        (["-d", "bad.txt"], 1, "bad.txt, line 2: '8:<Q:1:2': 2 scalings for the 1 values"),
        (["-f", "12:zz"], 2, "'12:zz' is not a filter"),
        (["--filter", "1~"], 2, "'1~' is not a filter"),
        (["--dbc", "missing.dbc"], 1, "cannot read DBC file 'missing.dbc': No such file"),
        (["--dbc", "bad.txt"], 1, "bad.txt: not a database cantools can load"),
        (["-i", "nosuch"], 2, "invalid choice: 'nosuch'"),
        ([], 1, "the viewer draws on a terminal"),
    ],
)
def test_viewer_errors_are_one_line(env: Env, args: list[str], status: int, text: str) -> None:
    (env.tmp / "bad.txt").write_text("5:<B\n8:<Q:1:2\n")
    proc = env.run("-i", "testgen", "-c", "5", *args)
    assert proc.returncode == status, proc.stderr
    assert text in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("can-viewer: error:")


def test_viewer_without_cantools(env: Env) -> None:
    (env.tmp / "car.dbc").write_text(DBC.format(ext=0x8000000A))
    program = "import sys; sys.modules['cantools'] = None; import can.viewer; can.viewer.main()"
    proc = subprocess.run(
        [sys.executable, "-c", program, "-i", "testgen", "--dbc", "car.dbc"],
        env=env.env,
        cwd=env.tmp,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "can-viewer: error: --dbc needs cantools, which is not installed: pip install "
        "'can[viewer]' and then pip install --no-deps cantools"
    )


def test_viewer_version_and_help(env: Env) -> None:
    proc = env.run("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"can-viewer {can.__version__}"
    bin_dir = pathlib.Path(sys.executable).parent
    for command in (
        [sys.executable, "-m", "can.viewer"],
        *(
            [
                [str(bin_dir / name)]
                for name in ("can-viewer", "can_viewer")
                if (bin_dir / name).exists()
            ]
        ),
    ):
        out = subprocess.run([*command, "--version"], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == f"can-viewer {can.__version__}", command
    out = env.run("--help").stdout
    for option in (
        "--version", "--bitrate", "--channel", "--decode", "--filter", "-f", "--interface",
        "--dbc", "--fd", "--data-bitrate", "--bus-kwargs", "-v",
    ):  # fmt: skip
        assert option in out, option
    for key in ("q or ESC quit", "c clear", "s sort", "SPACE pause", "UP/DOWN"):
        assert key in out, key
