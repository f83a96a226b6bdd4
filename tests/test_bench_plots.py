"""The benchmark figures of docs/benchmarks.rst are drawn from the benchmark output by
docs/bench_plots.py: its parser reads every row of every docs/bench_*.txt, the rates it reads
agree with the ratio the benchmark itself printed, and the committed SVGs are what the script
draws from the committed output (when matplotlib is installed to draw them)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_plots", DOCS / "bench_plots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_plots"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench_plots = _load_script()


def _first_table_ratio_lines(text: str, first_only: bool) -> int:
    """Independently of the parser: the lines that carry a printed ratio such as ``16.4x``."""
    count = 0
    tables = 0
    in_table = False
    for line in text.splitlines():
        has_ratio = not line.startswith(("#", "$")) and re.search(r"\s\d+(\.\d+)?x(\s|$)", line)
        if has_ratio:
            if not in_table:
                tables += 1
                in_table = True
            if not (first_only and tables > 1):
                count += 1
        else:
            in_table = False
    return count


@pytest.mark.parametrize("stem", bench_plots.DATASETS)
def test_every_row_is_read_and_agrees_with_the_printed_ratio(stem: str) -> None:
    path = DOCS / f"{stem}.txt"
    data = bench_plots.load(path)
    expected_rows = _first_table_ratio_lines(path.read_text("utf-8"), stem == "bench_serial")
    assert len(data.rows) == expected_rows >= 2
    for row in data.rows:
        # The benchmark printed its ratio from unrounded rates; the rates in the file are
        # rounded to 3-4 digits, so the two agree to within 1.5 %.
        assert row.ours / row.upstream == pytest.approx(row.stated_ratio, rel=0.015), row
    # The caption under the figure names the machine (its CPU count).
    assert any(re.search(r"2 (CPUs|cores)", line) for line in data.header), data.header


def test_a_misread_column_is_caught() -> None:
    # The ratio cross-check above is what catches a parser reading the wrong column: swap two
    # columns of a real row and the rates no longer give the printed ratio.
    text = "# 2 CPUs\n  read classic        577,848    9,452,032   16.4x   yes\n"
    (row,) = bench_plots._plain_table(text, "bench_blf", "t").rows
    assert row.ours / row.upstream != pytest.approx(row.stated_ratio, rel=0.015)


def test_committed_figures_are_up_to_date() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    if matplotlib.__version__ != bench_plots.MATPLOTLIB:
        pytest.skip(f"figures are drawn with matplotlib {bench_plots.MATPLOTLIB}")
    for stem in bench_plots.DATASETS:
        assert (DOCS / "_static" / "bench" / f"{stem}.svg").is_file()
    assert bench_plots.main(["--check"]) == 0


def _load_viewer_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "viewer_screenshot", DOCS / "viewer_screenshot.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_viewer_screen_to_svg_keeps_text_and_colours() -> None:
    # What tmux capture-pane -e prints for a reverse-video header, a plain line and a red one.
    screen = (
        "\x1b[7mCount  ID\x1b[27m\n"
        "1      0x100  a<b\n"
        "\x1b[31m1      0x004  controller problem\x1b[39m\n"
    )
    svg = _load_viewer_script().to_svg(screen)
    texts = re.findall(r"<text [^>]*fill=\"([^\"]+)\"[^>]*>([^<]*)</text>", svg)
    assert texts == [
        ("#fafafa", "Count  ID"),  # reverse video: background colour on a dark box
        ("#1e1e1e", "1      0x100  a&lt;b"),
        ("#cd3131", "1      0x004  controller problem"),
    ]
    assert svg.count("<rect ") == 2  # the page and the header's box


def test_committed_viewer_screenshot_is_a_viewer_screen() -> None:
    svg = (DOCS / "_static" / "viewer.svg").read_text("utf-8")
    assert "Count  Time" in svg and "Parsed values" in svg
    assert "controller problem" in svg and "q quit" in svg
