"""Convert a log file from one format to another: ``can-logconvert IN OUT``.

Any format the registry (:mod:`can.io.formats`) reads can be converted to any format it writes.
Between the native formats (BLF ``.blf``, ASC ``.asc``, candump logs ``.log``, PEAK TRC ``.trc``,
CSV ``.csv``) the native module converts, streaming and without creating a :class:`can.Message`
per frame; other pairs go through :class:`can.LogReader` and :class:`can.Logger`. Also runs as
``python -m can.logconvert`` and ``can_logconvert``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Optional, TextIO, Union

from can import _core, cli
from can.io.formats import MESSAGE_READERS, MESSAGE_WRITERS, log_format, split_suffix

__all__ = ["convert", "is_native", "main", "parse_filter"]

StrPath = Union[str, "os.PathLike[str]"]


def is_native(path: StrPath) -> bool:
    """Whether the native converter reads and writes the format of ``path`` (by its suffix)."""
    suffix, compressed = split_suffix(path)
    fmt = log_format(suffix)
    return fmt is not None and fmt.native and not compressed


def convert(
    input: StrPath,
    output: StrPath,
    *,
    filters: Optional[Iterable[dict[str, Any]]] = None,
    strict: bool = True,
    compression_level: Optional[int] = None,
    progress: Optional[Callable[[int, int], object]] = None,
) -> dict[str, Any]:
    """Converts the log file ``input`` to ``output``; the formats follow the file suffixes
    (any format :class:`can.LogReader` reads to any :class:`can.Logger` writes, ``.gz`` too).

    :param filters: python-can filter dicts (``can_id``, ``can_mask``, optional ``extended``);
        a frame is written when it matches any of them. None writes every frame.
    :param strict: True raises on a malformed text line (naming the file and line); False
        skips and counts it (a :class:`UserWarning` at the end says how many).
    :param compression_level: zlib level of a BLF output (0-9, -1 for zlib's default); None
        uses :attr:`can.BLFWriter.COMPRESSION_LEVEL`.
    :raises can.io.formats.UnknownFormatError: (a :class:`ValueError`) for a suffix that no
        reader (input) or writer (output) is registered for.
    :param progress: called as ``progress(bytes_read, frames_read)`` now and then and at the
        end; an exception from it stops the conversion.
    :returns: what was done: ``frames_read``, ``frames_written``, ``markers``,
        ``skipped_lines``, ``bytes_read``, ...

    Timestamps stay absolute: an ASC file's times are counted from its ``date`` line (local
    time). A BLF file that ends early gives a :class:`can.io.blf.BLFTruncatedWarning` after
    every complete frame was converted.

    >>> import can, os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> log, asc = os.path.join(folder, "in.log"), os.path.join(folder, "out.asc")
    >>> with open(log, "w") as f:
    ...     _ = f.write("(1700000000.000000) vcan0 123#DEADBEEF\\n"
    ...                 "(1700000000.500000) vcan0 18DAF110##1AABB\\n")
    >>> stats = convert(log, asc, filters=[{"can_id": 0x18DAF110, "can_mask": 0x1FFFFFFF}])
    >>> stats["frames_read"], stats["frames_written"]
    (2, 1)
    >>> [(m.timestamp, hex(m.arbitration_id), m.is_fd) for m in can.ASCReader(asc)]
    [(0.0, '0x18daf110', True)]
    """
    stats: dict[str, Any]
    if not (is_native(input) and is_native(output)):
        stats = _python_convert(input, output, filters, strict, compression_level, progress)
    else:
        if compression_level is None and split_suffix(output)[0] == ".blf":
            # (imported only for a BLF output: the Python classes are not needed otherwise)
            from can.io.blf import BLFWriter

            compression_level = BLFWriter.COMPRESSION_LEVEL
        stats = _core.convert_log(
            os.fspath(input),
            os.fspath(output),
            filters=None if filters is None else list(filters),
            strict=strict,
            # (None only when the output is not BLF: the level is then not used)
            compression_level=-1 if compression_level is None else compression_level,
            progress=progress,
        )
    for text in stats["warnings"]:
        warnings.warn(f"{os.fspath(input)}: {text}", UserWarning, stacklevel=2)
    if stats["skipped_lines"]:
        warnings.warn(
            f"{os.fspath(input)}: skipped {stats['skipped_lines']} malformed line(s); "
            f"the first: {stats['first_skipped']}",
            UserWarning,
            stacklevel=2,
        )
    if stats["truncation"]:
        from can.io.blf import BLFTruncatedWarning
        from can.io.generic import TruncatedLogWarning

        category = BLFTruncatedWarning if split_suffix(input)[0] == ".blf" else TruncatedLogWarning
        warnings.warn(f"{os.fspath(input)}: {stats['truncation']}", category, stacklevel=2)
    return stats


def parse_filter(text: str) -> dict[str, Any]:
    """``<can_id>:<can_mask>`` (or ``<can_id>~<can_mask>``) in hex, as :func:`can.cli.parse_filter`
    reads it, e.g. ``18DAF110:1FFFFFFF``."""
    from can.cli import parse_filter as parse

    try:
        return parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


class _ProgressBar:
    """A one-line progress bar on a terminal (stderr)."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = max(total, 1)
        self.stream = stream
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, done: int, frames: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < self.total:
            return
        self.last = now
        part = min(done / self.total, 1.0)
        filled = int(part * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        rate = frames / max(now - self.started, 1e-9)
        self.stream.write(f"\r[{bar}] {part:4.0%}  {frames} frames  {rate:,.0f} frames/s")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _python_convert(
    input: StrPath,
    output: StrPath,
    filters: Optional[Iterable[dict[str, Any]]],
    strict: bool,
    compression_level: Optional[int],
    progress: Optional[Callable[[int, int], object]],
) -> dict[str, Any]:
    """A conversion through can.LogReader and can.Logger, for the pairs the native converter
    does not know."""
    reader_cls, in_suffix, _ = MESSAGE_READERS.find(input, kind="read")
    writer_cls, out_suffix, _ = MESSAGE_WRITERS.find(output, kind="write")
    if os.path.exists(output) and os.path.samefile(input, output):
        raise ValueError(f"{os.fspath(input)}: input and output are the same file")
    match = _core.FilterSet(None if filters is None else list(filters))
    writer_kwargs: dict[str, Any] = {}
    if out_suffix == ".blf" and compression_level is not None:
        writer_kwargs["compression_level"] = compression_level
    read = written = 0
    fmt = log_format(in_suffix)
    reader = reader_cls(input, strict=strict, **dict(fmt.convert_options if fmt else ()))
    try:
        with writer_cls(output, **writer_kwargs) as writer:
            for msg in reader:
                read += 1
                if match.matches(msg):
                    writer.on_message_received(msg)
                    written += 1
                if progress is not None and read % 4096 == 0:
                    progress(_position(reader), read)
    finally:
        reader.stop()
    size = os.path.getsize(input)
    if progress is not None:
        progress(size, read)
    return {
        "frames_read": read,
        "frames_written": written,
        "markers": 0,
        "skipped_lines": getattr(reader, "skipped_lines", 0),
        "first_skipped": "",
        "bytes_read": size,
        "warnings": [],
        "truncation": None,
    }


def _position(reader: Any) -> int:
    """How far into its file ``reader`` has read (0 when it cannot tell)."""
    from can.io.generic import _disk_size

    try:
        return _disk_size(reader.file)
    except (AttributeError, OSError, ValueError):
        return 0


class _Parser(argparse.ArgumentParser):
    """The command line, whose help lists the formats (plug-ins included) only when shown:
    finding the plug-ins reads every installed distribution's entry points, which a conversion
    does not need unless a suffix is not a built-in one."""

    def format_help(self) -> str:
        self.description = (
            "Convert a log file from one format to another; the format follows the file "
            f"suffix. Read: {', '.join(MESSAGE_READERS)}; written: {', '.join(MESSAGE_WRITERS)} "
            "(text formats also as <suffix>.gz). BLF, ASC, candump and TRC are converted natively."
        )
        return super().format_help()


def main(argv: Optional[Sequence[str]] = None) -> None:
    """The ``can-logconvert`` command."""
    parser = _Parser(prog="can-logconvert")
    parser.add_argument("input", metavar="INFILE", help="the log file to read")
    parser.add_argument("output", metavar="OUTFILE", help="the log file to write")
    parser.add_argument(
        "-f",
        "--filter",
        dest="filters",
        nargs="+",
        type=parse_filter,
        metavar="ID:MASK",
        help="only write frames whose id matches one of these filters, each <can_id>:<can_mask> "
        "or <can_id>~<can_mask> (inverted) in hex (an id of more than 3 digits or ending in x "
        "matches extended ids)",
    )
    parser.add_argument(
        "--skip-malformed",
        action="store_true",
        help="skip malformed lines of text input (counted in a warning) instead of stopping",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (it is only shown when stderr is a terminal anyway)",
    )
    cli.add_verbosity_argument(parser)
    cli.run(parser, _run, argv)


def _run(args: argparse.Namespace) -> int:
    bar: Optional[_ProgressBar] = None
    if not args.no_progress and sys.stderr.isatty():
        try:
            bar = _ProgressBar(os.path.getsize(args.input), sys.stderr)
        except OSError:
            bar = None
    try:
        stats = convert(
            args.input,
            args.output,
            filters=args.filters,
            strict=not args.skip_malformed,
            progress=bar,
        )
    finally:
        if bar is not None:
            bar.close()
    if bar is not None:
        print(
            f"{stats['frames_written']} of {stats['frames_read']} frames written to {args.output}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    main()
