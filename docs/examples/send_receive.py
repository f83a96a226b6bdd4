"""Send a frame on one virtual bus and receive it on another (docs/index.rst).

Run it: ``python docs/examples/send_receive.py``. tests/test_docs.py runs it too.
"""

import can

with (
    can.Bus("example", interface="virtual") as bus1,
    can.Bus("example", interface="virtual") as bus2,
):
    msg = can.Message(arbitration_id=0xC0FFEE, data=[0, 25, 0, 1, 3, 1, 4, 1], is_extended_id=True)
    bus1.send(msg)
    received = bus2.recv(timeout=1.0)

    assert received is not None, "nothing arrived"
    # The receiver gets its own copy, stamped with the time of sending and the channel.
    assert received is not msg
    assert received.equals(msg, timestamp_delta=None, check_channel=False, check_direction=False)
    assert received.channel == "example"
    print(received)
