"""Regenerates blf_expected.json from upstream python-can 4.x's reading of shared/data/*.blf.

Run with the reference interpreter (never with this package, whose output must not become its
own expected values):  build/ref-venv/bin/python tests/io/data/make_blf_expected.py
With "-" (and optionally the data directory) it prints the JSON instead of writing the file.
"""

import json
import pathlib
import sys

import can

ROOT = pathlib.Path(__file__).resolve().parents[3]
DATA = ROOT.parent / "shared" / "data"


def frames(path: pathlib.Path) -> list[list[object]]:
    return [
        [
            repr(m.timestamp),
            m.arbitration_id,
            m.is_extended_id,
            m.is_remote_frame,
            m.is_error_frame,
            m.is_fd,
            m.bitrate_switch,
            m.error_state_indicator,
            m.is_rx,
            m.channel,
            m.dlc,
            bytes(m.data).hex(),
        ]
        for m in can.BLFReader(str(path))
    ]


if __name__ == "__main__":
    if len(sys.argv) > 2:
        DATA = pathlib.Path(sys.argv[2])
    out = {
        "generator": f"python-can {can.__version__} BLFReader",
        "fields": [
            "timestamp",
            "arbitration_id",
            "is_extended_id",
            "is_remote_frame",
            "is_error_frame",
            "is_fd",
            "bitrate_switch",
            "error_state_indicator",
            "is_rx",
            "channel",
            "dlc",
            "data",
        ],
        "files": {p.name: frames(p) for p in sorted(DATA.glob("*.blf"))},
    }
    if len(sys.argv) > 1 and sys.argv[1] == "-":
        json.dump(out, sys.stdout)
    else:
        (pathlib.Path(__file__).parent / "blf_expected.json").write_text(
            json.dumps(out, indent=1) + "\n"
        )
