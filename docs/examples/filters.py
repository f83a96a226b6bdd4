"""Receive only some frames: acceptance filters on a bus (docs/bus.rst).

A frame passes a filter when ``arbitration_id & can_mask == can_id & can_mask`` and, if the
filter has ``extended``, its ``is_extended_id`` equals that. A bus with several filters receives
a frame that passes any of them.

Run it: ``python docs/examples/filters.py``. tests/test_docs.py runs it too.
"""

import can

filters = [
    {"can_id": 0x100, "can_mask": 0x7F0, "extended": False},  # standard ids 0x100..0x10f
    {"can_id": 0x18DA00F1, "can_mask": 0x1FFF00FF, "extended": True},  # 0x18DAxxF1
]

with (
    can.Bus("filters", interface="virtual") as sender,
    can.Bus("filters", interface="virtual", can_filters=filters) as receiver,
):
    for can_id, extended in [
        (0x100, False),  # passes the first filter
        (0x10F, False),  # passes the first filter
        (0x110, False),  # no: 0x110 & 0x7f0 is 0x110
        (0x100, True),  # no: the first filter wants a standard id
        (0x18DA10F1, True),  # passes the second filter
        (0x18DA10F2, True),  # no: the low byte must be 0xf1
    ]:
        sender.send(can.Message(arbitration_id=can_id, is_extended_id=extended, data=[1]))

    received = []
    while (msg := receiver.recv(timeout=0.1)) is not None:
        received.append(msg.arbitration_id)
        print(msg)

    assert received == [0x100, 0x10F, 0x18DA10F1], [hex(i) for i in received]

    # Filters can be changed on an open bus; None receives everything again.
    receiver.set_filters(None)
    sender.send(can.Message(arbitration_id=0x7FF, is_extended_id=False))
    last = receiver.recv(timeout=1.0)
    assert last is not None and last.arbitration_id == 0x7FF
