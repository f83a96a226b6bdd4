"""A sender thread and a receiver on the virtual interface (docs/interfaces/virtual.rst).

The virtual interface queues every frame for every other bus on the channel, so a receiver that
falls behind loses nothing: all frames arrive, complete and in order.

Run it: ``python docs/examples/threads.py``. tests/test_docs.py runs it too.
"""

import threading

import can

COUNT = 10_000

with can.Bus("threads", interface="virtual") as tx, can.Bus("threads", interface="virtual") as rx:

    def send_all() -> None:
        for i in range(COUNT):
            tx.send(can.Message(arbitration_id=i & 0x7FF, data=i.to_bytes(4, "big")))

    sender = threading.Thread(target=send_all)
    sender.start()
    numbers = []
    for _ in range(COUNT):
        msg = rx.recv(timeout=5.0)
        assert msg is not None, f"timed out after {len(numbers)} frames"
        numbers.append(int.from_bytes(msg.data, "big"))
    sender.join()

    assert numbers == list(range(COUNT))
    print(f"received all {COUNT} frames in order")
