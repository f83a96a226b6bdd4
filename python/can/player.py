"""``can-player``: replay a log file onto a bus with its recorded timing (manual section 5.2).

Run as ``can-player``, ``can_player`` or ``python -m can.player``. Any format
:class:`can.LogReader` reads can be replayed. Frames are sent at absolute deadlines counted from
the start, so a long file does not drift.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any, Optional

from can import cli
from can.logger import parse_extra_args

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="can-player",
        description="Replay CAN traffic from a log file onto a bus, with the recorded spacing.",
        epilog="Options after these are passed to the reader, e.g. `--relative-timestamp=false`.",
    )
    group = parser.add_argument_group("player")
    group.add_argument(
        "-f",
        "--file_name",
        dest="log_file_opt",
        metavar="LOG_FILE",
        help="the file to replay (the same as the positional argument), any format "
        "can.LogReader reads",
    )
    cli.add_verbosity_argument(
        parser, "also print each frame sent to stdout; -vv adds debugging output"
    )
    group.add_argument(
        "--ignore-timestamps",
        dest="timestamps",
        action="store_false",
        help="send the frames one after the other, --gap apart, instead of with their spacing",
    )
    group.add_argument(
        "--error-frames", action="store_true", help="send error frames too (skipped otherwise)"
    )
    group.add_argument(
        "-g",
        "--gap",
        type=float,
        default=0.0001,
        metavar="GAP",
        help="seconds between frames with --ignore-timestamps (default 0.0001)",
    )
    group.add_argument(
        "-s",
        "--skip",
        type=float,
        default=60 * 60 * 24,
        metavar="SKIP",
        help="shorten pauses in the recording longer than SKIP seconds to SKIP",
    )
    group.add_argument(
        "--loop",
        type=int,
        default=1,
        metavar="N",
        help="replay the file N times (0: until stopped)",
    )
    group.add_argument(
        "--rate",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="replay speed: 2 is twice as fast, 0.5 half as fast",
    )
    group.add_argument(
        "input_file",
        metavar="input-file",
        nargs="?",
        help="the file to replay, any format can.LogReader reads",
    )
    cli.add_bus_arguments(parser)
    return parser


def _frames(path: str, error_frames: bool, extra: dict[str, Any]) -> Iterator[Any]:
    import can

    with can.LogReader(path, **extra) as reader:
        for msg in reader:
            if msg.is_error_frame and not error_frames:
                continue
            yield msg


def _run(args: argparse.Namespace, extra: dict[str, Any]) -> int:
    import can

    path = args.input_file or args.log_file_opt
    if path is None:
        raise cli.CliError("no file to replay: give input-file (or -f LOG_FILE)")
    if args.rate <= 0:
        raise cli.CliError(f"--rate must be positive, not {args.rate}")
    if args.loop < 0:
        raise cli.CliError(f"--loop must be 0 (forever) or more, not {args.loop}")
    # open the file first: a bad file is reported before a bus is opened
    can.LogReader(path, **extra).stop()
    bus = cli.create_bus_from_namespace(args)
    progress = sys.stderr.isatty() and args.verbosity == 0
    sent = 0
    started = time.monotonic()
    try:
        print(f"Can LogReader (Started on {time.strftime('%c')})", file=sys.stderr)
        rounds = 0
        while args.loop == 0 or rounds < args.loop:
            rounds += 1
            sync = can.MessageSync(
                _frames(path, args.error_frames, extra),
                timestamps=args.timestamps,
                gap=args.gap,
                skip=args.skip,
                rate=args.rate,
            )
            for msg in sync:
                bus.send(msg)
                sent += 1
                if args.verbosity >= 1:
                    print(msg)
                elif progress and sent % 64 == 0:
                    sys.stderr.write(
                        f"\r{sent} frames sent  {time.monotonic() - started:,.1f} s\x1b[K"
                    )
                    sys.stderr.flush()
    except KeyboardInterrupt:
        pass
    finally:
        bus.shutdown()
        if progress:
            sys.stderr.write("\n")
        print(f"{sent} frames replayed in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> None:
    """The ``can-player`` command."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    try:
        extra = parse_extra_args(unknown)
    except ValueError as e:
        parser.error(str(e))
    cli.run(parser, lambda a: _run(a, extra), argv, parsed=args)


if __name__ == "__main__":
    main()
