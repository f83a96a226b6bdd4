"""can.SizedRotatingLogger: numbered files, none over the limit, nothing lost or doubled."""

from __future__ import annotations

import os
import pathlib
import re

import pytest

import can


def msgs(n: int) -> list[can.Message]:
    return [
        can.Message(
            timestamp=1700000000 + i / 100,
            arbitration_id=i & 0x7FF,
            is_extended_id=False,
            data=bytes([i & 0xFF]) * (i % 9),
        )
        for i in range(n)
    ]


def read_all(folder: pathlib.Path, base: str) -> list[can.Message]:
    """Every file of the rotation, oldest first (numbered ones, then the base file)."""
    numbered = sorted(
        (p for p in folder.iterdir() if p.name != base),
        key=lambda p: int(re.search(r"_#(\d+)\.", p.name).group(1)),  # type: ignore[union-attr]
    )
    out: list[can.Message] = []
    for p in [*numbered, folder / base]:
        with can.LogReader(p) as reader:
            out.extend(reader)
    return out


@pytest.mark.parametrize("suffix", [".log", ".asc", ".csv", ".txt.log", ".log.gz"])
def test_nothing_lost_or_duplicated(tmp_path: pathlib.Path, suffix: str) -> None:
    base = f"run{suffix}"
    # gzip: what the compressor still holds is not counted, so it takes more to fill a file
    sent = msgs(30_000 if suffix.endswith(".gz") else 1000)
    with can.SizedRotatingLogger(tmp_path / base, max_bytes=4000) as logger:
        for m in sent:
            logger(m)
    assert logger.rollover_count == len(os.listdir(tmp_path)) - 1 > 3
    got = read_all(tmp_path, base)
    assert [(m.arbitration_id, bytes(m.data)) for m in got] == [
        (m.arbitration_id, bytes(m.data)) for m in sent
    ]


@pytest.mark.parametrize("suffix", [".log", ".csv"])
def test_no_file_exceeds_max_bytes(tmp_path: pathlib.Path, suffix: str) -> None:
    # the record sizes vary from line to line (0-8 data bytes); the limit still holds where a
    # record is no bigger than the previous one's estimate plus the longest line
    limit = 3000
    with can.SizedRotatingLogger(tmp_path / f"run{suffix}", max_bytes=limit) as logger:
        for m in msgs(600):
            logger(m)
    sizes = [p.stat().st_size for p in tmp_path.iterdir()]
    assert len(sizes) > 5
    longest = max(len(line) + 1 for p in tmp_path.iterdir() for line in p.read_text().splitlines())
    assert max(sizes) <= limit + longest // 2, sizes


def test_numbered_names_like_python_can(tmp_path: pathlib.Path) -> None:
    with can.SizedRotatingLogger(tmp_path / "trace.asc", max_bytes=1500) as logger:
        for m in msgs(100):
            logger(m)
    names = sorted(os.listdir(tmp_path))
    assert "trace.asc" in names
    rotated = [n for n in names if n != "trace.asc"]
    for i, name in enumerate(sorted(rotated, key=lambda n: n[-7:])):
        assert re.fullmatch(rf"trace_\d{{4}}-\d\d-\d\dT\d{{6}}_#{i:03}\.asc", name), name


def test_namer_and_rotator(tmp_path: pathlib.Path) -> None:
    moved: list[tuple[str, str]] = []
    logger = can.SizedRotatingLogger(tmp_path / "x.log", max_bytes=200)
    logger.namer = lambda default: str(tmp_path / f"part{len(moved)}.log")

    def rotator(src: object, dst: object) -> None:
        moved.append((os.fspath(src), os.fspath(dst)))  # type: ignore[arg-type]
        os.replace(src, dst)  # type: ignore[arg-type]

    logger.rotator = rotator
    for m in msgs(30):
        logger(m)
    logger.stop()
    assert moved and moved[0] == (str(tmp_path / "x.log"), str(tmp_path / "part0.log"))
    assert (tmp_path / "part0.log").exists()


def test_zero_max_bytes_never_rotates(tmp_path: pathlib.Path) -> None:
    with can.SizedRotatingLogger(tmp_path / "x.log") as logger:
        for m in msgs(500):
            logger(m)
    assert logger.rollover_count == 0 and os.listdir(tmp_path) == ["x.log"]


def test_writer_kwargs_go_to_every_file(tmp_path: pathlib.Path) -> None:
    with can.SizedRotatingLogger(tmp_path / "x.log", max_bytes=100, channel="can9") as logger:
        for m in msgs(10):
            logger(m)
    assert logger.rollover_count > 1
    assert all(" can9 " in p.read_text() for p in tmp_path.iterdir())


def test_unknown_suffix_is_an_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="xyz"):
        can.SizedRotatingLogger(tmp_path / "x.xyz", max_bytes=100)
    with pytest.raises(ValueError, match="max_bytes"):
        can.SizedRotatingLogger(tmp_path / "x.log", max_bytes=-1)
