"""Type aliases used in the signatures of this library and of interface plug-ins
(python-can 4.x's ``can.typechecking``).

Plug-ins written for python-can 4.x import these at module load (``from can.typechecking import
CanFilters``), so each name exists here with the meaning it has there. They are plain aliases
and :class:`~typing.TypedDict` classes: nothing is checked at run time.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any, NewType, TypedDict, Union

if TYPE_CHECKING:
    import struct

__all__ = [
    "AutoDetectedConfig",
    "BitTimingDict",
    "BitTimingFdDict",
    "BusConfig",
    "CanData",
    "CanFilter",
    "CanFilters",
    "Channel",
    "ChannelInt",
    "ChannelStr",
    "FileLike",
    "ReadableBytesLike",
    "StringPathLike",
    "TAdditionalCliArgs",
    "TDataStructs",
]


class _CanFilterBase(TypedDict):
    can_id: int
    can_mask: int


class CanFilter(_CanFilterBase, total=False):
    """One receive filter: ``can_id`` and ``can_mask``, optionally ``extended``."""

    extended: bool


#: The filters of a bus (see :meth:`can.BusABC.set_filters`).
CanFilters = Sequence[CanFilter]

#: What ``Message(data=...)`` accepts.
CanData = Union[bytes, bytearray, int, Iterable[int]]

#: A channel given as a number (``0``).
ChannelInt = int
#: A channel given as a name (``"can0"``).
ChannelStr = str
#: Any channel: a number, a name, or a sequence of numbers (several channels of one device).
Channel = Union[ChannelInt, ChannelStr, Sequence[ChannelInt]]

#: An open file (text or binary).
FileLike = Union[IO[Any], io.TextIOWrapper, io.BufferedIOBase]
#: A file system path given as a string or a path object.
StringPathLike = Union[str, "os.PathLike[str]"]
#: Bytes that can be read from.
ReadableBytesLike = Union[bytes, bytearray, memoryview]

#: The extra ``--name value`` options a command line script passes on to a bus.
TAdditionalCliArgs = dict[str, Union[str, int, float, bool]]

#: The ``struct`` layouts of a data structure, by key (used by vendor interfaces).
TDataStructs = dict[Union[int, tuple[int, ...]], "Union[struct.Struct, tuple[Any, ...]]"]


class AutoDetectedConfig(TypedDict):
    """One result of :func:`can.detect_available_configs`."""

    interface: str
    channel: Channel


class BitTimingDict(TypedDict):
    """The arguments of a classic CAN bit timing."""

    f_clock: int
    brp: int
    tseg1: int
    tseg2: int
    sjw: int
    nof_samples: int


class BitTimingFdDict(TypedDict):
    """The arguments of a CAN FD bit timing (nominal and data phase)."""

    f_clock: int
    nom_brp: int
    nom_tseg1: int
    nom_tseg2: int
    nom_sjw: int
    data_brp: int
    data_tseg1: int
    data_tseg2: int
    data_sjw: int


#: A bus configuration as :func:`can.util.load_config` returns it: ``interface``, ``channel``
#: and the interface's other settings.
BusConfig = NewType("BusConfig", dict[str, Any])
