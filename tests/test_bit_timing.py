"""can.BitTiming and can.BitTimingFd (python-can 4.x, issue 13 item 10).

Known values come from the SJA1000 data sheet's register tables and from hand computation; the
rest is compared with python-can 4.x: a few thousand seeded random inputs (valid and invalid)
go through every constructor and classmethod in both libraries, each in an interpreter of its
own, and what each accepts, refuses and computes must be the same.
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import pickle
import random
import subprocess
import sys
from typing import Any

import pytest

import can
from can.bit_timing import BitTiming

ROOT = pathlib.Path(__file__).resolve().parents[1]
REF_PYTHON = pathlib.Path(
    os.environ.get("CAN_REF_PYTHON", ROOT / "build" / "ref-venv" / "bin" / "python")
)


# -- known values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("f_clock", "btr0", "btr1", "bitrate", "sample_point"),
    [
        # SJA1000 with the usual 16 MHz crystal, whose CAN clock is half of it: the register
        # pairs of the common bit rates
        (8_000_000, 0x00, 0x14, 1_000_000, 75.0),
        (8_000_000, 0x00, 0x1C, 500_000, 87.5),
        (8_000_000, 0x01, 0x1C, 250_000, 87.5),
        (8_000_000, 0x03, 0x1C, 125_000, 87.5),
        (8_000_000, 0x31, 0x1C, 10_000, 87.5),
    ],
)
def test_registers_of_the_sja1000(
    f_clock: int, btr0: int, btr1: int, bitrate: int, sample_point: float
) -> None:
    timing = BitTiming.from_registers(f_clock, btr0, btr1)
    assert (timing.bitrate, timing.sample_point) == (bitrate, sample_point)
    assert (timing.btr0, timing.btr1) == (btr0, btr1)


def test_properties_computed_by_hand() -> None:
    t = can.BitTiming(f_clock=8_000_000, brp=2, tseg1=13, tseg2=2, sjw=1)
    # 16 quanta of 250 ns: 4 us per bit; sampled after 14 of 16 quanta
    assert (t.nbt, t.tq, t.bitrate, t.sample_point) == (16, 250, 250_000, 87.5)
    # ISO 11898-1: min(phase1, phase2) / (2 (13 nbt - phase2)) = 2/412 and sjw / (20 nbt) = 1/320
    assert t.oscillator_tolerance() == pytest.approx(100 / 320)
    fd = can.BitTimingFd(
        f_clock=40_000_000,
        nom_brp=1,
        nom_tseg1=59,
        nom_tseg2=20,
        nom_sjw=20,
        data_brp=1,
        data_tseg1=3,
        data_tseg2=1,
        data_sjw=1,
    )
    assert (fd.nbt, fd.dbt, fd.nom_bitrate, fd.data_bitrate) == (80, 5, 500_000, 8_000_000)
    # the fifth CAN FD condition binds: sjw_d / (2 ((2 nbt - ps2_n) + ps2_d + 4 dbt)) = 1/322
    assert fd.oscillator_tolerance() == pytest.approx(100 / 322)


def test_a_timing_is_an_immutable_hashable_mapping() -> None:
    t = can.BitTiming(f_clock=8_000_000, brp=1, tseg1=5, tseg2=2, sjw=1)
    assert dict(t) == {
        "f_clock": 8_000_000,
        "brp": 1,
        "tseg1": 5,
        "tseg2": 2,
        "sjw": 1,
        "nof_samples": 1,
    }
    assert can.BitTiming(**t) == t
    assert hash(can.BitTiming(**t)) == hash(t)
    assert t != dict(t)
    assert t != can.BitTiming(**{**t, "nof_samples": 3})
    assert pickle.loads(pickle.dumps(t)) == t
    assert copy.deepcopy(t) == t
    with pytest.raises(AttributeError):
        t.brp = 2  # type: ignore[misc]
    assert len({t, can.BitTiming(**t)}) == 1


def test_check_or_adjust_timing_clock_with_the_real_classes() -> None:
    t = can.BitTiming(f_clock=8_000_000, brp=1, tseg1=13, tseg2=2, sjw=1)
    assert can.util.check_or_adjust_timing_clock(t, [8_000_000, 16_000_000]) == t
    with pytest.warns(UserWarning, match="adjusted to 16000000"):
        adjusted = can.util.check_or_adjust_timing_clock(t, [16_000_000])
    assert (adjusted.f_clock, adjusted.bitrate, adjusted.sample_point) == (
        16_000_000,
        500_000,
        87.5,
    )
    with pytest.raises(can.CanInitializationError):
        can.util.check_or_adjust_timing_clock(t, [7_000_000])


def test_a_zero_bit_rate_is_a_value_error() -> None:
    # python-can 4.x raises ZeroDivisionError here (docs/compatibility.rst)
    with pytest.raises(ValueError, match="bit rate"):
        can.BitTiming.from_sample_point(8_000_000, 0)
    with pytest.raises(ValueError, match="bit rate"):
        can.BitTimingFd.from_sample_point(80_000_000, 0, 75, 2_000_000, 75)


# -- side by side with python-can 4.x ------------------------------------------------------------

_EVALUATE = r"""
import json, sys
from can import BitTiming, BitTimingFd

def describe(t):
    if isinstance(t, BitTiming):
        extra = [t.nbt, t.bitrate, t.sample_point, t.tq, t.btr0, t.btr1]
    else:
        extra = [t.nbt, t.dbt, t.nom_bitrate, t.data_bitrate, t.nom_sample_point,
                 t.data_sample_point, t.nom_tq, t.data_tq]
    return [type(t).__name__, str(t), repr(t), dict(t), extra,
            round(t.oscillator_tolerance(), 9), round(t.oscillator_tolerance(100.0, 40.0), 9),
            hash(t) == hash(type(t)(**t))]

def run(op, args):
    if op == "B":
        return describe(BitTiming(*args))
    if op == "F":
        return describe(BitTimingFd(*args))
    if op == "B-clock":
        return describe(BitTiming(*args[:-1]).recreate_with_f_clock(args[-1]))
    if op == "F-clock":
        return describe(BitTimingFd(*args[:-1]).recreate_with_f_clock(args[-1]))
    if op == "B-sp":
        return describe(BitTiming.from_sample_point(*args))
    if op == "B-iter":
        return [repr(t) for t in BitTiming.iterate_from_sample_point(*args)]
    if op == "F-sp":
        return describe(BitTimingFd.from_sample_point(*args))
    if op == "F-iter":
        return [repr(t) for t in BitTimingFd.iterate_from_sample_point(*args)]
    if op == "B-seg":
        return describe(BitTiming.from_bitrate_and_segments(*args))
    if op == "F-seg":
        return describe(BitTimingFd.from_bitrate_and_segments(*args))
    if op == "B-reg":
        return describe(BitTiming.from_registers(*args))
    raise AssertionError(op)

results = []
for op, args in json.load(sys.stdin):
    try:
        results.append(["ok", run(op, args)])
    except Exception as e:
        results.append(["raises", type(e).__name__])
json.dump(results, sys.stdout)
"""

_CLOCKS = [8_000_000, 16_000_000, 20_000_000, 24_000_000, 36_000_000, 40_000_000]
_CLOCKS += [48_000_000, 60_000_000, 80_000_000, 160_000_000]
_RATES = [10_000, 33_333, 50_000, 83_333, 100_000, 125_000, 250_000, 500_000, 800_000, 1_000_000]
_DATA_RATES = [500_000, 1_000_000, 2_000_000, 4_000_000, 5_000_000, 8_000_000]
_SAMPLE_POINTS = [40, 50, 60, 62.5, 66.7, 69, 75, 80, 81.25, 87.5, 90, 99]


def _cases(seed: int) -> list[tuple[str, list[Any]]]:
    """Inputs around every limit: out-of-range and borderline values as well as valid ones."""
    rnd = random.Random(seed)
    brps = [0, 1, 1, 1, 2, 2, 3, 4, 5, 8, 10]
    cases: list[tuple[str, list[Any]]] = []
    for _ in range(500):
        classic = [
            rnd.choice(_CLOCKS),
            rnd.randint(0, 70),
            rnd.randint(0, 20),
            rnd.randint(0, 10),
            rnd.randint(0, 6),
            rnd.choice([1, 1, 3, 2]),
            rnd.random() < 0.5,
        ]
        cases.append(("B", classic))
        cases.append(("B-clock", [*classic, rnd.choice(_CLOCKS)]))
        fd = [
            rnd.choice(_CLOCKS),
            rnd.choice(brps),
            rnd.randint(0, 140),
            rnd.randint(0, 40),
            rnd.randint(0, 40),
            rnd.choice(brps),
            rnd.randint(0, 35),
            rnd.randint(0, 18),
            rnd.randint(0, 18),
            rnd.random() < 0.5,
        ]
        cases.append(("F", fd))
        cases.append(("F-clock", [*fd, rnd.choice(_CLOCKS)]))
    for _ in range(300):
        args = [rnd.choice(_CLOCKS), rnd.choice(_RATES), rnd.choice(_SAMPLE_POINTS)]
        cases.append(("B-sp", args))
        cases.append(("B-iter", args))
        t1, t2 = rnd.randint(1, 17), rnd.randint(1, 9)
        cases.append(("B-seg", [args[0], args[1], t1, t2, min(t2, 3), rnd.choice([1, 3])]))
    for _ in range(120):
        args = [rnd.choice(_CLOCKS), rnd.choice(_RATES[2:]), rnd.choice(_SAMPLE_POINTS)]
        args += [rnd.choice(_DATA_RATES), rnd.choice(_SAMPLE_POINTS)]
        cases.append(("F-sp", args))
        if rnd.random() < 0.2:
            cases.append(("F-iter", args))
        t1, t2, d1, d2 = (
            rnd.randint(5, 80),
            rnd.randint(2, 30),
            rnd.randint(2, 20),
            rnd.randint(2, 8),
        )
        # bit rates that these segments give with some prescaler, off by up to 1 % (the limit
        # is 1/256)
        f_clock = args[0]
        nom = f_clock / (rnd.randint(1, 8) * (1 + t1 + t2)) * rnd.uniform(0.99, 1.01)
        data = f_clock / (rnd.randint(1, 4) * (1 + d1 + d2)) * rnd.uniform(0.99, 1.01)
        cases.append(
            (
                "F-seg",
                [f_clock, round(nom), t1, t2, min(t2, 4), round(data), d1, d2, min(d2, 2), False],
            )
        )
    for _ in range(300):
        btr0 = rnd.choice([rnd.randint(0, 255), -1, 256, 0xFFFF, 0x10000])
        btr1 = rnd.choice([rnd.randint(0, 255), rnd.randint(0, 255), -1, 256, 0x10000])
        cases.append(("B-reg", [rnd.choice(_CLOCKS), btr0, btr1]))
    return cases


def _evaluate(python: str, cases: list[tuple[str, list[Any]]]) -> list[Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAN_")}
    if python != sys.executable:
        env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [python, "-c", _EVALUATE],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=100,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("seed", [1, 2])
def test_same_results_as_python_can(seed: int) -> None:
    if not REF_PYTHON.exists():
        pytest.skip(
            f"no reference python-can interpreter at {REF_PYTHON} (run `make ref-venv` or set "
            "CAN_REF_PYTHON)"
        )
    cases = _cases(seed)
    ours = _evaluate(sys.executable, cases)
    ref = _evaluate(str(REF_PYTHON), cases)
    differing = [(case, o, r) for case, o, r in zip(cases, ours, ref) if o != r]
    assert not differing[:5], f"{len(differing)} of {len(cases)} differ"
    # the inputs reach both outcomes of every kind of call
    for op in ("B", "F", "B-clock", "F-clock", "B-sp", "F-sp", "B-seg", "F-seg", "B-reg"):
        outcomes = {r[0] for (kind, _), r in zip(cases, ref) if kind == op}
        assert outcomes == {"ok", "raises"}, (op, outcomes)
