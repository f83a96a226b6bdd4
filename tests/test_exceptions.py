"""Errors (manual section 3.10 and python-can 4.x's subclasses)."""

from __future__ import annotations

import pickle

import pytest

import can


def test_can_error_is_an_os_error() -> None:
    assert issubclass(can.CanError, OSError)
    with pytest.raises(OSError):
        raise can.CanError("bus off")


@pytest.mark.parametrize(
    "cls",
    [
        can.CanInterfaceNotImplementedError,
        can.CanInitializationError,
        can.CanOperationError,
        can.CanTimeoutError,
    ],
)
def test_subclasses_are_caught_as_can_error(cls: type[can.CanError]) -> None:
    with pytest.raises(can.CanError, match="went wrong"):
        raise cls("went wrong")


def test_subclasses_also_fit_the_builtin_categories() -> None:
    assert issubclass(can.CanTimeoutError, TimeoutError)
    assert issubclass(can.CanInterfaceNotImplementedError, NotImplementedError)


def test_error_code() -> None:
    plain = can.CanOperationError("send failed")
    assert plain.error_code is None
    assert str(plain) == "send failed"
    coded = can.CanOperationError("send failed", error_code=-105)
    assert coded.error_code == -105
    assert str(coded) == "send failed [Error Code -105]"
    copy = pickle.loads(pickle.dumps(coded))
    assert type(copy) is can.CanOperationError
    assert (copy.error_code, str(copy)) == (-105, str(coded))


def test_manual_send_one_example_catches_can_error() -> None:
    # Section 1's example sends one message and reports failure through can.CanError.
    bus = can.Bus("send-one", interface="virtual")
    msg = can.Message(arbitration_id=0xC0FFEE, data=[0, 25, 0, 1, 3, 1, 4, 1], is_extended_id=True)
    bus.send(msg)
    bus.shutdown()
    with pytest.raises(can.CanError):
        bus.send(msg)
