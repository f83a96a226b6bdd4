"""Cross-checks against upstream python-can: read a file with it, or have it write one.

The reference interpreter is the one `make ref-venv` installs into build/ref-venv (or
CAN_REF_PYTHON). It runs in a subprocess with an environment of its own, so it imports upstream
python-can, never ours. Frames cross as JSON rows of the fields in ROW_FIELDS.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
from typing import Any, Callable

import pytest

import can

ROOT = pathlib.Path(__file__).resolve().parents[2]
REF_PYTHON = pathlib.Path(
    os.environ.get("CAN_REF_PYTHON", ROOT / "build" / "ref-venv" / "bin" / "python")
)
ROW_FIELDS = (
    "timestamp",
    "arbitration_id",
    "is_extended_id",
    "is_remote_frame",
    "is_error_frame",
    "channel",
    "dlc",
    "data",
    "is_fd",
    "is_rx",
    "bitrate_switch",
    "error_state_indicator",
)

_READ = """
import json, sys, can
fields = json.loads(sys.argv[2])
with can.LogReader(sys.argv[1]) as reader:
    rows = [[bytes(m.data).hex() if f == "data" else getattr(m, f) for f in fields]
            for m in reader]
json.dump(rows, sys.stdout)
"""

_WRITE = """
import json, sys, can
fields = json.loads(sys.argv[2])
with can.Logger(sys.argv[1]) as writer:
    for row in json.load(sys.stdin):
        kw = dict(zip(fields, row))
        kw["data"] = bytes.fromhex(kw["data"])
        writer.on_message_received(can.Message(**kw))
"""


def to_row(msg: can.Message) -> list[Any]:
    return [bytes(msg.data).hex() if f == "data" else getattr(msg, f) for f in ROW_FIELDS]


def _run(script: str, path: pathlib.Path, stdin: str = "") -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [str(REF_PYTHON), "-c", script, str(path), json.dumps(ROW_FIELDS)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=path.parent,
    )
    if proc.returncode:
        raise AssertionError(f"python-can failed on {path}:\n{proc.stderr}")
    return proc.stdout


@pytest.fixture
def ref_read() -> Callable[[pathlib.Path], list[list[Any]]]:
    """Reads a log file with upstream python-can: a row (ROW_FIELDS) per message."""
    if not REF_PYTHON.exists():
        pytest.skip(
            f"no reference python-can interpreter at {REF_PYTHON} (run `make ref-venv` or set "
            "CAN_REF_PYTHON)"
        )
    return lambda path: json.loads(_run(_READ, path))


@pytest.fixture
def ref_write() -> Callable[[pathlib.Path, list[can.Message]], None]:
    """Writes messages to a log file with upstream python-can's Logger."""
    if not REF_PYTHON.exists():
        pytest.skip(
            f"no reference python-can interpreter at {REF_PYTHON} (run `make ref-venv` or set "
            "CAN_REF_PYTHON)"
        )

    def write(path: pathlib.Path, msgs: list[can.Message]) -> None:
        _run(_WRITE, path, json.dumps([to_row(m) for m in msgs]))

    return write
