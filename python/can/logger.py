"""``can-logger``: record the traffic of a bus to a log file, or print it (manual section 5.1).

Run as ``can-logger``, ``can_logger`` or ``python -m can.logger``. The format follows the file's
suffix, as :class:`can.Logger` chooses it (every format of :mod:`can.io.formats`, ``.gz``
compressed text logs too); without ``-f`` the frames are printed to standard output.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any, Callable, Optional, TextIO

from can import cli

__all__ = ["main", "parse_extra_args"]


def parse_extra_args(extra: Sequence[str]) -> dict[str, Any]:
    """The writer arguments given after the known options: ``--compression-level=9`` (or
    ``--compression-level 9``) becomes ``compression_level=9``, values converted as
    ``--bus-kwargs`` converts them; a flag without a value is True.

    :raises ValueError: for an argument that is not ``--name[=value]``.
    """
    kwargs: dict[str, Any] = {}
    items = list(extra)
    i = 0
    while i < len(items):
        item = items[i]
        if not item.startswith("--") or len(item) < 3:
            raise ValueError(
                f"unrecognized argument {item!r} (writer options look like --name=value)"
            )
        name, sep, value = item[2:].partition("=")
        if not sep:
            if i + 1 < len(items) and not items[i + 1].startswith("--"):
                value = items[i + 1]
                i += 1
            else:
                value = "true"
        key, converted = cli.parse_bus_kwarg(f"{name}={value}")
        kwargs[key] = converted
        i += 1
    return kwargs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="can-logger",
        description="Log CAN traffic to a file, or print it to stdout. The file's suffix picks "
        "the format (.asc .blf .csv .db .log .txt, text formats also .gz; see can.Logger).",
        epilog="Options after these are passed to the writer, e.g. `-f run.blf "
        "--compression-level=6` gives BLFWriter compression_level=6. Ctrl-C or SIGTERM stop "
        "the logger; every frame received is in the file when it exits.",
    )
    group = parser.add_argument_group("logger")
    group.add_argument(
        "-f",
        "--file_name",
        dest="log_file",
        metavar="LOG_FILE",
        help="the file to write, its format chosen by the suffix (see can.Logger); without it "
        "the frames are printed to stdout",
    )
    group.add_argument(
        "-a", "--append", action="store_true", help="add to the file instead of replacing it"
    )
    group.add_argument(
        "-s",
        "--file_size",
        type=int,
        metavar="FILE_SIZE",
        help="start a new file before this many bytes would be exceeded (can.SizedRotatingLogger)",
    )
    cli.add_verbosity_argument(parser, "more on stderr: -v info, -vv debug (and tracebacks)")
    state = group.add_mutually_exclusive_group()
    state.add_argument(
        "--active",
        dest="state",
        action="store_const",
        const="active",
        help="open the bus active (acknowledging frames): the default",
    )
    state.add_argument(
        "--passive",
        dest="state",
        action="store_const",
        const="passive",
        help="open the bus passive (listen only), where the interface can",
    )
    cli.add_bus_arguments(parser, filter_arg=True)
    return parser


class _Status:
    """The live status line on a terminal, and the counts for the summary."""

    def __init__(self, stream: TextIO, live: bool, size: Callable[[], int]) -> None:
        self.stream = stream
        self.live = live
        self.size = size
        self.started = time.monotonic()
        self.frames = 0
        self.errors = 0
        self._next = self.started + 0.5
        self._last = (self.started, 0)

    def tick(self) -> None:
        now = time.monotonic()
        if not self.live or now < self._next:
            return
        self._next = now + 0.5
        t0, n0 = self._last
        self._last = (now, self.frames)
        rate = (self.frames - n0) / max(now - t0, 1e-9)
        self.stream.write(
            f"\r{self.frames} frames  {rate:,.0f} frames/s  {self.errors} error frames  "
            f"{_human(self.size())} written  {now - self.started:,.0f} s\x1b[K"
        )
        self.stream.flush()

    def summary(self, target: str) -> str:
        elapsed = time.monotonic() - self.started
        return (
            f"{self.frames} frames ({self.errors} error frames) logged to {target} in "
            f"{elapsed:.1f} s"
        )


def _human(n: int) -> str:
    """``n`` bytes for a person: ``"512 B"``, ``"1.5 MiB"``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _run(args: argparse.Namespace, extra: dict[str, Any]) -> int:
    import can

    if args.file_size is not None and args.log_file is None:
        raise cli.CliError("--file_size needs a file to rotate (-f)")
    if args.file_size is not None and args.file_size <= 0:
        raise cli.CliError(f"--file_size must be a positive number of bytes, not {args.file_size}")
    if args.append:
        extra["append"] = True
    writer: Any
    if args.log_file is None:
        writer = can.Printer(**extra)
    elif args.file_size is not None:
        writer = can.SizedRotatingLogger(args.log_file, max_bytes=args.file_size, **extra)
    else:
        writer = can.Logger(args.log_file, **extra)
    try:
        bus = cli.create_bus_from_namespace(args)
    except BaseException:
        writer.stop()
        raise
    stopping = False

    def on_sigterm(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    size: Callable[[], int] = getattr(writer, "file_size", None) or (lambda: 0)
    live = args.log_file is not None and sys.stderr.isatty()
    status = _Status(sys.stderr, live, lambda: _safe_size(size))
    target = args.log_file or "stdout"
    try:
        if args.state == "passive":
            bus.state = can.BusState.PASSIVE
        elif args.state == "active":
            bus.state = can.BusState.ACTIVE
        print(f"Connected to {bus.__class__.__name__}: {bus.channel_info}", file=sys.stderr)
        print("Press Ctrl-C to stop", file=sys.stderr)
        sink = writer.on_message_received
        recv_batch = getattr(bus, "recv_batch", None)
        direct = _direct_path(bus, writer)
        while not stopping:
            if direct is not None:
                frames, errors = direct(0.25)
                status.frames += frames
                status.errors += errors
                status.tick()
                continue
            if recv_batch is not None:
                batch = recv_batch(0.25, 512)
            else:
                msg = bus.recv(0.25)
                batch = () if msg is None else (msg,)
            for msg in batch:
                sink(msg)
                if msg.is_error_frame:
                    status.errors += 1
            status.frames += len(batch)
            status.tick()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        try:
            bus.shutdown()
        finally:
            writer.stop()
            if live:
                sys.stderr.write("\n")
            print(status.summary(target), file=sys.stderr)
    return 0


#: Frames fetched per call on the direct path (64 per system call).
_DIRECT_BATCH = 512
#: Seconds the direct path lets frames gather after a small batch, and the receive buffer (as
#: the kernel reports it) it needs for that.
_GATHER = 0.002
_GATHER_MIN_BUFFER = 4 << 20


def _direct_path(bus: Any, writer: Any) -> Optional[Callable[[float], tuple[int, int]]]:
    """``timeout -> (frames, error frames)`` receiving straight into the native writer, when
    the bus is a plain :class:`~can.interfaces.socketcan.SocketcanBus` and the writer's
    ``on_message_received`` is its native writer's own sink (no Python code would see the
    messages, so none are made); else None. The kernel applies the bus's filters either way.
    """
    socketcan = sys.modules.get("can.interfaces.socketcan.socketcan")
    if socketcan is None or type(bus) is not socketcan.SocketcanBus:
        return None
    import can
    from can import _core

    native = getattr(writer, "_writer", None)
    sink = getattr(writer, "on_message_received", None)
    takes_frames = (
        _core.BlfWriter,
        _core.AscWriter,
        _core.CanutilsLogWriter,
        _core.TrcWriter,
        _core.CsvWriter,
    )
    if not isinstance(native, takes_frames) or getattr(sink, "__self__", None) is not native:
        return None
    recv_to_writer = bus._recv_to_writer
    # Frames that come one at a time cost a wake-up and two system calls each; when the
    # socket's buffer is large (the bus asks for 8 MiB), the logger lets them gather for a
    # moment after a small batch, so a busy bus is read in large batches. The buffer holds
    # far more than arrives meanwhile (16 MiB granted: over 10,000 frames), so none is lost.
    try:
        gather = _GATHER if bus._sock.receive_buffer_size >= _GATHER_MIN_BUFFER else 0.0
    except (AttributeError, OSError, can.CanError):
        gather = 0.0

    def receive(timeout: float) -> tuple[int, int]:
        counts: tuple[int, int] = recv_to_writer(native, timeout, _DIRECT_BATCH)
        if gather and 0 < counts[0] < _DIRECT_BATCH // 8:
            time.sleep(gather)
        return counts

    return receive


def _safe_size(size: Callable[[], int]) -> int:
    try:
        return size()
    except (OSError, ValueError):
        return 0


def main(argv: Optional[Sequence[str]] = None) -> None:
    """The ``can-logger`` command."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    try:
        extra = parse_extra_args(unknown)
    except ValueError as e:
        parser.error(str(e))
    cli.run(parser, lambda a: _run(a, extra), argv, parsed=args)


if __name__ == "__main__":
    main()
