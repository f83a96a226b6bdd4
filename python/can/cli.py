"""What the command-line tools share: bus options, filters, verbosity and error reporting.

Public as in python-can 4.x, so that other tools build their CAN options the same way:

>>> import argparse, can.cli
>>> parser = argparse.ArgumentParser(prog="mytool")
>>> can.cli.add_bus_arguments(parser, filter_arg=True)
>>> args = parser.parse_args(["-i", "virtual", "-c", "cli-doc", "-b", "500k",
...                           "--filter", "100:7FC", "18DAF110~FF", "--bus-kwargs",
...                           "receive_own_messages=true"])
>>> args.bitrate
500000
>>> args.can_filters[0]
{'can_id': 256, 'can_mask': 2044, 'extended': False}
>>> hex(args.can_filters[1]["can_id"])  # ~ sets CAN_INV_FILTER
'0x38daf110'
>>> bus = can.cli.create_bus_from_namespace(args)
>>> bus.channel_info, bus.receive_own_messages
('Virtual bus channel cli-doc', True)
>>> bus.shutdown()
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, NoReturn, Optional

if TYPE_CHECKING:
    from can.bus import BusABC

__all__ = [
    "CAN_INV_FILTER",
    "CliError",
    "add_bus_arguments",
    "add_verbosity_argument",
    "create_bus_from_namespace",
    "parse_bus_kwarg",
    "parse_filter",
    "parse_timing",
    "run",
    "set_logging_level_from_namespace",
]

#: The flag in a filter's ``can_id`` that inverts it (``linux/can.h``): ``<can_id>~<can_mask>``.
CAN_INV_FILTER = 0x20000000


class CliError(Exception):
    """A runtime error a command reports as one line on stderr (exit status 1)."""


def _dest(prefix: Optional[str], name: str) -> str:
    return f"{prefix}_{name}" if prefix else name


def _flags(prefix: Optional[str], short: Optional[str], long: str) -> list[str]:
    if prefix:
        return [f"--{prefix}-{long}"]
    return [short, f"--{long}"] if short else [f"--{long}"]


def parse_bus_kwarg(text: str) -> tuple[str, Any]:
    """``key=value`` of ``--bus-kwargs``: the value converted as configuration files convert
    that key's values (``bitrate=500k`` is an int, ``fd=yes`` a bool); other keys' values become
    an int, a float, True/False or stay a string, whichever reads."""
    from can.util import _convert

    key, sep, value = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not key=value (e.g. receive_own_messages=true)"
        )
    try:
        converted = _convert(key, value, "--bus-kwargs")
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if converted is value:
        converted = _guess(value)
    return key, converted


def _guess(value: str) -> Any:
    for parse in (int, float):
        try:
            return parse(value)
        except ValueError:
            pass
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return value


def parse_filter(text: str) -> dict[str, Any]:
    """A filter as the commands take it, in hex: ``<can_id>:<can_mask>`` or, inverted,
    ``<can_id>~<can_mask>`` (``can_id`` then carries :data:`CAN_INV_FILTER`).

    An id of more than three hex digits, or one ending in ``x``, matches extended ids only;
    otherwise standard ids only.

    >>> parse_filter("7DF:7FF")
    {'can_id': 2015, 'can_mask': 2047, 'extended': False}
    >>> parse_filter("18DAF110~1FFFFF00") == {
    ...     "can_id": 0x18DAF110 | CAN_INV_FILTER, "can_mask": 0x1FFFFF00, "extended": True}
    True

    :raises ValueError: naming the text, if it is not a filter.
    """
    sep = "~" if "~" in text else ":"
    id_text, found, mask_text = text.partition(sep)
    try:
        if not found:
            raise ValueError
        extended = id_text.lower().endswith("x") or len(id_text.strip()) > 3
        can_id = int(id_text.rstrip("xX"), 16)
        can_mask = int(mask_text, 16)
        if can_id < 0 or can_mask < 0 or can_id > 0x1FFFFFFF or can_mask > 0x1FFFFFFF:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"{text!r} is not a filter: write <can_id>:<can_mask> or <can_id>~<can_mask> in hex, "
            "e.g. 123:7FF"
        ) from None
    if sep == "~":
        can_id |= CAN_INV_FILTER
    return {"can_id": can_id, "can_mask": can_mask, "extended": extended}


def _rate(text: str) -> int:
    from can.util import _parse_rate

    try:
        return _parse_rate(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r}: {e}") from None


def _filter(text: str) -> dict[str, Any]:
    try:
        return parse_filter(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_timing(pairs: Sequence[str]) -> Any:
    """The bit timing ``--timing`` describes: ``key=value`` pairs with every argument of
    :class:`can.BitTiming` (``nof_samples`` may be left out) or of :class:`can.BitTimingFd`.

    >>> parse_timing(["f_clock=8M", "brp=1", "tseg1=5", "tseg2=2", "sjw=1"])
    can.BitTiming(f_clock=8000000, brp=1, tseg1=5, tseg2=2, sjw=1, nof_samples=1)

    :raises ValueError: naming the pair or the arguments, if they are not a valid bit timing.
    """
    from can.bit_timing import BitTiming, BitTimingFd
    from can.typechecking import BitTimingDict, BitTimingFdDict
    from can.util import _parse_rate

    values: dict[str, int] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        try:
            if not sep:
                raise ValueError
            values[key.strip()] = _parse_rate(text) if key.strip() == "f_clock" else int(text)
        except ValueError:
            raise ValueError(f"{pair!r} is not key=integer (e.g. tseg1=5)") from None
    classic = list(BitTimingDict.__annotations__)
    fd = list(BitTimingFdDict.__annotations__)
    kind: Any = None
    if set(values) == set(fd):
        kind = BitTimingFd
    elif set(values) in (set(classic), set(classic) - {"nof_samples"}):
        kind = BitTiming
    if kind is not None:
        return kind(**values)
    raise ValueError(
        f"--timing needs the keys {' '.join(classic)} (nof_samples may be left out) for CAN or "
        f"{' '.join(fd)} for CAN FD, got {' '.join(values)}"
    )


class _TimingAction(argparse.Action):
    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: Optional[str] = None,
    ) -> None:
        try:
            setattr(namespace, self.dest, parse_timing(values))
        except ValueError as e:
            raise argparse.ArgumentError(self, str(e)) from None


def add_bus_arguments(
    parser: argparse.ArgumentParser,
    *,
    filter_arg: bool = False,
    prefix: Optional[str] = None,
    group_title: Optional[str] = None,
) -> None:
    """Adds the options that say which bus to open to ``parser``.

    ``-c/--channel``, ``-i/--interface``, ``-b/--bitrate``, ``--fd``, ``--data-bitrate``,
    ``--timing KEY=VALUE ...`` (see :func:`parse_timing`), ``--bus-kwargs KEY=VALUE ...``
    and, with ``filter_arg``, ``--filter ID:MASK|ID~MASK ...``.
    Options left out are left to the configuration files and environment variables, as
    :func:`can.Bus` reads them.

    :param prefix: for a second bus in one command: the options become ``--<prefix>-channel``
        and so on (no short forms), stored as ``<prefix>_channel``.
    :param group_title: the title of the option group in ``--help``.
    """
    group = parser.add_argument_group(group_title or (f"{prefix} bus" if prefix else "bus"))
    group.add_argument(
        *_flags(prefix, "-c", "channel"),
        dest=_dest(prefix, "channel"),
        metavar="CHANNEL",
        help="the channel to open: an interface name such as can0 or vcan0 for socketcan, a "
        "device such as /dev/ttyACM0 for serial adapters, a number for most vendor interfaces",
    )
    from can.interfaces import VALID_INTERFACES

    group.add_argument(
        *_flags(prefix, "-i", "interface"),
        dest=_dest(prefix, "interface"),
        metavar="INTERFACE",
        choices=sorted(VALID_INTERFACES),
        help="the interface to use, one of: "
        + ", ".join(sorted(VALID_INTERFACES))
        + ". Without it, the configuration files and environment decide",
    )
    group.add_argument(
        *_flags(prefix, "-b", "bitrate"),
        dest=_dest(prefix, "bitrate"),
        type=_rate,
        metavar="BITRATE",
        help="the bit rate of the bus (of the arbitration phase for CAN FD), e.g. 500000 or 500k",
    )
    group.add_argument(
        *_flags(prefix, None, "fd"),
        dest=_dest(prefix, "fd"),
        action="store_true",
        default=None,
        help="open the bus for CAN FD",
    )
    flags = _flags(prefix, None, "data-bitrate")
    if not prefix:
        flags.append("--data_bitrate")
    group.add_argument(
        *flags,
        dest=_dest(prefix, "data_bitrate"),
        type=_rate,
        metavar="DATA_BITRATE",
        help="the bit rate of the CAN FD data phase, e.g. 2M",
    )
    group.add_argument(
        *_flags(prefix, None, "timing"),
        dest=_dest(prefix, "timing"),
        action=_TimingAction,
        nargs="+",
        metavar="KEY=VALUE",
        help="the bit timing, passed to the bus as timing=: f_clock=8000000 brp=1 tseg1=5 "
        "tseg2=2 sjw=1 [nof_samples=1] for CAN (a can.BitTiming), or f_clock nom_brp nom_tseg1 "
        "nom_tseg2 nom_sjw data_brp data_tseg1 data_tseg2 data_sjw for CAN FD (a "
        "can.BitTimingFd). Interfaces that set the bit rate elsewhere (socketcan) ignore it",
    )
    if filter_arg:
        group.add_argument(
            *_flags(prefix, None, "filter"),
            dest=_dest(prefix, "can_filters"),
            type=_filter,
            nargs="+",
            action="extend",
            metavar="ID:MASK|ID~MASK",
            help="receive only frames whose id matches one of these filters, in hex: "
            "<can_id>:<can_mask> passes ids with id & mask == can_id & mask, <can_id>~<can_mask> "
            "those with id & mask != can_id & mask. An id of more than three digits (or ending "
            "in x) is an extended id, else a standard one. E.g. 100:7FC 200:7F0 passes 0x100-"
            "0x103 and 0x200-0x20F",
        )
    group.add_argument(
        *_flags(prefix, None, "bus-kwargs"),
        dest=_dest(prefix, "bus_kwargs"),
        type=parse_bus_kwarg,
        nargs="+",
        action="extend",
        metavar="KEY=VALUE",
        help="more keyword arguments for the bus, e.g. receive_own_messages=true app_name=MyApp; "
        "values are converted as in configuration files",
    )


def create_bus_from_namespace(
    namespace: argparse.Namespace, *, prefix: Optional[str] = None, **kwargs: Any
) -> BusABC:
    """Opens the bus the options of :func:`add_bus_arguments` describe.

    Only the options given on the command line are passed; the configuration files and the
    environment fill in the rest, as for :func:`can.Bus`. ``kwargs`` are passed too (the
    command line wins over them).
    """
    import can

    config: dict[str, Any] = dict(kwargs)
    names = ("channel", "interface", "bitrate", "fd", "data_bitrate", "timing", "can_filters")
    for name in names:
        value = getattr(namespace, _dest(prefix, name), None)
        if value is not None:
            config[name] = value
    for key, value in getattr(namespace, _dest(prefix, "bus_kwargs"), None) or ():
        config[key] = value
    return can.Bus(**config)


def add_verbosity_argument(parser: argparse.ArgumentParser, help: Optional[str] = None) -> None:
    """``-v``, counted: each one lowers the ``can`` logger's level one step (warning, info,
    debug)."""
    parser.add_argument(
        "-v",
        dest="verbosity",
        action="count",
        default=0,
        help=help or "say more on stderr; -v is info, -vv debug",
    )


def set_logging_level_from_namespace(namespace: argparse.Namespace) -> None:
    """Sets up logging on stderr at the level ``-v`` asks for."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(namespace.verbosity, 2)]
    logging.basicConfig(stream=sys.stderr, format="%(name)s: %(levelname)s: %(message)s")
    logging.getLogger("can").setLevel(level)


def run(
    parser: argparse.ArgumentParser,
    main: Callable[[argparse.Namespace], Optional[int]],
    argv: Optional[Sequence[str]] = None,
    *,
    parsed: Optional[argparse.Namespace] = None,
) -> NoReturn:
    """Parses ``argv`` (unless ``parsed`` is given) and runs ``main`` the way every command runs.

    Usage errors exit with status 2 (argparse's), runtime errors with 1, each as one line on
    stderr, never a traceback (``-vv`` adds the traceback, for reporting a bug); Ctrl-C exits
    with 130 after ``main``'s own clean-up.
    """
    args = parser.parse_args(argv) if parsed is None else parsed
    set_logging_level_from_namespace(args)
    try:
        status = main(args)
    except KeyboardInterrupt:
        sys.exit(130)
    except (CliError, OSError, ValueError, TypeError, ImportError) as e:
        _fail(parser, e, args)
    except Exception as e:
        from can.exceptions import CanError

        if not isinstance(e, CanError):
            raise
        _fail(parser, e, args)
    sys.exit(status or 0)


def _fail(parser: argparse.ArgumentParser, e: BaseException, args: argparse.Namespace) -> NoReturn:
    if getattr(args, "verbosity", 0) >= 2:
        import traceback

        traceback.print_exc()
    text = " ".join(str(e).split()) or type(e).__name__
    parser.exit(1, f"{parser.prog}: error: {text}\n")
