"""``can-generate``: send generated traffic, like can-utils' ``cangen``, to test a setup without a
second device. Run as ``can-generate`` or ``python -m can.generate``.

Ids, lengths and data are each fixed, incrementing or random; frames are classic or CAN FD,
standard or extended, optionally remote; they go out ``--gap`` milliseconds apart (at absolute
deadlines), optionally in bursts.

:func:`frames` is the generator behind it, usable from Python:

>>> from can.generate import frames
>>> [(hex(m.arbitration_id), bytes(m.data)) for m in frames(3, can_id="i", length=2, data="i")]
[('0x0', b'\\x00\\x00'), ('0x1', b'\\x01\\x01'), ('0x2', b'\\x02\\x02')]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any, Optional, Union

from can import cli
from can.message import Message
from can.util import dlc2len

__all__ = ["frames", "main"]

_FD_LENGTHS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64)


def frames(
    count: Optional[int] = None,
    *,
    can_id: Union[str, int] = "r",
    length: Union[str, int] = "r",
    data: Union[str, bytes] = "r",
    extended: bool = False,
    fd: bool = False,
    brs: bool = False,
    esi: bool = False,
    remote: bool = False,
    mix: bool = False,
    seed: Optional[int] = None,
) -> Iterator[Message]:
    """Generated frames, ``count`` of them (None: without end).

    :param can_id: ``"r"`` random, ``"i"`` incrementing from 0, or a fixed id.
    :param length: ``"r"`` random, ``"i"`` incrementing (wrapping at the largest), or a fixed
        data length in bytes (an FD length for ``fd``).
    :param data: ``"r"`` random bytes, ``"i"`` each byte the frame's number (mod 256), or fixed
        bytes (cut or zero-padded to the length).
    :param extended: 29-bit ids (random ids then use all 29 bits).
    :param fd: CAN FD frames, with ``brs`` / ``esi`` set as given.
    :param remote: remote frames (classic only).
    :param mix: a random mix of standard and extended, classic, FD and remote frames.
    :param seed: a seed for the random choices, for a repeatable sequence.
    :raises ValueError: for a mode or value that cannot be generated.
    """
    rng = random.Random(seed)
    for mode, name in ((can_id, "can_id"), (length, "length")):
        if isinstance(mode, str) and mode not in ("r", "i"):
            raise ValueError(f"{name} must be 'r', 'i' or a number, not {mode!r}")
    if isinstance(data, str) and data not in ("r", "i"):
        raise ValueError(f"data must be 'r', 'i' or bytes, not {data!r}")
    if fd and remote:
        raise ValueError("CAN FD has no remote frames")
    lengths = _FD_LENGTHS if fd or mix else _FD_LENGTHS[:9]
    if isinstance(length, int) and length not in lengths:
        raise ValueError(f"a frame cannot carry {length} data bytes; valid: {list(lengths)}")
    i = 0
    while count is None or i < count:
        ext, is_fd, rtr = extended, fd, remote
        if mix:
            ext = rng.random() < 0.5
            kind = rng.random()
            is_fd, rtr = kind < 0.3, 0.3 <= kind < 0.35
        id_bits = 29 if ext else 11
        if can_id == "r":
            ident = rng.getrandbits(id_bits)
        elif can_id == "i":
            ident = i % (1 << id_bits)
        else:
            ident = int(can_id)
        avail = _FD_LENGTHS if is_fd else _FD_LENGTHS[:9]
        if length == "r":
            n = rng.choice(avail)
        elif length == "i":
            n = avail[i % len(avail)]
        else:
            n = int(length) if int(length) in avail else dlc2len(min(int(length), 8))
        if rtr:
            payload = b""
        elif data == "r":
            payload = rng.randbytes(n)
        elif data == "i":
            payload = bytes([i & 0xFF]) * n
        else:
            payload = bytes(data)[:n].ljust(n, b"\0") if isinstance(data, bytes) else b""
        yield Message(
            arbitration_id=ident,
            is_extended_id=ext,
            is_fd=is_fd,
            bitrate_switch=brs and is_fd,
            error_state_indicator=esi and is_fd,
            is_remote_frame=rtr,
            dlc=n,
            data=payload,
        )
        i += 1


def _mode(text: str) -> Union[str, int]:
    if text in ("r", "i"):
        return text
    try:
        return int(text, 16)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected r, i or a hex number") from None


def _len_mode(text: str) -> Union[str, int]:
    if text in ("r", "i"):
        return text
    try:
        return int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected r, i or a length") from None


def _data_mode(text: str) -> Union[str, bytes]:
    if text in ("r", "i"):
        return text
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected r, i or hex bytes") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="can-generate",
        description="Send generated CAN traffic (like can-utils' cangen).",
    )
    group = parser.add_argument_group("generator")
    group.add_argument(
        "-g", "--gap", type=float, default=200.0, metavar="MS",
        help="milliseconds between frames (or bursts), default 200; 0: as fast as possible",
    )  # fmt: skip
    group.add_argument(
        "-n", "--count", type=int, metavar="N", help="stop after N frames (default: until Ctrl-C)"
    )
    group.add_argument(
        "--burst", type=int, default=1, metavar="N", help="send N frames at a time (default 1)"
    )
    group.add_argument(
        "-I", "--id", dest="can_id", type=_mode, default="r", metavar="MODE",
        help="ids: r random (default), i incrementing, or a fixed hex id",
    )  # fmt: skip
    group.add_argument(
        "-L", "--len", dest="length", type=_len_mode, default="r", metavar="MODE",
        help="data lengths: r random (default), i incrementing, or a fixed length",
    )  # fmt: skip
    group.add_argument(
        "-D", "--data", type=_data_mode, default="r", metavar="MODE",
        help="data: r random (default), i the frame number in every byte, or fixed hex bytes",
    )  # fmt: skip
    group.add_argument("-e", "--extended", action="store_true", help="29-bit (extended) ids")
    group.add_argument("--brs", action="store_true", help="CAN FD frames with bit rate switch")
    group.add_argument("--esi", action="store_true", help="CAN FD frames with the ESI bit")
    group.add_argument("-R", "--remote", action="store_true", help="remote frames")
    group.add_argument(
        "-m", "--mix", action="store_true",
        help="a random mix of standard/extended, classic/FD and remote frames",
    )  # fmt: skip
    group.add_argument("--seed", type=int, help="seed of the random choices (repeatable runs)")
    cli.add_verbosity_argument(parser, "print each frame sent to stdout")
    cli.add_bus_arguments(parser)
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.gap < 0 or args.burst < 1 or (args.count is not None and args.count < 0):
        raise cli.CliError("--gap must not be negative, --burst and --count must be positive")
    source = frames(
        args.count,
        can_id=args.can_id,
        length=args.length,
        data=args.data,
        extended=args.extended,
        fd=bool(args.fd) or args.brs or args.esi,
        brs=args.brs,
        esi=args.esi,
        remote=args.remote,
        mix=args.mix,
        seed=args.seed,
    )
    first = next(source, None)  # checks the modes before a bus is opened
    bus = cli.create_bus_from_namespace(args)
    sent = 0
    started = time.monotonic()
    try:
        due = started
        pending: Any = [] if first is None else [first]
        while True:
            batch = pending + [m for _, m in zip(range(args.burst - len(pending)), source)]
            pending = []
            if not batch:
                break
            for msg in batch:
                bus.send(msg)
                sent += 1
                if args.verbosity >= 1:
                    print(msg)
            due += args.gap / 1000
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
    except KeyboardInterrupt:
        pass
    finally:
        bus.shutdown()
        print(f"{sent} frames sent in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> None:
    """The ``can-generate`` command."""
    parser = build_parser()
    cli.run(parser, _run, argv)


if __name__ == "__main__":
    main()
