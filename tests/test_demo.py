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
    assert "4 frames received, 2 filtered out." in lines
    # the recording round: every step reports, and the check at the end passed
    assert any(line.startswith("  generate -> virtual bus -> Logger(demo.blf): 20000 frames")
               for line in lines)  # fmt: skip
    assert any(line.startswith("  convert demo.blf -> demo.asc: 20000 frames") for line in lines)
    assert (
        lines[-1]
        == "All 20000 frames arrived unchanged in the BLF, ASC and replayed candump files."
    )


def test_demo_detects_a_wrong_result(monkeypatch: pytest.MonkeyPatch) -> None:
    # If the bus let the wrong frames through, the demo must say so and fail: give the receiver
    # a filter that passes everything, while the demo still expects the filtered set.
    monkeypatch.setattr(demo, "FILTERS", None)
    out: list[str] = []
    assert demo.run("demo-wrong", out=out) is False
    assert any(line.startswith("UNEXPECTED") for line in out)
    assert demo.main(["--channel", "demo-wrong-2"]) == 1


def test_pipeline_files_hold_the_generated_frames(tmp_path: Path) -> None:
    # independent of the demo's own check: read the kept files back here
    import can
    from can.generate import frames

    assert demo.main(["--channel", "kept", "--frames", "500", "--keep", str(tmp_path)]) == 0
    want = [(m.arbitration_id, bytes(m.data), m.is_fd) for m in frames(500, mix=True, seed=2024)]
    for name in ("demo.blf", "demo.asc", "demo.log"):
        with can.LogReader(tmp_path / name) as reader:
            got = [(m.arbitration_id, bytes(m.data), m.is_fd) for m in reader]
        assert got == want, name


def test_pipeline_detects_a_lost_frame(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import can.logconvert

    real = can.logconvert.convert

    def lossy(src: str, dst: str, **kwargs: object) -> dict[str, object]:
        # keep every frame but the standard id 0x10 ones... simply: filter one id range out
        return real(src, dst, filters=[{"can_id": 0, "can_mask": 0x1}])

    monkeypatch.setattr(can.logconvert, "convert", lossy)
    out: list[str] = []
    assert demo.pipeline(str(tmp_path), 200, say=out.append) is False
    assert any(line.startswith("UNEXPECTED: the ASC file") for line in out)
