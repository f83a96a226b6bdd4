"""Draw the benchmark figures of docs/benchmarks.rst from the benchmark output in docs/bench_*.txt.

Each ``bench_*.txt`` is what a script in ``benches/`` printed (with the command and the machine in
its header lines). This script reads the rates of ours and of python-can 4.x per workload and
writes one SVG bar chart per file into docs/_static/bench/, with the machine, the command and the
date the output was committed (``git log``) under the chart. Nothing in a figure is typed by
hand: re-run the benchmark, paste its output into the .txt file, then run

    python docs/bench_plots.py            # needs matplotlib (pip install matplotlib==3.11.2)
    python docs/bench_plots.py --check    # exit 1 when a committed figure is out of date

The parsing needs only the standard library (the tests import it to check that each file's rows
are read, and that the ratio printed by the benchmark matches the rates read).
"""

from __future__ import annotations

import argparse
import io
import math
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parent
OUT = DOCS / "_static" / "bench"

# The figures in the repository were drawn with this matplotlib; another version may write
# different (equally valid) SVG bytes, so --check is only meaningful with this one.
MATPLOTLIB = "3.11.2"

_PREFIX = {"": 1.0, "k": 1e3, "M": 1e6, "G": 1e9}


@dataclass(frozen=True)
class Row:
    workload: str
    ours: float  # operations per second
    upstream: float
    stated_ratio: float  # the ours/upstream ratio the benchmark printed


@dataclass(frozen=True)
class Dataset:
    name: str  # file stem, e.g. "bench_blf"
    title: str
    unit: str
    header: list[str]  # the comment and command lines of the file, as printed
    rows: list[Row]


def _rate(text: str) -> tuple[float, str]:
    """``"4.68 Mmsg/s"`` -> (4.68e6, "msg/s")."""
    match = re.fullmatch(r"([\d.]+) ([kMG]?)(\w+/s)", text.strip())
    if match is None:
        raise ValueError(f"not a rate: {text!r}")
    return float(match.group(1)) * _PREFIX[match.group(2)], match.group(3)


def _int(text: str) -> float:
    return float(text.replace(",", ""))


def _header(lines: list[str]) -> list[str]:
    """The command and comment lines above the first table, without its column headings."""
    header = []
    for line in lines:
        if not line.startswith(("#", "$")):
            if header and line.strip():
                break
            continue
        if not re.match(r"#\s*(workload|interface)\b", line):
            header.append(line.strip())
    return header


def parse_results(text: str) -> Dataset:
    """benches/run.py: ``workload N ours upstream ratio same``, rates with SI prefixes."""
    rows = []
    units = set()
    pattern = re.compile(
        r"^(?P<w>\w+)\s+\d+\s+(?P<ours>[\d.]+ [kMG]?\w+/s)\s+(?P<up>[\d.]+ [kMG]?\w+/s)"
        r"\s+(?P<ratio>[\d.]+)x"
    )
    for line in text.splitlines():
        match = pattern.match(line)
        if match:
            ours, unit = _rate(match.group("ours"))
            upstream, _ = _rate(match.group("up"))
            units.add(unit)
            rows.append(Row(match.group("w"), ours, upstream, float(match.group("ratio"))))
    unit = units.pop() if len(units) == 1 else "operations/s"
    return Dataset(
        "bench_results", "Messages and the virtual bus", unit, _header(text.splitlines()), rows
    )


def _plain_table(text: str, name: str, title: str, first_table_only: bool = False) -> Dataset:
    """A table whose rows are ``name words  ours  upstream  ratio`` (or, for bench_serial, with
    a CPU column after each rate), the rates as integers with optional thousands commas."""
    rows = []
    lines = text.splitlines()
    serial = re.compile(
        r"^(?P<w>[a-z]\w*\s+[rt]x)\s+(?P<ours>[\d,]+)\s+[\d.]+\s+(?P<up>[\d,]+)\s+[\d.]+"
        r"\s+(?P<ratio>[\d.]+)x"
    )
    plain = re.compile(
        r"^\s*(?P<w>[a-z][\w ]*?)\s+(?P<ours>[\d,]+)\s+(?P<up>[\d,]+)\s+(?P<ratio>[\d.]+)x"
    )
    tables = 0
    in_table = False
    for line in lines:
        match = serial.match(line) or plain.match(line)
        if match is None:
            if in_table:
                in_table = False
            continue
        if not in_table:
            tables += 1
            in_table = True
        if first_table_only and tables > 1:
            break
        rows.append(
            Row(
                " ".join(match.group("w").split()),
                _int(match.group("ours")),
                _int(match.group("up")),
                float(match.group("ratio")),
            )
        )
    return Dataset(name, title, "frames/s", _header(lines), rows)


def load(path: Path) -> Dataset:
    text = path.read_text(encoding="utf-8")
    stem = path.stem
    if stem == "bench_results":
        return parse_results(text)
    if stem == "bench_blf":
        return _plain_table(text, stem, "BLF read and write (zlib level 0 to 9)")
    if stem == "bench_serial":
        # Two runs are recorded; the figure shows the first (the less loaded machine).
        return _plain_table(text, stem, "serial and slcan over a pseudo-terminal", True)
    if stem == "bench_vector":
        return _plain_table(text, stem, "vector interface over the simulated XL library")
    raise ValueError(f"{path}: no parser for this benchmark output")


DATASETS = ["bench_results", "bench_blf", "bench_serial", "bench_vector"]


def committed_on(path: Path) -> str:
    """The date the file was last committed (the date of the measurement it records)."""
    proc = subprocess.run(
        ["git", "log", "-1", "--format=%cs", "--", path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or "not committed"


def draw(data: Dataset, date: str) -> str:
    """The SVG text of one figure: bars of ours and python-can 4.x per workload, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",  # text stays text: smaller, searchable
            "svg.hashsalt": "can-docs",  # stable ids, so an unchanged figure is byte-identical
            "font.size": 9,
        }
    )
    rows = data.rows
    height = 1.2 + 0.42 * len(rows) + 0.16 * len(data.header)
    fig, ax = plt.subplots(figsize=(8.0, height))
    y = list(range(len(rows)))
    bar = 0.38
    ax.barh([i - bar / 2 for i in y], [r.ours for r in rows], bar, label="can (this project)",
            color="#2a7ab0")  # fmt: skip
    ax.barh([i + bar / 2 for i in y], [r.upstream for r in rows], bar, label="python-can 4.6.1",
            color="#c8c8c8")  # fmt: skip
    for i, row in zip(y, rows):
        ax.text(row.ours * 1.08, i - bar / 2, f"{row.stated_ratio:.1f}x", va="center")
    ax.set_yticks(y, [r.workload for r in rows])
    ax.invert_yaxis()
    ax.set_xscale("log")
    # The axis starts at the power of ten below the slowest rate, so no bar starts mid-way.
    low = 10 ** math.floor(math.log10(min(r.upstream for r in rows)))
    ax.set_xlim(left=low, right=max(r.ours for r in rows) * 4)
    ax.set_xlabel(f"{data.unit} (log scale, higher is better)")
    ax.set_title(data.title, loc="left", fontweight="bold")
    ax.legend(loc="lower right", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    caption = "\n".join([*data.header, f"output committed {date}; drawn by docs/bench_plots.py"])
    fig.text(0.01, 0.005, caption, fontsize=6.5, family="monospace", va="bottom", wrap=False)
    fig.tight_layout(rect=(0, (0.25 + 0.11 * len(data.header)) / height, 1, 1))
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    plt.close(fig)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    stale = []
    OUT.mkdir(parents=True, exist_ok=True)
    for stem in DATASETS:
        source = DOCS / f"{stem}.txt"
        svg = draw(load(source), committed_on(source))
        target = OUT / f"{stem}.svg"
        if args.check:
            if not target.is_file() or target.read_text(encoding="utf-8") != svg:
                stale.append(str(target))
        else:
            target.write_text(svg, encoding="utf-8")
            print(f"wrote {target.relative_to(DOCS.parent)}")
    for name in stale:
        print(f"out of date: {name} (run python docs/bench_plots.py)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
