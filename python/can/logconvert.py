"""Convert a log file from one format to another: ``can-logconvert IN OUT``.

BLF (``.blf``), ASC (``.asc``), candump logs (``.log``) and PEAK TRC (``.trc``) are converted by
the native module, streaming and without creating a :class:`can.Message` per frame. Also runs as
``python -m can.logconvert``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Optional, TextIO, Union

from can import _core

__all__ = ["convert", "main", "parse_filter"]

StrPath = Union[str, "os.PathLike[str]"]

#: File name suffixes converted natively.
NATIVE_SUFFIXES = (".blf", ".asc", ".log", ".trc")


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
    (``.blf``, ``.asc``, ``.log``, ``.trc``).

    :param filters: python-can filter dicts (``can_id``, ``can_mask``, optional ``extended``);
        a frame is written when it matches any of them. None writes every frame.
    :param strict: True raises on a malformed text line (naming the file and line); False
        skips and counts it (a :class:`UserWarning` at the end says how many).
    :param compression_level: zlib level of a BLF output (0-9, -1 for zlib's default); None
        uses :attr:`can.BLFWriter.COMPRESSION_LEVEL`.
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
    if compression_level is None:
        from can.io.blf import BLFWriter

        compression_level = BLFWriter.COMPRESSION_LEVEL
    stats: dict[str, Any] = _core.convert_log(
        os.fspath(input),
        os.fspath(output),
        filters=None if filters is None else list(filters),
        strict=strict,
        compression_level=compression_level,
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

        warnings.warn(
            f"{os.fspath(input)}: {stats['truncation']}", BLFTruncatedWarning, stacklevel=2
        )
    return stats


def parse_filter(text: str) -> dict[str, Any]:
    """``<can_id>:<can_mask>`` in hex (as for ``can.logger``), e.g. ``18DAF110:1FFFFFFF``.

    An id of more than three hex digits, or one ending in ``x``, matches extended ids only;
    otherwise standard ids only.
    """
    try:
        can_id_text, mask_text = text.split(":")
        extended = can_id_text.lower().endswith("x") or len(can_id_text) > 3
        can_id = int(can_id_text.rstrip("xX"), 16)
        can_mask = int(mask_text, 16)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a filter: write <can_id>:<can_mask> in hex, e.g. 123:7FF"
        ) from None
    return {"can_id": can_id, "can_mask": can_mask, "extended": extended}


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


def _python_convert(input: str, output: str, filters: Optional[list[dict[str, Any]]]) -> None:
    """Formats the native converter does not know, through can.LogReader / can.Logger."""
    import can

    reader_cls = getattr(can, "LogReader", None)
    logger_cls = getattr(can, "Logger", None)
    if reader_cls is None or logger_cls is None:
        raise ValueError(
            f"cannot convert {input} to {output}: the formats supported are "
            + ", ".join(NATIVE_SUFFIXES)
        )
    match = _core.FilterSet(filters)
    with reader_cls(input) as reader, logger_cls(output) as logger:
        for msg in reader:
            if match.matches(msg):
                logger(msg)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """The ``can-logconvert`` command."""
    parser = argparse.ArgumentParser(
        prog="can-logconvert",
        description="Convert a log file from one format to another. BLF (.blf), ASC (.asc), "
        "candump logs (.log) and PEAK TRC (.trc) are converted natively; the format follows "
        "the file suffix.",
    )
    parser.add_argument("input", metavar="INFILE", help="the log file to read")
    parser.add_argument("output", metavar="OUTFILE", help="the log file to write")
    parser.add_argument(
        "-f",
        "--filter",
        dest="filters",
        nargs="+",
        type=parse_filter,
        metavar="ID:MASK",
        help="only write frames whose id matches one of these filters, each <can_id>:<can_mask>"
        " in hex (an id of more than 3 digits or ending in x matches extended ids)",
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
    args = parser.parse_args(argv)

    native = all(
        os.path.splitext(p)[1].lower() in NATIVE_SUFFIXES for p in (args.input, args.output)
    )
    bar: Optional[_ProgressBar] = None
    if native and not args.no_progress and sys.stderr.isatty():
        try:
            bar = _ProgressBar(os.path.getsize(args.input), sys.stderr)
        except OSError:
            bar = None
    try:
        if native:
            stats = convert(
                args.input,
                args.output,
                filters=args.filters,
                strict=not args.skip_malformed,
                progress=bar,
            )
            if bar is not None:
                bar.close()
                print(
                    f"{stats['frames_written']} of {stats['frames_read']} frames written "
                    f"to {args.output}",
                    file=sys.stderr,
                )
        else:
            _python_convert(args.input, args.output, args.filters)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        sys.exit(1)
    except (OSError, ValueError) as e:
        if bar is not None:
            bar.close()
        parser.exit(1, f"{parser.prog}: error: {e}\n")


if __name__ == "__main__":
    main()
