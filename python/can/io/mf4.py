"""ASAM MDF 4 files of CAN traffic (``.mf4``), through the optional package asammdf.

The messages are stored as the ASAM MDF 4 bus logging scheme lays out a CAN bus: one channel
group per kind of frame, each with a float64 master channel ``time`` (seconds after the
measurement start in the file header) and one structure channel named after the kind, whose
members are channels of their own:

===================  ===================================================================
channel group        members (all unsigned, little endian)
===================  ===================================================================
``CAN_DataFrame``    ``BusChannel`` (u8), ``ID`` (u32), ``IDE`` (u8), ``DLC`` (u8),
                     ``DataLength`` (u8), ``DataBytes`` (64 x u8), ``Dir`` (u8),
                     ``EDL`` (u8), ``BRS`` (u8), ``ESI`` (u8)
``CAN_ErrorFrame``   the same members as ``CAN_DataFrame``
``CAN_RemoteFrame``  ``BusChannel``, ``ID``, ``IDE``, ``DLC``, ``DataLength``, ``Dir``
===================  ===================================================================

each member named ``<kind>.<member>`` (``CAN_DataFrame.ID``); the channel groups are acquired
from a source of type bus, bus type CAN, so asammdf and other MDF tools see them as CAN bus
events. This is the layout python-can 4.x writes, so files go both ways.

What the format keeps of a :class:`can.Message`: the timestamp, the id and its type, the remote
and error flags, the DLC, the data (of error frames too), the CAN FD flags, the direction
(``Dir`` 0 is received, 1 transmitted) and the channel as a number 0..255: a channel given as a
string is stored as the number it ends with (``"can1"`` is 1) and None, or a string without a
number, as 0. Frames of each kind are kept in the order written, but the kinds are stored
apart: a reader merges them by timestamp (as python-can 4.x does), so frames of equal
timestamps come as data frames, then error frames, then remote frames, whatever order they were
written in.

asammdf is imported only when a reader or writer is created (``import can`` does not import it),
and a missing asammdf is a :class:`MF4NotAvailableError` naming ``pip install can[mf4]``.
"""

from __future__ import annotations

import datetime
import heapq
import math
import os
import struct
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO, Optional, Union

from can._core import len2dlc, new_message_from_fields
from can.exceptions import CanError, CanInterfaceNotImplementedError
from can.io.generic import FileIOMessageWriter, MessageReader, _stop_at_exit
from can.message import Message

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["MF4NotAvailableError", "MF4ParseError", "MF4Reader", "MF4Writer"]

StrPath = Union[str, "os.PathLike[str]"]

#: The ASAM MDF 4 source type "bus" and bus type "CAN" of a source information block.
_SOURCE_BUS = 2
_BUS_CAN = 2

_DATA, _ERROR, _REMOTE = "CAN_DataFrame", "CAN_ErrorFrame", "CAN_RemoteFrame"
#: The kinds in the order frames of equal timestamps are read.
_KINDS = (_DATA, _ERROR, _REMOTE)
_FULL_MEMBERS = (
    ("BusChannel", "<u1"),
    ("ID", "<u4"),
    ("IDE", "<u1"),
    ("DLC", "<u1"),
    ("DataLength", "<u1"),
    ("DataBytes", "(64,)u1"),
    ("Dir", "<u1"),
    ("EDL", "<u1"),
    ("BRS", "<u1"),
    ("ESI", "<u1"),
)
_REMOTE_MEMBERS = (
    ("BusChannel", "<u1"),
    ("ID", "<u4"),
    ("IDE", "<u1"),
    ("DLC", "<u1"),
    ("DataLength", "<u1"),
    ("Dir", "<u1"),
)
#: The record of each kind as struct packs it: the same bytes as the members above.
_FULL_RECORD = struct.Struct("<BIBBB64sBBBB")
_REMOTE_RECORD = struct.Struct("<BIBBBB")
#: Messages buffered before they are handed to asammdf.
_BATCH = 20_000

_INSTALL_HINT = "pip install can[mf4]"


class MF4NotAvailableError(CanInterfaceNotImplementedError):
    """MF4 files need the optional package asammdf, which is not installed.

    Install it with ``pip install can[mf4]``. The asammdf :class:`ImportError` is chained as
    the cause. Being a :class:`can.CanInterfaceNotImplementedError`, it is also a
    :class:`can.CanError` and a :class:`NotImplementedError`.
    """


class MF4ParseError(CanError, ValueError):
    """The file is not an MDF file, or holds no CAN bus logging this reader understands."""


def _asammdf() -> ModuleType:
    """The asammdf module, or :class:`MF4NotAvailableError`."""
    try:
        import asammdf
    except ImportError as e:
        raise MF4NotAvailableError(
            f"reading and writing MF4 files needs the package asammdf: {_INSTALL_HINT} ({e})"
        ) from e
    return asammdf


def _dtype(kind: str) -> Any:
    import numpy as np

    members = _REMOTE_MEMBERS if kind == _REMOTE else _FULL_MEMBERS
    return np.dtype([(f"{kind}.{name}", fmt) for name, fmt in members])


def _channel_number(channel: Any) -> int:
    """The ``BusChannel`` of a message's channel: the number itself, the digits a name ends
    with, or 0."""
    if channel is None:
        return 0
    if isinstance(channel, int):
        return channel
    digits = ""
    for ch in reversed(str(channel)):
        if not ch.isdigit():
            break
        digits = ch + digits
    return int(digits) if digits else 0


def _file_name(file: Any) -> str:
    if isinstance(file, (str, bytes, os.PathLike)):
        return os.fsdecode(file)
    return str(getattr(file, "name", "<file object>"))


class MF4Writer(FileIOMessageWriter):
    """Logs messages to an ASAM MDF 4.10 file in the CAN bus logging layout.

    Messages are buffered and handed to asammdf in batches; the MDF file is written when the
    writer is stopped (or its ``with`` block ends): :meth:`stop` returns once every message
    given before it is in the file. A writer never stopped is stopped when the interpreter
    exits (after an exception or Ctrl-C too); a process killed before that leaves no readable
    file. MF4
    files cannot be appended to (nor gzip-compressed by name: the format compresses itself).

    The header's start time is the first message's timestamp (whole microseconds, 0 for a
    negative one; the time of writing if no message came), and each frame's ``time`` is its
    timestamp less that, so timestamps read back exactly.

    :param file: the path to write, or a binary file object opened for writing (it must be
        seekable; it is left open by :meth:`stop`).
    :param database: the path of a DBC or ARXML file describing the messages, embedded in the
        MDF file as an attachment (tools like asammdf decode signals with it), or None.
    :param compression_level: how the data blocks are stored: 0 plainly, 1 deflated, 2
        transposed and deflated (the smallest files, the slowest to write).
    :raises MF4NotAvailableError: if asammdf is not installed.
    :raises ValueError: for a compression level other than 0, 1 or 2, or for ``append=True``.

    >>> import can, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "bus.mf4")
    >>> with can.MF4Writer(path) as writer:
    ...     writer(can.Message(timestamp=1.5, arbitration_id=0x123, data=[1, 2]))
    >>> [(m.timestamp, hex(m.arbitration_id), m.data.hex()) for m in can.MF4Reader(path)]
    [(1.5, '0x123', '0102')]
    """

    def __init__(
        self,
        file: Union[StrPath, BinaryIO],
        database: Optional[StrPath] = None,
        compression_level: int = 2,
        **kwargs: Any,
    ) -> None:
        asammdf = _asammdf()
        if compression_level not in (0, 1, 2):
            raise ValueError(
                f"compression_level must be 0 (none), 1 (deflate) or 2 (transposed deflate), "
                f"not {compression_level!r}"
            )
        if kwargs.get("append"):
            raise ValueError(f"{_file_name(file)}: MF4 files cannot be appended to")
        attachment = None
        if database is not None:
            with open(database, "rb") as f:
                attachment = (f.read(), os.path.basename(os.fspath(database)))
        super().__init__(file, mode="wb")
        self._name = _file_name(file)
        self._compression = compression_level
        self._mdf: Any = asammdf.MDF(version="4.10")
        source = asammdf.Source(
            name="", path="", comment="", source_type=_SOURCE_BUS, bus_type=_BUS_CAN
        )
        import numpy as np

        self._np = np
        self._dtypes = {kind: _dtype(kind) for kind in _KINDS}
        self._groups: dict[str, int] = {}
        for kind in _KINDS:
            signal = asammdf.Signal(
                np.zeros(0, dtype=self._dtypes[kind]),
                np.zeros(0, dtype="<f8"),
                name=kind,
                source=source,
            )
            self._groups[kind] = self._mdf.append([signal], acq_name="CAN", acq_source=source)
        if attachment is not None:
            data, name = attachment
            self._mdf.attach(data, file_name=name, embedded=True, comment="message database")
        self._start: Optional[float] = None
        self._records = {kind: bytearray() for kind in _KINDS}
        self._times: dict[str, list[float]] = {kind: [] for kind in _KINDS}
        self._buffered = 0
        self._written = 0
        self._count = 0
        self._stopped = False
        self._exit_hook = _stop_at_exit(self)

    def on_message_received(self, msg: Message) -> None:
        """Buffers ``msg`` for the file.

        :raises ValueError: naming the message, for a field the format cannot hold (a channel
            number outside 0..255, an id over 32 bits, a timestamp that is not finite).
        :raises ValueError: after :meth:`stop`, as writing to a closed file does.
        """
        if self._stopped:
            raise ValueError(f"{self._name}: the MF4Writer has been stopped")
        ts = msg.timestamp
        if not math.isfinite(ts):
            raise ValueError(f"{self._name}: message {self._count}: timestamp {ts!r} is not finite")
        if self._start is None:
            self._start = _start_of(ts)
        channel = _channel_number(msg.channel)
        data = msg.data
        try:
            if msg.is_remote_frame and not msg.is_error_frame:
                kind = _REMOTE
                record = _REMOTE_RECORD.pack(
                    channel,
                    msg.arbitration_id,
                    msg.is_extended_id,
                    msg.dlc,
                    0,
                    not msg.is_rx,
                )
            else:
                kind = _ERROR if msg.is_error_frame else _DATA
                length = len(data)
                fd = msg.is_fd
                record = _FULL_RECORD.pack(
                    channel,
                    msg.arbitration_id,
                    msg.is_extended_id,
                    len2dlc(length) if fd else msg.dlc,
                    length,
                    bytes(data),
                    not msg.is_rx,
                    fd,
                    msg.bitrate_switch,
                    msg.error_state_indicator,
                )
                if length > 64:
                    raise struct.error(f"{length} data bytes, more than 64")
        except (struct.error, ValueError) as e:
            raise ValueError(
                f"{self._name}: message {self._count} cannot be stored in MF4 (channel 0..255, "
                f"id of 32 bits, dlc 0..255, at most 64 data bytes): {e}: {msg!r}"
            ) from None
        self._records[kind] += record
        self._times[kind].append(ts)
        self._count += 1
        self._buffered += 1
        if self._buffered >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        """Hands the buffered records to asammdf (which keeps them in a temporary file)."""
        np = self._np
        start = self._start if self._start is not None else 0.0
        for kind in _KINDS:
            times = self._times[kind]
            if not times:
                continue
            records = np.frombuffer(bytes(self._records[kind]), dtype=self._dtypes[kind])
            stamps = np.array(times, dtype="<f8") - start
            self._mdf.extend(self._groups[kind], [(stamps, None), (records, None)])
            self._records[kind] = bytearray()
            self._times[kind] = []
        self._written += self._buffered
        self._buffered = 0

    def file_size(self) -> int:
        """An estimate of the file's size so far: the bytes of the records given, uncompressed
        (the file itself is written by :meth:`stop`), which size-based rotation checks."""
        per_frame = 8 + _FULL_RECORD.size
        return 4096 + self._count * per_frame

    def stop(self) -> None:
        """Writes every message given so far to the file and closes it (a file object passed in
        is flushed and left open). Calling it again does nothing."""
        if self._stopped:
            return
        self._stopped = True
        self._exit_hook.detach()
        try:
            self._flush()
            start = self._start if self._start is not None else _start_of(time.time())
            self._mdf.header.start_time = datetime.datetime.fromtimestamp(
                start, datetime.timezone.utc
            )
            target: Any = self.file
            self._mdf.save(target, overwrite=True, compression=self._compression)
        finally:
            self._mdf.close()
            super().stop()


def _start_of(ts: float) -> float:
    """The measurement start for a first timestamp ``ts``: ``ts`` in whole microseconds (what
    the header's datetime holds), not negative, as the float a reader gets back from it."""
    micros = max(0, math.floor(ts * 1_000_000))
    return micros / 1_000_000


class MF4Reader(MessageReader):
    """Reads the CAN frames of an MDF 4 file in the bus logging layout, by timestamp.

    Every channel group holding ``CAN_DataFrame``, ``CAN_ErrorFrame`` or ``CAN_RemoteFrame``
    events is read, as this module's writer and python-can 4.x write them and as other tools
    lay them out (an ``ID`` with the extended flag in bit 31 and no ``IDE``, data bytes of
    variable length, members missing: no ``Dir`` reads as received, no ``BusChannel`` as
    channel 0, no ``EDL`` as a classic frame). Timestamps are the header's start time plus each
    frame's ``time``. Each group is read in its stored order and the groups are merged by
    timestamp, as python-can 4.x reads them: frames of equal timestamps come as data frames,
    then error frames, then remote frames.

    The whole file is read when the reader is created (the columns, not yet messages: about
    100 bytes a frame), so the file is closed again at once and the reader can be iterated
    more than once.

    :param file: the path to read, or a binary file object opened for reading (seekable).
    :raises MF4NotAvailableError: if asammdf is not installed.
    :raises MF4ParseError: naming the file, if it is not an MDF file.
    """

    def __init__(self, file: Union[StrPath, BinaryIO], **kwargs: Any) -> None:
        asammdf = _asammdf()
        super().__init__(file, mode="rb")
        self._name = _file_name(file)
        self._mdf: Any = None
        try:
            try:
                self._mdf = asammdf.MDF(self.file)
            except Exception as e:
                raise MF4ParseError(
                    f"{self._name}: not an MDF file asammdf can read: {e}"
                ) from None
            # A header in local time comes as a naive datetime, read in this machine's zone.
            self._start = float(self._mdf.header.start_time.timestamp())
            # Every group is read now (the columns, not yet messages), so the file is closed
            # at once and the reader can be iterated any number of times.
            self._loaded = [
                (kind, *self._members(kind, index)) for _, kind, index in self._groups()
            ]
        finally:
            self.stop()

    def _groups(self) -> list[tuple[int, str, int]]:
        """(rank of the kind, kind, group index) of every group of CAN bus events."""
        found = []
        for index, group in enumerate(self._mdf.groups):
            names = {channel.name for channel in group.channels}
            for rank, kind in enumerate(_KINDS):
                if f"{kind}.ID" in names and group.channel_group.cycles_nr:
                    found.append((rank, kind, index))
        found.sort()
        return found

    def _members(self, kind: str, index: int) -> tuple[Any, dict[str, Any]]:
        """The ``time`` of group ``index`` and its ``kind`` members by name (without the
        ``<kind>.`` prefix), as numpy arrays: from the structure channel in one read when it
        has them, else member by member."""
        mdf = self._mdf
        prefix = f"{kind}."
        try:
            whole = mdf.get(kind, group=index, raw=True)
            names = whole.samples.dtype.names or ()
        except Exception:
            whole, names = None, ()
        if whole is not None and f"{prefix}ID" in names:
            samples = whole.samples
            fields = {n[len(prefix) :]: samples[n] for n in names if n.startswith(prefix)}
            return whole.timestamps, fields
        fields = {}
        stamps = None
        for channel in mdf.groups[index].channels:
            name = channel.name
            if name.startswith(prefix) and name[len(prefix) :] not in fields:
                sig = mdf.get(name, group=index, raw=True)
                fields[name[len(prefix) :]] = sig.samples
                if stamps is None:
                    stamps = sig.timestamps
        return stamps, fields

    def _frames(self, kind: str, stamps_rel: Any, fields: dict[str, Any]) -> Iterator[Message]:
        import numpy as np

        ids = np.asarray(fields["ID"]).astype("<u8")
        count = len(ids)
        stamps = (np.asarray(stamps_rel, dtype="<f8") + self._start).tolist()

        def column(name: str, default: int) -> list[int]:
            values = fields.get(name)
            if values is None:
                return [default] * count
            out: list[int] = np.asarray(values).astype("<i8").tolist()
            return out

        if "IDE" in fields:
            ide = column("IDE", 0)
        else:  # the extended flag in bit 31 of the id
            ide = ((ids >> 31) & 1).tolist()
        id_list = (ids & 0x1FFFFFFF).tolist()
        channels = column("BusChannel", 0)
        directions = column("Dir", 0)
        remote = kind == _REMOTE
        error = kind == _ERROR
        if remote:
            dlcs = column("DLC", 0)
            edl = brs = esi = [0] * count
            payloads = [b""] * count
        else:
            dlcs = []
            edl, brs, esi = column("EDL", 0), column("BRS", 0), column("ESI", 0)
            payloads = _payloads(fields.get("DataBytes"), column("DataLength", -1), count)
        new = new_message_from_fields
        for i in range(count):
            data = payloads[i]
            yield new(
                Message,
                (
                    stamps[i],
                    id_list[i],
                    bool(ide[i]),
                    remote,
                    error,
                    channels[i],
                    dlcs[i] if remote else len(data),
                    bytearray(data),
                    bool(edl[i]),
                    directions[i] == 0,
                    bool(brs[i]),
                    bool(esi[i]),
                ),
            )

    def __iter__(self) -> Iterator[Message]:
        streams = [self._frames(*group) for group in self._loaded]
        return heapq.merge(*streams, key=_timestamp)

    def stop(self) -> None:
        """Closes the file (the reader has read it already: this is only for symmetry)."""
        try:
            if self._mdf is not None:
                self._mdf.close()
                self._mdf = None
        finally:
            super().stop()


def _timestamp(msg: Message) -> float:
    stamp: float = msg.timestamp
    return stamp


def _payloads(samples: Any, lengths: list[int], count: int) -> list[bytes]:
    """Each frame's data bytes: the first ``DataLength`` (``lengths``, -1 for none) of its
    ``DataBytes``."""
    if samples is None:
        return [b""] * count
    if samples.dtype == object:  # variable length (VLSD): one bytes object per frame
        rows = [bytes(s) for s in samples]
        return [r if n < 0 else r[:n] for r, n in zip(rows, lengths)]
    width = samples.shape[1] if samples.ndim == 2 else samples.dtype.itemsize
    flat = samples.tobytes()
    out = []
    at = 0
    for n in lengths:
        out.append(flat[at : at + (width if n < 0 else min(n, width))])
        at += width
    return out
