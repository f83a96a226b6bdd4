"""A log file as Arrow columns (docs/arrow.rst): needs pyarrow (``pip install can[arrow]``).

Writes a small candump log, reads it whole with ``can.io.read_table`` and in batches with
``can.io.read_batches``, and checks what it got. Without pyarrow it says so and stops.

Run it: ``python docs/examples/arrow_table.py``. tests/test_docs.py runs it too.
"""

import importlib.util
import sys

import can

if importlib.util.find_spec("pyarrow") is None:
    print("pyarrow is not installed: pip install can[arrow]")
    sys.exit(0)

with can.Logger("drive.log") as log:
    for i in range(10):
        log.on_message_received(
            can.Message(timestamp=100.0 + i / 10, arbitration_id=0x100 + i % 3, data=[i, i])
        )

# Every column; only ids 0x100 and 0x101 (the mask drops bit 1); only the first half second.
table = can.io.read_table(
    "drive.log",
    can_filters=[{"can_id": 0x100, "can_mask": 0x7FE}],
    stop=100.5,
)
print(table.select(["timestamp", "channel", "arbitration_id", "data"]).to_pylist()[:2])
assert table.column("arbitration_id").to_pylist() == [0x100, 0x101, 0x100, 0x101]
assert table.column("data").to_pylist()[1] == b"\x01\x01"

# In batches of at most 4 rows: memory stays that of one batch, whatever the file's size.
sizes = [batch.num_rows for batch in can.io.read_batches("drive.log", batch_size=4)]
print(sizes)
assert sizes == [4, 4, 2]
