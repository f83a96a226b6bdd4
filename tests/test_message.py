"""can.Message: the manual's section 3.3, the constructor, validation and object protocols."""

from __future__ import annotations

import copy
import gc
import pickle
import sys
import warnings
import weakref
from typing import Any, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import can
from can import Message


# --- an independent implementation of the printed format ----------------------------------------
# Written from the field list under "Printed formats" in shared/DESIGN.md (python-can 3.3.2's
# layout), so that str() is checked against the specification rather than against itself.
def reference_str(msg: Message) -> str:
    fields = ["Timestamp: " + format(msg.timestamp, ">15.6f")]
    ident = format(msg.arbitration_id, "08x" if msg.is_extended_id else "04x")
    fields.append(("ID: " + ident).rjust(12))
    slots = [
        "X" if msg.is_extended_id else "S",
        "E" if msg.is_error_frame else " ",
        "R" if msg.is_remote_frame else " ",
        "F" if msg.is_fd else " ",
        "BS" if msg.bitrate_switch else "  ",
        "EI" if msg.error_state_indicator else "  ",
    ]
    fields.append(" ".join(slots))
    fields.append("DLC: " + format(msg.dlc, ">2"))
    shown = msg.data[: min(msg.dlc, len(msg.data))]
    fields.append(" ".join(format(b, "02x") for b in shown).ljust(24) if msg.data else " " * 24)
    if msg.data and all(chr(b).isascii() and chr(b).isalnum() for b in msg.data):
        fields.append("'" + msg.data.decode("utf-8", "replace") + "'")
    if msg.channel is not None:
        fields.append("Channel: " + str(msg.channel))
    return "    ".join(fields).strip()


# --- the manual's examples (section 3.3), with the column layout DESIGN.md restores ------------


def test_manual_data_and_dlc_example() -> None:
    test = Message(data=[1, 2, 3, 4, 5])
    assert test.data == bytearray(b"\x01\x02\x03\x04\x05")
    assert type(test.data) is bytearray
    assert test.dlc == 5
    assert (
        str(test)
        == "Timestamp:        0.000000    ID: 00000000    X                DLC:  5    01 02 03 04 05"
    )


def test_manual_standard_id_example() -> None:
    assert (
        str(Message(is_extended_id=False, arbitration_id=100))
        == "Timestamp:        0.000000        ID: 0064    S                DLC:  0"
    )


def test_manual_bytearray_data_example() -> None:
    example_data = bytearray([1, 2, 3])
    assert (
        str(Message(data=example_data))
        == "Timestamp:        0.000000    ID: 00000000    X                DLC:  3    01 02 03"
    )


def test_manual_bytes_and_list_data_example() -> None:
    m1 = Message(data=[0x64, 0x65, 0x61, 0x64, 0x62, 0x65, 0x65, 0x66])
    assert m1.data == bytearray(b"deadbeef")
    m2 = Message(data=b"deadbeef")
    assert m2.data == bytearray(b"deadbeef")
    assert type(m2.data) is bytearray
    # All bytes are ASCII letters, so the text is shown too.
    # 23 characters of hex padded to 24, then the four-space separator.
    assert str(m2).endswith("64 65 61 64 62 65 65 66     'deadbeef'")
    assert str(m2) == reference_str(m2)


def test_manual_dlc_example() -> None:
    assert Message(data=[1, 2, 3]).dlc == 3


def test_manual_extended_id_examples() -> None:
    assert (
        str(Message(is_extended_id=False))
        == "Timestamp:        0.000000        ID: 0000    S                DLC:  0"
    )
    assert (
        str(Message(is_extended_id=True))
        == "Timestamp:        0.000000    ID: 00000000    X                DLC:  0"
    )


def test_manual_error_frame_example() -> None:
    assert (
        str(Message(is_error_frame=True))
        == "Timestamp:        0.000000    ID: 00000000    X E              DLC:  0"
    )


def test_manual_remote_frame_example() -> None:
    assert (
        str(Message(is_remote_frame=True))
        == "Timestamp:        0.000000    ID: 00000000    X   R            DLC:  0"
    )


def test_manual_str_examples() -> None:
    assert (
        str(Message()) == "Timestamp:        0.000000    ID: 00000000    X                DLC:  0"
    )
    test2 = Message(data=[1, 2, 3, 4, 5])
    assert (
        str(test2)
        == "Timestamp:        0.000000    ID: 00000000    X                DLC:  5    01 02 03 04 05"
    )


def test_str_fd_flags_and_channel() -> None:
    msg = Message(
        timestamp=1.5,
        arbitration_id=0x7FF,
        is_extended_id=False,
        is_fd=True,
        bitrate_switch=True,
        error_state_indicator=True,
        data=range(12),
        channel="vcan0",
    )
    assert str(msg) == (
        "Timestamp:        1.500000        ID: 07ff    S     F BS EI    DLC: 12    "
        "00 01 02 03 04 05 06 07 08 09 0a 0b    Channel: vcan0"
    )
    assert str(msg) == reference_str(msg)


def test_str_shows_only_dlc_bytes_when_dlc_is_smaller() -> None:
    msg = Message(data=[1, 2, 3, 4], dlc=2)
    assert str(msg).endswith("DLC:  2    01 02")
    assert str(msg) == reference_str(msg)


def test_str_with_unusual_field_types_falls_back_to_python_formatting() -> None:
    msg = Message(timestamp=float("inf"), arbitration_id=2**70, channel=3)
    assert str(msg) == reference_str(msg)
    from decimal import Decimal

    msg.timestamp = Decimal("12.25")  # type: ignore[assignment]
    assert str(msg).startswith("Timestamp:       12.250000")
    assert str(msg) == reference_str(msg)


@settings(max_examples=400, deadline=None)
@given(
    timestamp=st.one_of(
        st.floats(min_value=0, max_value=4e9, allow_nan=False),
        st.floats(allow_nan=False, allow_infinity=False, width=64).filter(lambda x: abs(x) < 1e25),
        st.integers(min_value=0, max_value=2**40),
    ),
    extended=st.booleans(),
    arbitration_id=st.integers(min_value=0, max_value=0x1FFFFFFF),
    data=st.binary(max_size=64),
    dlc_delta=st.integers(min_value=-3, max_value=3),
    flags=st.lists(st.booleans(), min_size=5, max_size=5),
    channel=st.one_of(st.none(), st.integers(0, 9), st.text(max_size=8)),
)
def test_str_matches_reference_format(
    timestamp: float,
    extended: bool,
    arbitration_id: int,
    data: bytes,
    dlc_delta: int,
    flags: list[bool],
    channel: Optional[Any],
) -> None:
    msg = Message(
        timestamp=timestamp,
        arbitration_id=arbitration_id,
        is_extended_id=extended,
        data=data,
        dlc=max(0, len(data) + dlc_delta),
        is_error_frame=flags[0],
        is_remote_frame=flags[1],
        is_fd=flags[2],
        bitrate_switch=flags[3],
        error_state_indicator=flags[4],
        channel=channel,
    )
    assert str(msg) == reference_str(msg)


# --- constructor ---------------------------------------------------------------------------


def test_defaults() -> None:
    msg = Message()
    assert msg.timestamp == 0.0
    assert msg.arbitration_id == 0
    assert msg.is_extended_id is True
    assert msg.is_remote_frame is False
    assert msg.is_error_frame is False
    assert msg.channel is None
    assert msg.dlc == 0
    assert msg.data == bytearray()
    assert msg.is_fd is False
    assert msg.is_rx is True
    assert msg.bitrate_switch is False
    assert msg.error_state_indicator is False


def test_positional_arguments_follow_the_manual_signature() -> None:
    msg = Message(2.5, 0x12, False, False, False, "ch", 3, [1, 2, 3], True, True, True)
    assert (msg.timestamp, msg.arbitration_id, msg.is_extended_id) == (2.5, 0x12, False)
    assert (msg.channel, msg.dlc, msg.data) == ("ch", 3, bytearray([1, 2, 3]))
    assert msg.is_fd and msg.bitrate_switch and msg.error_state_indicator


@pytest.mark.parametrize(
    "data",
    [
        b"\x01\x02",
        [1, 2],
        (1, 2),
        bytearray([1, 2]),
        iter([1, 2]),
        range(1, 3),
        memoryview(b"\x01\x02"),
    ],
)
def test_data_accepts_bytes_like_and_int_iterables(data: Any) -> None:
    msg = Message(data=data)
    assert msg.data == bytearray(b"\x01\x02")
    assert type(msg.data) is bytearray
    assert msg.dlc == 2


def test_bytearray_data_is_used_as_given() -> None:
    data = bytearray(b"\x01")
    assert Message(data=data).data is data


def test_bad_data_raises_typed_errors() -> None:
    with pytest.raises(TypeError, match="Message data"):
        Message(data=[1, "a"])
    with pytest.raises(TypeError, match="Message data"):
        Message(data=object())
    with pytest.raises(ValueError, match=r"0\.\.=255"):
        Message(data=[1, 256])
    with pytest.raises(ValueError):
        Message(data=[-1])


def test_bad_arguments_raise_type_error() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'arbitation_id'"):
        Message(arbitation_id=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values for argument 'timestamp'"):
        Message(1.0, timestamp=2.0)  # type: ignore[misc]
    with pytest.raises(TypeError, match="at most 13 positional"):
        Message(*range(14))  # type: ignore[misc]


def test_dlc_given_explicitly_is_kept() -> None:
    msg = Message(data=[1, 2], dlc=8)
    assert msg.dlc == 8
    assert Message(is_remote_frame=True, dlc=4).dlc == 4


def test_is_rx_keyword() -> None:
    assert Message(is_rx=False).is_rx is False


def test_extended_id_alias_is_deprecated_but_works() -> None:
    with pytest.warns(DeprecationWarning, match="extended_id"):
        msg = Message(extended_id=False)
    assert msg.is_extended_id is False
    with pytest.warns(DeprecationWarning):
        assert msg.extended_id is False
    with pytest.warns(DeprecationWarning):
        msg.extended_id = True
    assert msg.is_extended_id is True
    # is_extended_id wins when both are given.
    with pytest.warns(DeprecationWarning):
        assert Message(is_extended_id=True, extended_id=False).is_extended_id is True


def test_reinit_replaces_fields() -> None:
    msg = Message(arbitration_id=5, data=[1])
    Message.__init__(msg, arbitration_id=6)
    assert msg.arbitration_id == 6
    assert msg.data == bytearray()


# --- check=True ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"arbitration_id": 0x800, "is_extended_id": False}, "11-bit"),
        ({"arbitration_id": 0x20000000}, "29-bit"),
        ({"arbitration_id": -1}, "negative"),
        ({"arbitration_id": "1"}, "must be an int"),
        ({"data": [0] * 9}, "at most 8 bytes"),
        ({"data": [1, 2], "dlc": 3}, "must match"),
        ({"dlc": -1}, "negative"),
        ({"is_remote_frame": True, "is_error_frame": True}, "remote frame and an error frame"),
        ({"is_remote_frame": True, "is_fd": True}, "cannot be remote"),
        ({"is_remote_frame": True, "dlc": 9}, "at most 8 bytes"),
        ({"is_fd": True, "data": [0] * 10, "dlc": 12}, "must match"),
        ({"is_fd": True, "data": [0] * 65}, "at most 64"),
        ({"bitrate_switch": True}, "bitrate_switch"),
        ({"error_state_indicator": True}, "error_state_indicator"),
        ({"timestamp": -1.0}, "timestamp"),
        ({"timestamp": float("nan")}, "finite"),
    ],
)
def test_check_rejects_invalid_messages(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Message(check=True, **kwargs)
    # Without check the same arguments are accepted as given.
    Message(**kwargs)


@pytest.mark.parametrize("length", range(65))
def test_check_accepts_every_fd_length(length: int) -> None:
    # python-can 3.3.2 and 4.x accept any length up to 64, also 9-11, 13-15, ... (the
    # controller pads such a frame to the next CAN FD size on the bus).
    msg = Message(is_fd=True, bitrate_switch=True, data=bytes(length), check=True)
    assert msg.dlc == length


@pytest.mark.parametrize("data", [[1, 2], b"ab", bytearray(b"xyz"), (9,)])
def test_remote_frame_drops_the_data(data: Any) -> None:
    # As python-can 3.3.2 and 4.x: a remote frame carries no data, whatever was given; its
    # dlc is the one given, or 0.
    msg = Message(is_remote_frame=True, data=data)
    assert (msg.dlc, msg.data) == (0, bytearray())
    msg = Message(is_remote_frame=True, data=data, dlc=4, check=True)
    assert (msg.dlc, msg.data) == (4, bytearray())
    msg = Message(arbitration_id=1, is_remote_frame=1, data=data)  # any true value
    assert msg.data == bytearray()


def test_check_method_still_rejects_data_put_on_a_remote_frame() -> None:
    msg = Message(is_remote_frame=True, dlc=2)
    msg.data = bytearray([1, 2])
    with pytest.raises(ValueError, match="remote frame carries no data"):
        msg._check()


def test_check_accepts_valid_classic_frames() -> None:
    Message(arbitration_id=0x7FF, is_extended_id=False, data=[1] * 8, check=True)
    Message(arbitration_id=0x1FFFFFFF, is_extended_id=True, check=True)
    Message(is_remote_frame=True, dlc=8, check=True)
    Message(is_error_frame=True, check=True)


def test_check_method_validates_current_fields() -> None:
    msg = Message(arbitration_id=0x100, is_extended_id=False)
    msg._check()
    msg.arbitration_id = 0x1000
    with pytest.raises(ValueError, match="11-bit"):
        msg._check()


# --- object protocols ----------------------------------------------------------------------


def test_slots_only_the_documented_attributes() -> None:
    msg = Message()
    assert Message.__slots__ == ()
    assert not hasattr(msg, "__dict__")
    with pytest.raises(AttributeError):
        msg.foo = 1  # type: ignore[attr-defined]


def test_attributes_are_mutable_like_slots() -> None:
    msg = Message(data=[1, 2])
    msg.data[0] = 0x99
    assert msg.data == bytearray([0x99, 2])
    msg.is_extended_id = 1  # type: ignore[assignment]
    assert msg.is_extended_id == 1
    msg.dlc = None  # type: ignore[assignment]
    assert msg.dlc is None
    del msg.channel
    with pytest.raises(AttributeError):
        _ = msg.channel
    msg.channel = "can0"
    assert msg.channel == "can0"


def test_compared_by_identity() -> None:
    a = Message(arbitration_id=1, data=[1])
    b = Message(arbitration_id=1, data=[1])
    assert a == a
    assert a != b
    assert a.equals(b)
    assert len({a, b}) == 2


def test_len_and_bool() -> None:
    assert len(Message(data=[1, 2, 3])) == 3
    assert len(Message()) == 0
    assert bool(Message())
    assert bool(Message(is_remote_frame=True))


def test_len_is_the_dlc_and_bytes_the_data() -> None:
    # python-can 4.x: len() is the dlc, remote frames included; bytes() is the data.
    assert len(Message(is_remote_frame=True, dlc=8)) == 8
    assert len(Message(data=[1, 2, 3], dlc=5)) == 5
    assert bytes(Message(data=[1, 2, 3])) == b"\x01\x02\x03"
    assert bytes(Message(is_remote_frame=True, dlc=8)) == b""


def test_equals() -> None:
    a = Message(timestamp=1.0, arbitration_id=0x10, data=[1, 2], channel="a")
    b = copy.copy(a)
    assert a.equals(b)
    b.timestamp = 1.0 + 5e-7
    assert a.equals(b)
    b.timestamp = 1.0 + 2e-6
    assert not a.equals(b)
    assert a.equals(b, timestamp_delta=1e-5)
    assert a.equals(b, timestamp_delta=None)
    b.channel = "b"
    assert not a.equals(b, timestamp_delta=None)
    assert a.equals(b, timestamp_delta=None, check_channel=False)
    b.channel = "a"
    b.is_rx = False
    assert not a.equals(b, timestamp_delta=None)
    assert a.equals(b, timestamp_delta=None, check_direction=False)
    for field, value in [
        ("arbitration_id", 0x11),
        ("is_extended_id", False),
        ("dlc", 3),
        ("data", bytearray([1, 3])),
        ("is_remote_frame", True),
        ("is_error_frame", True),
        ("is_fd", True),
        ("bitrate_switch", True),
        ("error_state_indicator", True),
    ]:
        c = copy.copy(a)
        setattr(c, field, value)
        assert not a.equals(c), field


def test_copy_and_deepcopy_are_independent() -> None:
    a = Message(timestamp=3.0, arbitration_id=0x123, data=[1, 2, 3], channel="x", is_rx=False)
    for b in (copy.copy(a), copy.deepcopy(a)):
        assert type(b) is Message
        assert b is not a
        assert b.equals(a)
        b.data[0] = 0xFF
        assert a.data[0] == 1


# Every field set to None or to an odd value the setters accept: copy.copy, copy.deepcopy and
# pickle all succeed, as python-can 4.x's do (issue 19 item 12). A copy of data=None has no
# data bytes (python-can builds its copies through __init__, where data=None means empty).
_ODD_VALUES = [
    ("data", None),
    ("data", [1, 2, 3]),
    ("data", (1, 2)),
    ("data", 5),
    ("timestamp", None),
    ("timestamp", "x"),
    ("arbitration_id", None),
    ("arbitration_id", -1),
    ("arbitration_id", 2**40),
    ("dlc", None),
    ("dlc", -1),
    ("dlc", 100),
    ("channel", None),
    ("channel", ("a", 1)),
    ("channel", [1]),
    ("is_fd", None),
    ("is_extended_id", None),
    ("is_rx", None),
    ("is_remote_frame", None),
    ("is_error_frame", None),
    ("bitrate_switch", None),
    ("error_state_indicator", None),
]


@pytest.mark.parametrize("cls", [Message, "Tagged"])
@pytest.mark.parametrize(("field", "value"), _ODD_VALUES)
def test_copy_deepcopy_and_pickle_take_odd_field_values(cls: Any, field: str, value: Any) -> None:
    msg = (
        Tagged("t", arbitration_id=0x123, data=b"\x01\x02")
        if cls == "Tagged"
        else Message(arbitration_id=0x123, data=b"\x01\x02")
    )
    setattr(msg, field, value)
    for copied in (copy.copy(msg), copy.deepcopy(msg)):
        assert type(copied) is type(msg)
        if field == "data" and value is None:
            assert copied.data == bytearray()
        elif field == "data":
            # Both copies hold the same bytes (copy.copy as a bytearray of them).
            assert bytes(bytearray(copied.data)) == bytes(bytearray(value))
        else:
            assert getattr(copied, field) == value
    unpickled = pickle.loads(pickle.dumps(msg))
    assert getattr(unpickled, field) == value


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_round_trip(protocol: int) -> None:
    a = Message(timestamp=1.25, arbitration_id=0x1ABCDEF, data=b"\x00\xff", is_fd=True, channel=1)
    b = pickle.loads(pickle.dumps(a, protocol=protocol))
    assert type(b) is Message
    assert b.equals(a)


class Tagged(Message):
    __slots__ = ("tag",)

    def __init__(self, tag: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tag = tag


class WithDict(Message):
    pass


def test_subclasses_keep_their_own_state() -> None:
    t = Tagged("hello", arbitration_id=7, data=[1])
    assert t.arbitration_id == 7 and t.tag == "hello"
    assert isinstance(t, Message)
    for u in (copy.copy(t), copy.deepcopy(t), pickle.loads(pickle.dumps(t))):
        assert type(u) is Tagged
        assert u.tag == "hello"
        assert u.equals(t)
    w = WithDict(arbitration_id=9)
    w.extra = [1]  # type: ignore[attr-defined]
    v = pickle.loads(pickle.dumps(w))
    assert v.extra == [1] and v.arbitration_id == 9
    assert copy.copy(w).extra == [1]


def test_repr_evaluates_back_to_an_equal_message() -> None:
    for msg in [
        Message(),
        Message(timestamp=1.5, arbitration_id=0x123, is_extended_id=False, data=[1, 2]),
        Message(is_fd=True, bitrate_switch=True, data=bytes(12), channel="vcan0", is_rx=False),
        Message(is_remote_frame=True, dlc=3),
        Message(is_error_frame=True),
    ]:
        text = repr(msg)
        assert text.startswith("can.Message(")
        assert eval(text, {"can": can}).equals(msg)


def test_weak_references() -> None:
    msg = Message()
    ref = weakref.ref(msg)
    assert ref() is msg
    del msg
    assert ref() is None


def test_reference_cycles_are_collected() -> None:
    gc.collect()
    msg = Message()
    msg.channel = msg  # type: ignore[assignment]
    ref = weakref.ref(msg)
    del msg
    gc.collect()
    assert ref() is None


def test_no_reference_leaks() -> None:
    ts = 123.25
    data = bytearray(b"\x01")
    before = (sys.getrefcount(ts), sys.getrefcount(data))
    for _ in range(10_000):
        m = Message(timestamp=ts, data=data, channel="x")
        str(m)
        copy.copy(m)
        del m
    assert (sys.getrefcount(ts), sys.getrefcount(data)) == before


def test_built_without_init_by_native_code() -> None:
    class NoInit(Message):
        __slots__ = ()

        def __init__(self) -> None:
            raise AssertionError("__init__ must not run")

    fields = (1.0, 0x42, False, False, False, "c", 1, bytearray(b"\x07"), False, True, False, False)
    msg = can._core.new_message_from_fields(NoInit, fields)
    assert type(msg) is NoInit
    assert (msg.arbitration_id, msg.channel, msg.data) == (0x42, "c", bytearray(b"\x07"))
    with pytest.raises(TypeError):
        can._core.new_message_from_fields(dict, fields)


def test_no_warning_without_deprecated_arguments() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Message(is_extended_id=False)


def test_memory_is_returned_over_many_messages() -> None:
    import tracemalloc

    def churn() -> None:
        for i in range(50_000):
            m = Message(arbitration_id=i, data=b"\x01\x02\x03\x04\x05\x06\x07\x08", channel="c")
            copy.copy(m)
            str(m)

    churn()  # warm up caches and free lists
    tracemalloc.start()
    try:
        churn()
        gc.collect()
        current, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 50,000 leaked messages would hold several megabytes; a few KiB is bookkeeping.
    assert current < 64 * 1024


def test_signature_is_introspectable() -> None:
    import inspect

    params = inspect.signature(Message).parameters
    assert list(params)[:13] == [
        "timestamp",
        "arbitration_id",
        "is_extended_id",
        "is_remote_frame",
        "is_error_frame",
        "channel",
        "dlc",
        "data",
        "is_fd",
        "bitrate_switch",
        "error_state_indicator",
        "extended_id",
        "check",
    ]
    assert params["timestamp"].default == 0.0
    assert params["is_rx"].kind is inspect.Parameter.KEYWORD_ONLY


def test_str_strips_what_python_strip_strips() -> None:
    # Python counts U+001C..U+001F as white space; a channel ending in one is trimmed the same.
    for channel in ["a\x1f", "b\u3000", "c\t"]:
        msg = Message(channel=channel)
        assert str(msg) == reference_str(msg)


def test_subclass_signature_describes_its_own_init() -> None:
    import inspect

    assert list(inspect.signature(Tagged).parameters) == ["tag", "kwargs"]

    class Plain(Message):
        __slots__ = ()

    assert next(iter(inspect.signature(Plain).parameters)) == "timestamp"
    with pytest.raises(AttributeError):
        _ = Message().__signature__  # type: ignore[attr-defined]
