"""Bit timing of a CAN controller: :class:`BitTiming` (classic CAN) and :class:`BitTimingFd`.

A bit is cut into time quanta of ``brp / f_clock`` seconds: one quantum of synchronisation
segment, ``tseg1`` quanta before the sample point and ``tseg2`` after it. ``sjw`` is the
largest step by which a resynchronisation may move the sample point. The objects are immutable
mappings of their constructor arguments, so a timing can be passed as ``**timing`` or stored as
a dict, and they compare equal when those arguments are equal.

The arithmetic follows python-can 4.x's classes of the same names (checked side by side in
``tests/test_bit_timing.py``): the same arguments are accepted and refused, the same timings
are found for a bit rate and sample point, and :meth:`BitTiming.oscillator_tolerance` is the
clock tolerance of ISO 11898-1 (section 11.3.1.2 for classic CAN; the five conditions of
CAN FD for :meth:`BitTimingFd.oscillator_tolerance`).

>>> import can
>>> timing = can.BitTiming.from_sample_point(f_clock=8_000_000, bitrate=500_000,
...                                          sample_point=87.5)
>>> timing
can.BitTiming(f_clock=8000000, brp=1, tseg1=13, tseg2=2, sjw=2, nof_samples=1)
>>> hex(timing.btr0), hex(timing.btr1)
('0x40', '0x1c')
>>> timing == can.BitTiming.from_registers(f_clock=8_000_000, btr0=0x40, btr1=0x1C)
True
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, Callable, TypeVar

__all__ = ["BitTiming", "BitTimingFd"]

_T = TypeVar("_T", bound="_Timing")

#: The tolerated difference between the bit rate asked for and the one a timing gives.
_BITRATE_TOLERANCE = 256

#: How far (in percentage points) a recreated timing's sample point may be from the original's.
_SAMPLE_POINT_TOLERANCE = 1.0


def _bitrate_matches(effective: float, requested: float) -> bool:
    return abs(effective - requested) <= requested / _BITRATE_TOLERANCE


def _check_range(name: str, value: Any, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} (={value}) must be in [{low}...{high}]")


def _check_sample_point(name: str, value: float) -> None:
    if value < 50.0:
        raise ValueError(f"the {name} (={value:.2f}%) must be at least 50%")


def _split(bit_time: int, sample_point: float, min_tseg2: int) -> tuple[int, int]:
    """``(tseg1, tseg2)`` for a bit of ``bit_time`` quanta sampled near ``sample_point`` %,
    keeping at least ``min_tseg2`` quanta after the sample point."""
    tseg1 = min(round(sample_point / 100 * bit_time) - 1, bit_time - 1 - min_tseg2)
    return tseg1, bit_time - 1 - tseg1


def _bit_times(f_clock: float, bitrate: float, minimum: int) -> Iterator[tuple[int, int]]:
    """``(brp, bit time in quanta)`` for each prescaler 1..256 whose bit rate is close enough to
    ``bitrate``, while the bit has at least ``minimum`` quanta."""
    if not bitrate > 0:
        raise ValueError(f"the bit rate (={bitrate}) must be positive")
    for brp in range(1, 257):
        bit_time = int(f_clock / (bitrate * brp))
        if bit_time < minimum:
            return
        if _bitrate_matches(f_clock / (bit_time * brp), bitrate):
            yield brp, bit_time


def _check_same_sample_point(f_clock: int, old: float, new: float) -> None:
    if abs(old - new) > _SAMPLE_POINT_TOLERANCE:
        raise ValueError(
            f"no bit timing at f_clock={f_clock} has a sample point within "
            f"{_SAMPLE_POINT_TOLERANCE} percentage points of {old:.2f}% (the closest is {new:.2f}%)"
        )


def _scaled_sjw(sjw: int, old_bit_time: int, new_bit_time: int, tseg2: int) -> int:
    """``sjw`` for a bit of ``new_bit_time`` quanta: the same share of the bit, 1 to ``tseg2``."""
    return min(max(round(sjw * new_bit_time / old_bit_time), 1), tseg2)


def _propagation_segment(tq_ns: float, node_loop_delay_ns: float, bus_length_m: float) -> int:
    # The signal goes to the farthest node and back: 5 ns per metre of cable each way, plus the
    # delay of the transceivers and controller (ISO 11898-1, 11.3.1.1).
    delay_ns = 2 * (node_loop_delay_ns + bus_length_m * 5)
    return math.ceil(delay_ns / tq_ns)


class _Timing(Mapping[str, int]):
    """What :class:`BitTiming` and :class:`BitTimingFd` share: an immutable mapping."""

    __slots__ = ("_data",)
    _data: dict[str, Any]
    _name: str

    def __init__(self, data: dict[str, Any], strict: bool) -> None:
        object.__setattr__(self, "_data", data)
        self._validate()
        if strict:
            self._restrict_to_minimum_range()

    def _validate(self) -> None:
        raise NotImplementedError

    def _restrict_to_minimum_range(self) -> None:
        raise NotImplementedError

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name!r}")

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return type(self), tuple(self._data.values())

    def __getitem__(self, key: str) -> int:
        return self._data[key]  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return False
        return self._data == other._data

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(tuple(self._data.values()))

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value}" for key, value in self._data.items())
        return f"can.{self._name}({args})"

    @property
    def f_clock(self) -> int:
        """The frequency of the CAN controller's clock in Hz."""
        return self._data["f_clock"]  # type: ignore[no-any-return]

    def _clock_text(self) -> str:
        return f"CLK: {self.f_clock / 1_000_000:.0f}MHz"


class BitTiming(_Timing):
    """The bit timing of a classic CAN bus (an SJA1000-style BTR0/BTR1 register pair).

    :param f_clock: the CAN controller's clock in Hz.
    :param brp: the bit rate prescaler, 1 to 64: a time quantum is ``brp / f_clock``.
    :param tseg1: quanta before the sample point (propagation and phase segment 1), 1 to 16.
    :param tseg2: quanta after the sample point (phase segment 2), 1 to 8.
    :param sjw: the synchronisation jump width, 1 to 4 and at most ``tseg2``.
    :param nof_samples: 1, or 3 to sample each bit three times (low bit rates only).
    :param strict: refuse timings outside the range every controller must support
        (8 to 25 quanta per bit, ``brp`` up to 32, 5 kbit/s to 1 Mbit/s).
    :raises ValueError: if a value is out of range or the sample point is below 50 %.

    >>> t = BitTiming(f_clock=8_000_000, brp=1, tseg1=5, tseg2=2, sjw=1)
    >>> t.bitrate, t.sample_point, t.nbt, t.tq
    (1000000, 75.0, 8, 125)
    >>> print(t)
    BR: 1_000_000 bit/s, SP: 75.00%, BRP: 1, TSEG1: 5, TSEG2: 2, SJW: 1, BTR: 0014h, CLK: 8MHz
    >>> dict(t)
    {'f_clock': 8000000, 'brp': 1, 'tseg1': 5, 'tseg2': 2, 'sjw': 1, 'nof_samples': 1}
    """

    __slots__ = ()
    _name = "BitTiming"

    def __init__(
        self,
        f_clock: int,
        brp: int,
        tseg1: int,
        tseg2: int,
        sjw: int,
        nof_samples: int = 1,
        strict: bool = False,
    ) -> None:
        data = {
            "f_clock": f_clock,
            "brp": brp,
            "tseg1": tseg1,
            "tseg2": tseg2,
            "sjw": sjw,
            "nof_samples": nof_samples,
        }
        super().__init__(data, strict)

    def _validate(self) -> None:
        _check_range("the bit rate prescaler", self.brp, 1, 64)
        _check_range("tseg1", self.tseg1, 1, 16)
        _check_range("tseg2", self.tseg2, 1, 8)
        _check_range("sjw", self.sjw, 1, 4)
        if self.sjw > self.tseg2:
            raise ValueError(f"sjw (={self.sjw}) must not be greater than tseg2 (={self.tseg2})")
        _check_sample_point("sample point", self.sample_point)
        if self.nof_samples not in (1, 3):
            raise ValueError(f"nof_samples (={self.nof_samples}) must be 1 or 3")

    def _restrict_to_minimum_range(self) -> None:
        _check_range("the bit time in quanta", self.nbt, 8, 25)
        _check_range("the bit rate prescaler", self.brp, 1, 32)
        _check_range("the bit rate", self.bitrate, 5_000, 1_000_000)

    @classmethod
    def from_bitrate_and_segments(
        cls,
        f_clock: int,
        bitrate: int,
        tseg1: int,
        tseg2: int,
        sjw: int,
        nof_samples: int = 1,
        strict: bool = False,
    ) -> BitTiming:
        """The timing with these segments whose prescaler gives ``bitrate``.

        :raises ValueError: if no prescaler gives ``bitrate`` within 1/256 of it, or the
            timing is not valid.

        >>> BitTiming.from_bitrate_and_segments(8_000_000, 500_000, tseg1=13, tseg2=2, sjw=1).brp
        1
        """
        try:
            brp = round(f_clock / (bitrate * (1 + tseg1 + tseg2)))
        except ZeroDivisionError:
            raise ValueError(
                f"no prescaler for bitrate={bitrate} with tseg1={tseg1}, tseg2={tseg2}"
            ) from None
        timing = cls(f_clock, brp, tseg1, tseg2, sjw, nof_samples, strict)
        if not _bitrate_matches(timing.bitrate, bitrate):
            raise ValueError(
                f"the bit rate these segments give at f_clock={f_clock} ({timing.bitrate}) is "
                f"not the bit rate asked for ({bitrate})"
            )
        return timing

    @classmethod
    def from_registers(cls, f_clock: int, btr0: int, btr1: int) -> BitTiming:
        """The timing that an SJA1000's BTR0 and BTR1 register values select.

        >>> BitTiming.from_registers(f_clock=8_000_000, btr0=0x00, btr1=0x14).bitrate
        1000000
        """
        for name, value in (("btr0", btr0), ("btr1", btr1)):
            if not 0 <= value < 0x10000:
                raise ValueError(f"{name} (={value}) is not a register value (0 to 0xFFFF)")
        return cls(
            f_clock=f_clock,
            brp=(btr0 & 0x3F) + 1,
            tseg1=(btr1 & 0x0F) + 1,
            tseg2=((btr1 >> 4) & 0x07) + 1,
            sjw=(btr0 >> 6) + 1,
            nof_samples=3 if btr1 & 0x80 else 1,
        )

    @classmethod
    def iterate_from_sample_point(
        cls, f_clock: int, bitrate: int, sample_point: float = 69.0
    ) -> Iterator[BitTiming]:
        """Every valid timing (in the strict range) for ``bitrate`` with a sample point near
        ``sample_point`` percent, by increasing prescaler.

        :raises ValueError: if ``sample_point`` is below 50.
        """
        if sample_point < 50.0:
            raise ValueError(f"sample_point (={sample_point}) must not be below 50%")
        for brp, nbt in _bit_times(f_clock, bitrate, 8):
            tseg1, tseg2 = _split(nbt, sample_point, 1)
            try:
                yield cls(f_clock, brp, tseg1, tseg2, sjw=min(tseg2, 4), strict=True)
            except ValueError:
                continue

    @classmethod
    def from_sample_point(cls, f_clock: int, bitrate: int, sample_point: float = 69.0) -> BitTiming:
        """The timing for ``bitrate`` whose sample point is closest to ``sample_point`` percent
        (the lowest prescaler among equally close ones).

        :raises ValueError: if there is none.
        """
        found = list(cls.iterate_from_sample_point(f_clock, bitrate, sample_point))
        if not found:
            raise ValueError(
                f"no bit timing for bitrate={bitrate} at f_clock={f_clock} with "
                f"sample_point={sample_point}"
            )
        return min(found, key=lambda t: abs(t.sample_point - sample_point))

    @property
    def brp(self) -> int:
        """The bit rate prescaler."""
        return self._data["brp"]  # type: ignore[no-any-return]

    @property
    def tseg1(self) -> int:
        """Time quanta before the sample point, after the synchronisation segment."""
        return self._data["tseg1"]  # type: ignore[no-any-return]

    @property
    def tseg2(self) -> int:
        """Time quanta after the sample point."""
        return self._data["tseg2"]  # type: ignore[no-any-return]

    @property
    def sjw(self) -> int:
        """The synchronisation jump width in time quanta."""
        return self._data["sjw"]  # type: ignore[no-any-return]

    @property
    def nof_samples(self) -> int:
        """Samples taken of each bit: 1 or 3."""
        return self._data["nof_samples"]  # type: ignore[no-any-return]

    @property
    def nbt(self) -> int:
        """The nominal bit time in time quanta."""
        return 1 + self.tseg1 + self.tseg2

    @property
    def bitrate(self) -> int:
        """The bit rate in bit/s, rounded."""
        return round(self.f_clock / (self.brp * self.nbt))

    @property
    def sample_point(self) -> float:
        """Where in the bit it is sampled, in percent."""
        return 100.0 * (1 + self.tseg1) / self.nbt

    @property
    def tq(self) -> int:
        """The time quantum in nanoseconds, rounded."""
        return round(self.brp / self.f_clock * 1e9)

    @property
    def btr0(self) -> int:
        """The SJA1000's BTR0 register: SJW - 1 in bits 7-6, BRP - 1 in bits 5-0."""
        return (self.sjw - 1) << 6 | (self.brp - 1)

    @property
    def btr1(self) -> int:
        """The SJA1000's BTR1 register: triple sampling in bit 7, TSEG2 - 1 in bits 6-4, TSEG1 - 1
        in bits 3-0."""
        sam = 1 if self.nof_samples == 3 else 0
        return sam << 7 | (self.tseg2 - 1) << 4 | (self.tseg1 - 1)

    def oscillator_tolerance(
        self, node_loop_delay_ns: float = 250.0, bus_length_m: float = 10.0
    ) -> float:
        """The largest deviation of the oscillators from their nominal frequency, in percent,
        with which nodes of this timing still synchronise (ISO 11898-1, 11.3.1.2).

        The propagation segment is what the bus needs: twice the node loop delay plus 5 ns per
        metre of cable each way; the rest of ``tseg1`` is phase segment 1.

        >>> BitTiming(f_clock=8_000_000, brp=2, tseg1=13, tseg2=2, sjw=1).oscillator_tolerance()
        0.3125
        """
        prop = _propagation_segment(self.tq, node_loop_delay_ns, bus_length_m)
        phase1 = max(self.tseg1 - prop, 0)
        phase2 = self.tseg2
        df1 = min(phase1, phase2) / (2 * (13 * self.nbt - phase2))
        df2 = self.sjw / (20 * self.nbt)
        return max(100 * min(df1, df2), 0.0)

    def recreate_with_f_clock(self, f_clock: int) -> BitTiming:
        """The same bit rate and (within a percentage point) sample point with a controller clock
        of ``f_clock`` Hz.

        The segments are kept if a prescaler gives the bit rate with them (in the strict range);
        otherwise the timing :meth:`from_sample_point` finds is taken, with ``sjw`` scaled to the
        new bit time. ``nof_samples`` is kept.

        :raises ValueError: if no timing at ``f_clock`` has this bit rate and sample point.

        >>> BitTiming(8_000_000, brp=1, tseg1=5, tseg2=2, sjw=1).recreate_with_f_clock(16_000_000)
        can.BitTiming(f_clock=16000000, brp=2, tseg1=5, tseg2=2, sjw=1, nof_samples=1)
        """
        try:
            return self.from_bitrate_and_segments(
                f_clock,
                self.bitrate,
                self.tseg1,
                self.tseg2,
                self.sjw,
                self.nof_samples,
                strict=True,
            )
        except ValueError:
            pass
        found = self.from_sample_point(f_clock, self.bitrate, self.sample_point)
        _check_same_sample_point(f_clock, self.sample_point, found.sample_point)
        return BitTiming(
            f_clock,
            found.brp,
            found.tseg1,
            found.tseg2,
            min(_scaled_sjw(self.sjw, self.nbt, found.nbt, found.tseg2), 4),
            self.nof_samples,
        )

    def __str__(self) -> str:
        return (
            f"BR: {self.bitrate:_} bit/s, SP: {self.sample_point:.2f}%, BRP: {self.brp}, "
            f"TSEG1: {self.tseg1}, TSEG2: {self.tseg2}, SJW: {self.sjw}, "
            f"BTR: {self.btr0:02X}{self.btr1:02X}h, {self._clock_text()}"
        )


class BitTimingFd(_Timing):
    """The bit timing of a CAN FD bus: a nominal (arbitration) and a data phase.

    :param f_clock: the CAN controller's clock in Hz.
    :param nom_brp: the prescaler of the nominal phase, at least 1.
    :param nom_tseg1: nominal quanta before the sample point.
    :param nom_tseg2: nominal quanta after the sample point.
    :param nom_sjw: the nominal synchronisation jump width, at most ``nom_tseg2``.
    :param data_brp: the prescaler of the data phase, at least 1.
    :param data_tseg1: data-phase quanta before the sample point.
    :param data_tseg2: data-phase quanta after the sample point.
    :param data_sjw: the data-phase synchronisation jump width, at most ``data_tseg2``.
    :param strict: refuse timings outside the range every CAN FD controller must support
        (CiA 601-3: 8 to 80 nominal and 5 to 25 data quanta per bit, and so on).
    :raises ValueError: if a value is out of range, a sample point is below 50 % or the data
        bit rate is below the nominal one.

    >>> t = BitTimingFd(f_clock=80_000_000, nom_brp=1, nom_tseg1=119, nom_tseg2=40, nom_sjw=40,
    ...                 data_brp=1, data_tseg1=29, data_tseg2=10, data_sjw=10)
    >>> t.nom_bitrate, t.data_bitrate, t.nom_sample_point, t.data_sample_point
    (500000, 2000000, 75.0, 75.0)
    """

    __slots__ = ()
    _name = "BitTimingFd"

    def __init__(
        self,
        f_clock: int,
        nom_brp: int,
        nom_tseg1: int,
        nom_tseg2: int,
        nom_sjw: int,
        data_brp: int,
        data_tseg1: int,
        data_tseg2: int,
        data_sjw: int,
        strict: bool = False,
    ) -> None:
        data = {
            "f_clock": f_clock,
            "nom_brp": nom_brp,
            "nom_tseg1": nom_tseg1,
            "nom_tseg2": nom_tseg2,
            "nom_sjw": nom_sjw,
            "data_brp": data_brp,
            "data_tseg1": data_tseg1,
            "data_tseg2": data_tseg2,
            "data_sjw": data_sjw,
        }
        super().__init__(data, strict)

    def _validate(self) -> None:
        for name in ("nom_brp", "data_brp"):
            value = self._data[name]
            if not value >= 1:
                raise ValueError(f"{name} (={value}) must be at least 1")
        if self.nom_sjw > self.nom_tseg2:
            raise ValueError(
                f"nom_sjw (={self.nom_sjw}) must not be greater than nom_tseg2 (={self.nom_tseg2})"
            )
        if self.data_sjw > self.data_tseg2:
            raise ValueError(
                f"data_sjw (={self.data_sjw}) must not be greater than "
                f"data_tseg2 (={self.data_tseg2})"
            )
        _check_sample_point("nominal sample point", self.nom_sample_point)
        _check_sample_point("data sample point", self.data_sample_point)
        if self.data_bitrate < self.nom_bitrate:
            raise ValueError(
                f"the data bit rate (={self.data_bitrate}) must not be below the nominal bit "
                f"rate (={self.nom_bitrate})"
            )

    def _restrict_to_minimum_range(self) -> None:
        _check_range("the nominal bit time in quanta", self.nbt, 8, 80)
        _check_range("the data bit time in quanta", self.dbt, 5, 25)
        # A controller that runs both phases on one prescaler must support longer nominal
        # segments than one with a prescaler per phase.
        same_brp = self.nom_brp == self.data_brp
        _check_range("nom_tseg1", self.nom_tseg1, 2, 256 if same_brp else 64)
        _check_range("nom_tseg2", self.nom_tseg2, 2, 32 if same_brp else 16)
        _check_range("nom_sjw", self.nom_sjw, 1, 32)
        _check_range("data_tseg1", self.data_tseg1, 1, 16)
        _check_range("data_tseg2", self.data_tseg2, 2, 8)
        _check_range("data_sjw", self.data_sjw, 1, 8)

    @classmethod
    def from_bitrate_and_segments(
        cls,
        f_clock: int,
        nom_bitrate: int,
        nom_tseg1: int,
        nom_tseg2: int,
        nom_sjw: int,
        data_bitrate: int,
        data_tseg1: int,
        data_tseg2: int,
        data_sjw: int,
        strict: bool = False,
    ) -> BitTimingFd:
        """The timing with these segments whose prescalers give the two bit rates.

        :raises ValueError: if no prescaler gives a bit rate within 1/256 of the one asked for,
            or the timing is not valid.
        """
        try:
            nom_brp = round(f_clock / (nom_bitrate * (1 + nom_tseg1 + nom_tseg2)))
            data_brp = round(f_clock / (data_bitrate * (1 + data_tseg1 + data_tseg2)))
        except ZeroDivisionError:
            raise ValueError(
                f"no prescalers for nom_bitrate={nom_bitrate} and data_bitrate={data_bitrate} "
                "with these segments"
            ) from None
        timing = cls(
            f_clock,
            nom_brp,
            nom_tseg1,
            nom_tseg2,
            nom_sjw,
            data_brp,
            data_tseg1,
            data_tseg2,
            data_sjw,
            strict=strict,
        )
        for name, effective, requested in (
            ("nominal", timing.nom_bitrate, nom_bitrate),
            ("data", timing.data_bitrate, data_bitrate),
        ):
            if not _bitrate_matches(effective, requested):
                raise ValueError(
                    f"the {name} bit rate these segments give at f_clock={f_clock} "
                    f"({effective}) is not the one asked for ({requested})"
                )
        return timing

    @classmethod
    def iterate_from_sample_point(
        cls,
        f_clock: int,
        nom_bitrate: int,
        nom_sample_point: float,
        data_bitrate: int,
        data_sample_point: float,
    ) -> Iterator[BitTimingFd]:
        """Every valid timing (in the strict range) for the two bit rates with sample points
        near the ones asked for, by increasing nominal, then data prescaler.

        :raises ValueError: if a sample point is below 50.
        """
        if nom_sample_point < 50.0:
            raise ValueError(f"nom_sample_point (={nom_sample_point}) must not be below 50%")
        if data_sample_point < 50.0:
            raise ValueError(f"data_sample_point (={data_sample_point}) must not be below 50%")
        data_times = list(_bit_times(f_clock, data_bitrate, 5))
        for nom_brp, nbt in _bit_times(f_clock, nom_bitrate, 8):
            nom_tseg1, nom_tseg2 = _split(nbt, nom_sample_point, 2)
            for data_brp, dbt in data_times:
                data_tseg1, data_tseg2 = _split(dbt, data_sample_point, 2)
                try:
                    yield cls(
                        f_clock,
                        nom_brp,
                        nom_tseg1,
                        nom_tseg2,
                        nom_tseg2,
                        data_brp,
                        data_tseg1,
                        data_tseg2,
                        data_tseg2,
                        strict=True,
                    )
                except ValueError:
                    continue

    @classmethod
    def from_sample_point(
        cls,
        f_clock: int,
        nom_bitrate: int,
        nom_sample_point: float,
        data_bitrate: int,
        data_sample_point: float,
    ) -> BitTimingFd:
        """The timing for the two bit rates whose sample points are closest to the ones asked
        for: one with the same prescaler for both phases if there is one, then the least sum of
        the two sample point errors, then the closest prescalers.

        :raises ValueError: if there is none.
        """
        found = list(
            cls.iterate_from_sample_point(
                f_clock, nom_bitrate, nom_sample_point, data_bitrate, data_sample_point
            )
        )
        if not found:
            raise ValueError(
                f"no bit timing for nom_bitrate={nom_bitrate} and data_bitrate={data_bitrate} "
                f"at f_clock={f_clock} with these sample points"
            )
        return min(
            found,
            key=lambda t: (
                t.nom_brp != t.data_brp,
                abs(t.nom_sample_point - nom_sample_point)
                + abs(t.data_sample_point - data_sample_point),
                abs(t.nom_brp - t.data_brp),
            ),
        )

    def _get(self, name: str) -> int:
        return self._data[name]  # type: ignore[no-any-return]

    @property
    def nom_brp(self) -> int:
        """The prescaler of the nominal phase."""
        return self._get("nom_brp")

    @property
    def nom_tseg1(self) -> int:
        """Nominal time quanta before the sample point."""
        return self._get("nom_tseg1")

    @property
    def nom_tseg2(self) -> int:
        """Nominal time quanta after the sample point."""
        return self._get("nom_tseg2")

    @property
    def nom_sjw(self) -> int:
        """The nominal synchronisation jump width."""
        return self._get("nom_sjw")

    @property
    def data_brp(self) -> int:
        """The prescaler of the data phase."""
        return self._get("data_brp")

    @property
    def data_tseg1(self) -> int:
        """Data-phase time quanta before the sample point."""
        return self._get("data_tseg1")

    @property
    def data_tseg2(self) -> int:
        """Data-phase time quanta after the sample point."""
        return self._get("data_tseg2")

    @property
    def data_sjw(self) -> int:
        """The data-phase synchronisation jump width."""
        return self._get("data_sjw")

    @property
    def nbt(self) -> int:
        """The nominal bit time in time quanta."""
        return 1 + self.nom_tseg1 + self.nom_tseg2

    @property
    def dbt(self) -> int:
        """The data bit time in time quanta."""
        return 1 + self.data_tseg1 + self.data_tseg2

    @property
    def nom_bitrate(self) -> int:
        """The nominal bit rate in bit/s, rounded."""
        return round(self.f_clock / (self.nom_brp * self.nbt))

    @property
    def data_bitrate(self) -> int:
        """The data bit rate in bit/s, rounded."""
        return round(self.f_clock / (self.data_brp * self.dbt))

    @property
    def nom_sample_point(self) -> float:
        """The nominal sample point in percent."""
        return 100.0 * (1 + self.nom_tseg1) / self.nbt

    @property
    def data_sample_point(self) -> float:
        """The data-phase sample point in percent."""
        return 100.0 * (1 + self.data_tseg1) / self.dbt

    @property
    def nom_tq(self) -> int:
        """The nominal time quantum in nanoseconds, rounded."""
        return round(self.nom_brp / self.f_clock * 1e9)

    @property
    def data_tq(self) -> int:
        """The data-phase time quantum in nanoseconds, rounded."""
        return round(self.data_brp / self.f_clock * 1e9)

    def oscillator_tolerance(
        self, node_loop_delay_ns: float = 250.0, bus_length_m: float = 10.0
    ) -> float:
        """The largest oscillator deviation in percent with which nodes of this timing still
        synchronise: the least of the five CAN FD conditions of ISO 11898-1 (11.3.1.2). The
        data phase has no propagation segment (the transmitter delay is compensated).
        """
        prop = _propagation_segment(self.nom_tq, node_loop_delay_ns, bus_length_m)
        nom_phase1 = max(self.nom_tseg1 - prop, 0)
        nom_phase2 = self.nom_tseg2
        data_phase2 = self.data_tseg2
        nbt, dbt = self.nbt, self.dbt
        ratio = self.nom_brp / self.data_brp  # data quanta per nominal quantum
        nom_min = min(nom_phase1, nom_phase2)
        conditions = (
            nom_min / (2 * (13 * nbt - nom_phase2)),
            self.nom_sjw / (20 * nbt),
            self.data_sjw / (20 * dbt),
            nom_min / (2 * ((6 * dbt - data_phase2) / ratio + 7 * nbt)),
            (self.data_sjw - max(0.0, ratio - 1))
            / (2 * ((2 * nbt - nom_phase2) * ratio + data_phase2 + 4 * dbt)),
        )
        return max(100 * min(conditions), 0.0)

    def recreate_with_f_clock(self, f_clock: int) -> BitTimingFd:
        """The same bit rates and (within a percentage point) sample points with a controller
        clock of ``f_clock`` Hz: the segments are kept if prescalers give the bit rates with them
        (in the strict range), otherwise the timing :meth:`from_sample_point` finds is taken,
        with the synchronisation jump widths scaled to the new bit times.

        :raises ValueError: if no timing at ``f_clock`` has these bit rates and sample points.
        """
        try:
            return self.from_bitrate_and_segments(
                f_clock,
                self.nom_bitrate,
                self.nom_tseg1,
                self.nom_tseg2,
                self.nom_sjw,
                self.data_bitrate,
                self.data_tseg1,
                self.data_tseg2,
                self.data_sjw,
                strict=True,
            )
        except ValueError:
            pass
        found = self.from_sample_point(
            f_clock,
            self.nom_bitrate,
            self.nom_sample_point,
            self.data_bitrate,
            self.data_sample_point,
        )
        _check_same_sample_point(f_clock, self.nom_sample_point, found.nom_sample_point)
        _check_same_sample_point(f_clock, self.data_sample_point, found.data_sample_point)
        return BitTimingFd(
            f_clock,
            found.nom_brp,
            found.nom_tseg1,
            found.nom_tseg2,
            _scaled_sjw(self.nom_sjw, self.nbt, found.nbt, found.nom_tseg2),
            found.data_brp,
            found.data_tseg1,
            found.data_tseg2,
            _scaled_sjw(self.data_sjw, self.dbt, found.dbt, found.data_tseg2),
        )

    def __str__(self) -> str:
        return (
            f"NBR: {self.nom_bitrate:_} bit/s, NSP: {self.nom_sample_point:.2f}%, "
            f"NBRP: {self.nom_brp}, NTSEG1: {self.nom_tseg1}, NTSEG2: {self.nom_tseg2}, "
            f"NSJW: {self.nom_sjw}, DBR: {self.data_bitrate:_} bit/s, "
            f"DSP: {self.data_sample_point:.2f}%, DBRP: {self.data_brp}, "
            f"DTSEG1: {self.data_tseg1}, DTSEG2: {self.data_tseg2}, DSJW: {self.data_sjw}, "
            f"{self._clock_text()}"
        )
