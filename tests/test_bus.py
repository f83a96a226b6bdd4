"""can.BusABC: the contract of manual sections 3.1 and 3.7.1, on a scripted test interface."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any, Optional

import pytest

import can
from can import BusABC, BusState, Message

_opened: list[BusABC] = []


@pytest.fixture(autouse=True)
def _shut_down_scripted_buses() -> Iterator[None]:
    """Shuts down every ScriptedBus a test opened (a bus left open warns when collected)."""
    yield
    while _opened:
        _opened.pop().shutdown()


class ScriptedBus(BusABC):
    """A bus whose _recv_internal hands out a fixed list of messages, then times out.

    Every one made is shut down after the test (see _shut_down_scripted_buses).
    """

    def __init__(
        self, incoming: Optional[list[Message]] = None, pre_filtered: bool = False, **kwargs: Any
    ) -> None:
        self.incoming: deque[Message] = deque(incoming or [])
        self.pre_filtered = pre_filtered
        self.sent: list[Message] = []
        self.recv_timeouts: list[Optional[float]] = []
        self.shutdown_calls = 0
        self.applied: list[Any] = []
        super().__init__(channel="scripted", **kwargs)
        self.channel_info = "scripted test bus"
        _opened.append(self)

    def _recv_internal(self, timeout: Optional[float]) -> tuple[Optional[Message], bool]:
        self.recv_timeouts.append(timeout)
        if self.incoming:
            return self.incoming.popleft(), self.pre_filtered
        if timeout:
            time.sleep(timeout)
        return None, False

    def send(self, msg: Message, timeout: Optional[float] = None) -> None:
        self.sent.append(msg)

    def _apply_filters(self, filters: Any) -> None:
        self.applied.append(filters)

    def shutdown(self) -> None:
        self.shutdown_calls += 1
        super().shutdown()


def ids(msgs: list[Message]) -> list[int]:
    return [m.arbitration_id for m in msgs]


def std(i: int) -> Message:
    return Message(arbitration_id=i, is_extended_id=False)


def ext(i: int) -> Message:
    return Message(arbitration_id=i, is_extended_id=True)


def test_recv_returns_messages_then_none_on_timeout() -> None:
    bus = ScriptedBus([std(1), std(2)])
    assert bus.recv(0.1).arbitration_id == 1  # type: ignore[union-attr]
    assert bus.recv(0.1).arbitration_id == 2  # type: ignore[union-attr]
    assert bus.recv(0) is None


def test_manual_filter_example() -> None:
    # {"can_id": 0x11, "can_mask": 0x21, "extended": False}: id & 0x21 must equal 0x01,
    # and only standard ids match.
    incoming = [std(0x11), std(0x21), ext(0x11), std(0x01), std(0x10), std(0x7FF), std(0x7DF)]
    bus = ScriptedBus(incoming, can_filters=[{"can_id": 0x11, "can_mask": 0x21, "extended": False}])
    got = []
    while (msg := bus.recv(0)) is not None:
        got.append(msg)
    expected = [m for m in incoming if m.arbitration_id & 0x21 == 0x01 and not m.is_extended_id]
    assert ids(got) == ids(expected) == [0x11, 0x01, 0x7DF]


def test_filter_without_extended_key_matches_both_id_types() -> None:
    bus = ScriptedBus([std(0x123), ext(0x123), ext(0x124)])
    bus.set_filters([{"can_id": 0x123, "can_mask": 0x7FF}])
    assert [(m.arbitration_id, m.is_extended_id) for m in iter(lambda: bus.recv(0), None)] == [
        (0x123, False),
        (0x123, True),
    ]


def test_any_of_several_filters() -> None:
    bus = ScriptedBus(
        [std(0x100), std(0x200), std(0x300)],
        can_filters=[{"can_id": 0x100, "can_mask": 0x7FF}, {"can_id": 0x300, "can_mask": 0x7FF}],
    )
    assert ids(list(iter(lambda: bus.recv(0), None))) == [0x100, 0x300]


def test_recv_passes_the_remaining_timeout_while_filtering() -> None:
    bus = ScriptedBus([std(1), std(2), std(3)], can_filters=[{"can_id": 9, "can_mask": 0x7FF}])
    start = time.monotonic()
    assert bus.recv(0.2) is None
    elapsed = time.monotonic() - start
    assert 0.15 < elapsed < 1.0
    # Every call got the time that was left, shrinking, never more than asked.
    assert all(t is not None and t <= 0.2 for t in bus.recv_timeouts)
    assert bus.recv_timeouts == sorted(bus.recv_timeouts, reverse=True)


def test_prefiltered_messages_skip_software_filtering() -> None:
    bus = ScriptedBus([std(5)], pre_filtered=True, can_filters=[{"can_id": 9, "can_mask": 0x7FF}])
    assert bus.recv(0).arbitration_id == 5  # type: ignore[union-attr]


def test_filters_property_and_reset() -> None:
    bus = ScriptedBus()
    assert bus.filters is None
    filters = [{"can_id": 1, "can_mask": 2}]
    bus.filters = filters
    assert bus.filters == filters
    assert bus.applied[-1] == filters
    bus.set_filters()
    assert bus.filters is None
    bus.set_filters([])
    assert bus.filters is None
    assert bus._matches_filters(std(0x555))
    bus.set_filters([{"can_id": 1, "can_mask": 0x7FF}])
    assert bus._matches_filters(std(1))
    assert not bus._matches_filters(std(2))


@pytest.mark.parametrize(
    "filters",
    [
        [{"can_mask": 1}],
        [{"can_id": 1}],
        [{"can_id": -1, "can_mask": 1}],
        [{"can_id": "1", "can_mask": 1}],
        [{"can_id": 1, "can_mask": 2**64}],
    ],
)
def test_malformed_filters_raise_value_error(filters: Any) -> None:
    bus = ScriptedBus()
    with pytest.raises(ValueError, match="filter #0"):
        bus.set_filters(filters)
    assert bus.filters is None  # the old filters stay in force


def test_filters_of_the_wrong_shape_raise_type_error() -> None:
    bus = ScriptedBus()
    with pytest.raises(TypeError):
        bus.set_filters({"can_id": 1, "can_mask": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        bus.set_filters([(1, 2)])  # type: ignore[list-item]


def test_iteration_yields_received_messages() -> None:
    bus = ScriptedBus([std(1), std(2)])
    it = iter(bus)
    assert next(it).arbitration_id == 1
    assert next(it).arbitration_id == 2


def test_shutdown_is_idempotent_and_recv_after_it_raises() -> None:
    bus = ScriptedBus([std(1)])
    bus.shutdown()
    bus.shutdown()
    assert bus.shutdown_calls == 1
    with pytest.raises(can.CanOperationError, match="shut down"):
        bus.recv(0)
    with pytest.raises(can.CanError):
        bus.send_periodic(std(1), 0.01)


def test_context_manager_shuts_down() -> None:
    with ScriptedBus() as bus:
        assert isinstance(bus, ScriptedBus)
    assert bus.shutdown_calls == 1
    with pytest.raises(can.CanError):
        bus.recv(0)


def test_send_periodic_software_fallback_and_shutdown_stops_tasks() -> None:
    bus = ScriptedBus()
    task = bus.send_periodic(std(0x42), 0.01)
    assert isinstance(task, can.CyclicSendTaskABC)
    assert isinstance(task, can.LimitedDurationCyclicSendTaskABC)
    assert isinstance(task, can.ModifiableCyclicTaskABC)
    assert isinstance(task, can.RestartableCyclicTaskABC)
    time.sleep(0.1)
    bus.shutdown()
    count = len(bus.sent)
    assert count >= 3
    assert all(m.arbitration_id == 0x42 for m in bus.sent)
    time.sleep(0.05)
    assert len(bus.sent) == count
    assert not [t for t in threading.enumerate() if t.name.startswith("Cyclic send task")]


def test_send_periodic_duration_and_store_task() -> None:
    bus = ScriptedBus()
    task = bus.send_periodic(std(1), 0.01, duration=0.05, store_task=False)
    assert bus._periodic_tasks == []
    time.sleep(0.15)
    n = len(bus.sent)
    assert 3 <= n <= 7
    time.sleep(0.05)
    assert len(bus.sent) == n
    task.stop()
    bus.shutdown()


def test_stop_all_periodic_tasks() -> None:
    bus = ScriptedBus()
    t1 = bus.send_periodic(std(1), 0.01)
    bus.send_periodic(std(2), 0.01)
    assert len(bus._periodic_tasks) == 2
    t1.stop()  # stopping a task removes it from the bus
    assert len(bus._periodic_tasks) == 1
    bus.stop_all_periodic_tasks(remove_tasks=False)
    assert len(bus._periodic_tasks) == 1
    bus.stop_all_periodic_tasks()
    assert bus._periodic_tasks == []
    n = len(bus.sent)
    time.sleep(0.05)
    assert len(bus.sent) == n
    bus.shutdown()


def test_documented_defaults() -> None:
    bus = ScriptedBus()
    assert BusABC.RECV_LOGGING_LEVEL == 9
    assert BusABC.channel_info == "unknown"
    assert str(bus) == "scripted test bus"
    assert bus.state is BusState.ACTIVE
    assert {s.name for s in BusState} == {"ACTIVE", "PASSIVE", "ERROR"}
    with pytest.raises(NotImplementedError):
        bus.state = BusState.PASSIVE
    with pytest.raises(NotImplementedError):
        bus.fileno()
    assert BusABC._detect_available_configs() == []
    bus.flush_tx_buffer()
    bus.shutdown()


def test_received_messages_are_logged_at_recv_logging_level(caplog: Any) -> None:
    bus = ScriptedBus([std(0x321)])
    with caplog.at_level(BusABC.RECV_LOGGING_LEVEL, logger="can"):
        bus.recv(0)
    assert any(
        r.levelno == BusABC.RECV_LOGGING_LEVEL and "0321" in r.getMessage() for r in caplog.records
    )


def test_abstract_methods_must_be_implemented() -> None:
    class Incomplete(BusABC):
        def __init__(self) -> None:
            super().__init__(channel=None)

    with pytest.raises(TypeError):
        Incomplete()  # type: ignore[abstract]


def test_legacy_recv_override_still_works() -> None:
    class Legacy(BusABC):
        def __init__(self) -> None:
            super().__init__(channel=None)

        def send(self, msg: Message, timeout: Optional[float] = None) -> None:
            pass

        def recv(self, timeout: Optional[float] = None) -> Optional[Message]:
            return std(7)

    bus = Legacy()
    assert bus.recv().arbitration_id == 7  # type: ignore[union-attr]
    with pytest.raises(NotImplementedError):
        bus._recv_internal(0)
    bus.shutdown()


def test_logger_name() -> None:
    assert logging.getLogger("can.bus").parent is logging.getLogger("can")


# -- BusState and CanProtocol (issue 13, item 3) ------------------------------------------------


def test_bus_state_values_are_the_manuals() -> None:
    assert [(s.name, s.value) for s in can.BusState] == [
        ("ACTIVE", 1),
        ("PASSIVE", 2),
        ("ERROR", 3),
    ]
    assert can.BusState(2) is can.BusState.PASSIVE
    # As in python-can: a member equals only itself, not its value or another member.
    assert can.BusState.ACTIVE != 1
    assert can.BusState.ACTIVE != can.BusState.PASSIVE


def test_can_protocol_and_bus_protocol() -> None:
    assert [(p.name, p.value) for p in can.CanProtocol] == [
        ("CAN_20", 1),
        ("CAN_FD", 2),
        ("CAN_FD_NON_ISO", 3),
        ("CAN_XL", 4),
    ]
    with can.Bus("protocol-test", interface="virtual") as bus:
        assert bus.protocol is can.CanProtocol.CAN_20
    with can.Bus("protocol-test", interface="virtual", protocol=can.CanProtocol.CAN_FD) as bus:
        assert bus.protocol is can.CanProtocol.CAN_FD
    # A configuration file gives the name.
    with can.Bus("protocol-test", interface="virtual", protocol="can_fd_non_iso") as bus:
        assert bus.protocol is can.CanProtocol.CAN_FD_NON_ISO
    with pytest.raises(ValueError, match="protocol"):
        can.Bus("protocol-test", interface="virtual", protocol="CAN_40")


# -- a bus left open (python-can 4.x; issue 13, item 8) -------------------------------------------


def test_a_bus_collected_while_open_is_shut_down_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import gc
    import weakref

    bus = ScriptedBus()
    _opened.remove(bus)  # this one is left open on purpose
    ref = weakref.ref(bus)
    shutdowns: list[int] = []
    # Observe the shutdown without keeping the bus alive.
    original = ScriptedBus.shutdown

    def observed(self: ScriptedBus) -> None:
        shutdowns.append(1)
        original(self)

    with caplog.at_level(logging.WARNING, logger="can.bus"):
        with pytest.warns(ResourceWarning, match="scripted test bus.*without shutdown"):
            ScriptedBus.shutdown = observed  # type: ignore[method-assign]
            try:
                del bus
                gc.collect()
            finally:
                ScriptedBus.shutdown = original  # type: ignore[method-assign]
    assert ref() is None
    assert shutdowns == [1]
    assert any("was not shut down" in r.getMessage() for r in caplog.records)


def test_no_warning_for_a_bus_shut_down_or_never_opened() -> None:
    import gc

    with ScriptedBus():
        pass
    ScriptedBus().shutdown()

    class Failing(ScriptedBus):
        def __init__(self) -> None:
            super().__init__()
            _opened.remove(self)
            raise can.CanInitializationError("no device")

    with pytest.raises(can.CanInitializationError):
        Failing()
    gc.collect()  # pytest turns any ResourceWarning here into an error
