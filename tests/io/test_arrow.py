"""can.io.read_table / read_batches: log files as Arrow columns.

The reference is the Message path: every column must hold, row for row, the value of the
matching attribute of the messages ``can.LogReader`` yields for the same file (itself checked
against the files' text and upstream python-can in the format's own tests). Filters, channels
and time windows are checked against the same messages selected in Python by the rules the
manual gives for ``set_filters``.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import pathlib
import random
import sys
from typing import Any

import pytest

import can
from can.io.arrow import COLUMNS, read_batches, read_table
from can.io.formats import FORMATS

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = pathlib.Path(os.environ.get("CAN_SHARED_DATA", ROOT.parent / "shared" / "data"))
# The native formats read_table reads: all but CSV, whose messages have no channel (see
# test_csv_is_read_with_logreader_for_now).
NATIVE = sorted(s for s, f in FORMATS.items() if f.native and s != ".csv")
HAVE_PYARROW = importlib.util.find_spec("pyarrow") is not None

pytestmark = pytest.mark.skipif(
    not HAVE_PYARROW, reason="pyarrow (can[arrow]) not installed in the test venv"
)

SHARED = sorted(p.name for p in DATA.glob("*") if p.suffix in NATIVE and p.is_file()) or ["(none)"]


def message_value(msg: can.Message, column: str) -> Any:
    if column == "timestamp_ns":
        return round(msg.timestamp * 1e9)
    if column == "data":
        return bytes(msg.data)
    return getattr(msg, column)


def message_rows(path: pathlib.Path, columns: tuple[str, ...] = COLUMNS) -> list[tuple[Any, ...]]:
    with can.LogReader(path) as reader:
        return [tuple(message_value(m, c) for c in columns) for m in reader]


def table_rows(table: Any) -> list[tuple[Any, ...]]:
    cols = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return list(zip(*cols))


def test_the_native_formats() -> None:
    assert NATIVE == [".asc", ".blf", ".log", ".trc"]


@pytest.mark.parametrize("name", SHARED)
def test_shared_data_matches_the_message_path(name: str) -> None:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"shared test data not found in {DATA}")
    table = read_table(path)
    assert table.column_names == list(COLUMNS)
    expected = message_rows(path)
    assert len(expected) > 0
    assert table_rows(table) == expected


def test_column_types(tmp_path: pathlib.Path) -> None:
    import pyarrow as pa

    path = tmp_path / "types.log"
    path.write_text("(1.5) vcan0 123#01\n")
    schema = read_table(path).schema
    assert [str(t) for t in schema.types] == [
        "double",
        "int64",
        "string",  # a candump log names interfaces; the others number channels (int64)
        "uint32",
        "bool",
        "bool",
        "bool",
        "bool",
        "bool",
        "bool",
        "bool",
        "uint8",
        "binary",
    ]
    blf = write_mixed(path.with_suffix(".blf"), 3)[0]
    assert read_table(blf).schema.field("channel").type == pa.int64()


def mixed(rng: random.Random, n: int, suffix: str) -> list[can.Message]:
    """Mixed traffic: 11/29-bit ids, remote, error and CAN FD frames on two channels."""
    chans: list[Any] = ["vcan0", "vcan1"] if suffix == ".log" else [0, 1]
    t = 1_700_000_000.0
    out = []
    for _ in range(n):
        t += rng.randrange(1, 5000) / 1e6
        ext = rng.random() < 0.5
        kw: dict[str, Any] = {
            "timestamp": round(t, 6),
            "arbitration_id": rng.randrange(1 << 29) if ext else rng.randrange(1 << 11),
            "is_extended_id": ext,
            "channel": rng.choice(chans),
            "is_rx": rng.random() < 0.8,
        }
        kind = rng.random()
        if kind < 0.1:
            kw.update(is_remote_frame=True, dlc=rng.randrange(9))
        elif kind < 0.15:
            kw.update(
                is_error_frame=True,
                arbitration_id=0x4,
                is_extended_id=True,
                data=bytes(rng.randrange(256) for _ in range(8)),
            )
        elif kind < 0.45:
            length = rng.choice([0, 1, 8, 12, 20, 32, 48, 64])
            kw.update(
                is_fd=True,
                bitrate_switch=rng.random() < 0.5,
                error_state_indicator=rng.random() < 0.3,
                data=bytes(rng.randrange(256) for _ in range(length)),
            )
        else:
            kw["data"] = bytes(rng.randrange(256) for _ in range(rng.randrange(9)))
        out.append(can.Message(**kw))
    return out


def write_mixed(
    path: pathlib.Path, n: int, seed: int = 7
) -> tuple[pathlib.Path, list[can.Message]]:
    msgs = mixed(random.Random(seed), n, path.suffix)
    with can.Logger(path) as writer:
        for m in msgs:
            writer.on_message_received(m)
    return path, msgs


@pytest.mark.parametrize("suffix", NATIVE)
@pytest.mark.parametrize("seed", [1, 2])
def test_generated_files_match_the_message_path(
    tmp_path: pathlib.Path, suffix: str, seed: int
) -> None:
    path, written = write_mixed(tmp_path / f"mixed{suffix}", 400, seed)
    table = read_table(path)
    assert table.num_rows == len(written)
    assert table_rows(table) == message_rows(path)
    # and what was written: ids, flags and payloads survive every format (error frames keep
    # their id and data only where the format holds "error_data")
    got = table.select(["arbitration_id", "is_extended_id", "is_fd", "data"]).to_pylist()
    pairs = [(w, r) for w, r in zip(written, got) if not w.is_error_frame]
    assert [(r["arbitration_id"], r["is_extended_id"], r["is_fd"]) for _, r in pairs] == [
        (w.arbitration_id, w.is_extended_id, w.is_fd) for w, _ in pairs
    ]
    kept = [(w, r) for w, r in pairs if not w.is_remote_frame]
    assert [r["data"] for _, r in kept] == [bytes(w.data) for w, _ in kept]


def passes(msg: can.Message, filters: list[dict[str, Any]]) -> bool:
    # the manual's rule: can_id & can_mask == filter can_id & can_mask, and the id type
    for f in filters:
        if "extended" in f and f["extended"] != msg.is_extended_id:
            continue
        if msg.arbitration_id & f["can_mask"] == f["can_id"] & f["can_mask"]:
            return True
    return False


@pytest.mark.parametrize("suffix", NATIVE)
def test_filters_channels_and_time_window(tmp_path: pathlib.Path, suffix: str) -> None:
    path, _ = write_mixed(tmp_path / f"sel{suffix}", 300)
    with can.LogReader(path) as reader:
        msgs = list(reader)
    filters = [
        {"can_id": 0x100, "can_mask": 0x100, "extended": False},
        {"can_id": 0x1000_0000, "can_mask": 0x1000_0000, "extended": True},
    ]
    table = read_table(path, can_filters=filters, columns=["arbitration_id", "is_extended_id"])
    expected = [(m.arbitration_id, m.is_extended_id) for m in msgs if passes(m, filters)]
    assert 0 < len(expected) < len(msgs)
    assert table_rows(table) == expected

    chan = msgs[0].channel
    table = read_table(path, channels=[chan], columns=["channel", "timestamp"])
    assert table_rows(table) == [(m.channel, m.timestamp) for m in msgs if m.channel == chan]
    assert 0 < table.num_rows < len(msgs)

    start, stop = msgs[50].timestamp, msgs[200].timestamp
    table = read_table(path, start=start, stop=stop, columns=["timestamp"])
    assert table.column(0).to_pylist() == [m.timestamp for m in msgs if start <= m.timestamp < stop]
    assert table.num_rows == 150


def test_columns_are_chosen_and_ordered(tmp_path: pathlib.Path) -> None:
    path, msgs = write_mixed(tmp_path / "c.blf", 20)
    table = read_table(path, columns=["data", "arbitration_id"])
    assert table.column_names == ["data", "arbitration_id"]
    assert table.column("arbitration_id").to_pylist() == [m.arbitration_id for m in msgs]
    with pytest.raises(ValueError, match='unknown column "nope"'):
        read_table(path, columns=["nope"])
    with pytest.raises(ValueError, match="named twice"):
        read_table(path, columns=["dlc", "dlc"])


def test_read_batches_holds_one_batch_at_a_time(tmp_path: pathlib.Path) -> None:
    path, msgs = write_mixed(tmp_path / "b.blf", 1000)
    reader = read_batches(path, batch_size=64, columns=["arbitration_id"])
    sizes = []
    ids: list[int] = []
    for batch in reader:
        sizes.append(batch.num_rows)
        ids += batch.column(0).to_pylist()
    assert max(sizes) == 64 and sum(sizes) == 1000 and len(sizes) == 16
    assert ids == [m.arbitration_id for m in msgs]


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_read_batches_memory_is_bounded(tmp_path: pathlib.Path) -> None:
    # 200k CAN FD frames of 64 bytes: about 20 MB as a table, 100 kB per batch of 1000
    path = tmp_path / "big.log"
    line = "(1700000000.000000) can0 123##1" + "ab" * 64 + "\n"
    path.write_text(line * 200_000)
    gc.collect()
    before = rss()
    grown = 0
    rows = 0
    for batch in read_batches(path, batch_size=1000):
        assert batch.num_rows <= 1000
        assert batch.nbytes < 200_000
        rows += batch.num_rows
        grown = max(grown, rss() - before)
        del batch
    assert rows == 200_000
    assert grown < 8_000_000, f"RSS grew by {grown} bytes while reading batch by batch"
    table = read_table(path)
    assert table.nbytes > 15_000_000  # what holding it all takes


def test_bad_input_raises_the_readers_errors(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.log"
    bad.write_text("(1.0) vcan0 123#00\n(2.0) vcan0 nonsense\n")
    with (
        pytest.raises(can.io.CanutilsLogParseError, match=r"bad\.log.*line 2") as exc,
        can.LogReader(bad) as r,
    ):
        list(r)
    with pytest.raises(can.io.CanutilsLogParseError) as arrow_exc:
        read_table(bad)
    assert str(arrow_exc.value) == str(exc.value)
    # a file that is no BLF: the error when it is opened
    nonblf = tmp_path / "x.blf"
    nonblf.write_bytes(b"not a blf file at all" * 10)
    with pytest.raises(can.io.BLFParseError, match=r"x\.blf"):
        read_table(nonblf)
    with pytest.raises(FileNotFoundError, match=r"missing\.asc"):
        read_table(tmp_path / "missing.asc")
    with pytest.raises(ValueError, match=r"can\.LogReader"):
        read_table(tmp_path / "a.csv")
    with pytest.raises(ValueError, match=r"can\.LogReader"):
        read_table(tmp_path / "a.asc.gz")
    with pytest.raises(TypeError):
        read_table(bad, can_filters={"can_id": 1, "can_mask": 1})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size"):
        read_batches(bad, batch_size=0)


def test_truncated_blf_warns_as_the_reader_does(tmp_path: pathlib.Path) -> None:
    path, _ = write_mixed(tmp_path / "t.blf", 3000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])
    with pytest.warns(can.io.BLFTruncatedWarning) as rec, can.LogReader(path) as r:
        expected = [m.arbitration_id for m in r]
    table = None
    with pytest.warns(can.io.BLFTruncatedWarning) as arrow_rec:
        table = read_table(path, columns=["arbitration_id"])
    assert table.column(0).to_pylist() == expected
    assert str(arrow_rec[0].message) == str(rec[0].message)


def test_pandas_through_the_capsule(tmp_path: pathlib.Path) -> None:
    import pyarrow as pa

    path, _ = write_mixed(tmp_path / "p.trc", 50)
    stream = can._core.ArrowLogStream(str(path), ["arbitration_id", "dlc"])
    table = pa.table(stream)  # the PyCapsule protocol, as polars and pandas consumers use it
    assert table_rows(table) == message_rows(path, ("arbitration_id", "dlc"))
    with pytest.raises(ValueError, match="already read"):
        stream.__arrow_c_stream__()
    if importlib.util.find_spec("pandas") is not None:
        frame = read_table(path).to_pandas()
        assert [(i,) for i in frame["arbitration_id"]] == message_rows(path, ("arbitration_id",))


def test_without_pyarrow_the_error_names_the_extra(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"pip install can\[arrow\]"):
        read_table(tmp_path / "x.blf")


def test_csv_is_read_with_logreader_for_now(tmp_path: pathlib.Path) -> None:
    # CSV became a native format, but its messages have no channel, which the int64 channel
    # column cannot hold yet: read_table says so instead of inventing channel 0.
    path = tmp_path / "a.csv"
    with can.CSVWriter(path) as w:
        w.on_message_received(can.Message(arbitration_id=1, data=b"\x01"))
    with pytest.raises(ValueError, match=r"read other formats with can\.LogReader"):
        read_table(path)
