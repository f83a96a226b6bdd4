"""`python -m can.demo`, the README's first command (after `make demo` has built the package)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from can import demo


def test_demo_runs_and_prints_what_the_filter_passes(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "can.demo", "--channel", "readme"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    sent = [line for line in lines if line.startswith("  sent ")]
    received = [line for line in lines if line.startswith("  received ")]
    assert len(sent) == 6
    # The filter can_id=0x100/can_mask=0x700 (standard ids only) passes 0x100, 0x123, 0x1ff and
    # 0x180 and drops 0x200 and the extended 0x100.
    ids = [re.search(r"ID: (\w+)", line).group(1) for line in received]  # type: ignore[union-attr]
    assert ids == ["0100", "0123", "01ff", "0180"]
    assert all(line.endswith("Channel: readme") for line in received)
    assert lines[-1] == "4 frames received, 2 filtered out."


def test_demo_detects_a_wrong_result(monkeypatch: pytest.MonkeyPatch) -> None:
    # If the bus let the wrong frames through, the demo must say so and fail: give the receiver
    # a filter that passes everything, while the demo still expects the filtered set.
    monkeypatch.setattr(demo, "FILTERS", None)
    out: list[str] = []
    assert demo.run("demo-wrong", out=out) is False
    assert any(line.startswith("UNEXPECTED") for line in out)
    assert demo.main(["--channel", "demo-wrong-2"]) == 1
