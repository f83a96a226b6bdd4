"""can.MessageSync: messages handed out with their recorded timing."""

from __future__ import annotations

import time

import pytest

import can


def replay(msgs: list[can.Message], **kwargs: float) -> list[float]:
    start = time.perf_counter()
    return [time.perf_counter() - start for _ in can.MessageSync(msgs, **kwargs)]  # type: ignore[arg-type]


def stamps(*ts: float) -> list[can.Message]:
    return [can.Message(timestamp=t) for t in ts]


def test_recorded_timing_is_kept() -> None:
    got = replay(stamps(50.0, 50.1, 50.25, 50.3))
    want = [0.0, 0.1, 0.25, 0.3]
    for g, w in zip(got, want):
        # never early; late by at most a scheduling slice on a loaded machine
        assert w - 0.002 <= g <= w + 0.05, (got, want)


def test_long_pauses_are_cut_to_skip() -> None:
    got = replay(stamps(0.0, 0.05, 1000.0, 1000.05), skip=0.1)
    # the 999.95 s pause becomes 0.1 s; the rest keeps its spacing
    for g, w in zip(got, [0.0, 0.05, 0.15, 0.2]):
        assert w - 0.002 <= g <= w + 0.05, got


def test_without_timestamps_gap_seconds_apart() -> None:
    got = replay(stamps(0.0, 500.0, 3.0), timestamps=False, gap=0.05)
    for g, w in zip(got, [0.05, 0.1, 0.15]):
        assert w - 0.002 <= g <= w + 0.05, got


def test_out_of_order_timestamps_do_not_wait() -> None:
    got = replay(stamps(10.0, 10.1, 5.0))
    assert got[2] - got[1] < 0.05


@pytest.mark.parametrize("n", [0, 1])
def test_short_inputs(n: int) -> None:
    assert len(list(can.MessageSync(stamps(*range(n))))) == n


def test_default_arguments() -> None:
    sync = can.MessageSync([])
    assert (sync.timestamps, sync.gap, sync.skip) == (True, 0.0001, 60.0)
