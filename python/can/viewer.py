"""``can-viewer``: watch a bus in the terminal, one line per id (manual section 5.3).

Run as ``can-viewer``, ``can_viewer`` or ``python -m can.viewer``. What is drawn is computed
without curses: :class:`Viewer` holds the frames seen and the keys' effects, and
:meth:`Viewer.lines` turns them into the lines of a screen of a given size; the curses part only
receives, reads keys and paints those lines.

Frames are decoded with ``-d`` (:func:`parse_decode`: a :mod:`struct` format per id, with
optional scalings) or, with ``--dbc``, by the signals of a DBC file (cantools).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import math
import os
import struct
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from can import cli

if TYPE_CHECKING:
    from can.bus import BusABC
    from can.message import Message

__all__ = [
    "Decoder",
    "Line",
    "Viewer",
    "main",
    "parse_decode",
    "read_decode_file",
]

Scaling = Union[int, float]

#: Keys the viewer knows, by the names :meth:`Viewer.key` takes.
KEYS = ("q", "ESC", "c", "s", "SPACE", "UP", "DOWN", "PGUP", "PGDN", "HOME", "END")


@dataclass(frozen=True)
class Decoder:
    """How the data of one id becomes values: a :mod:`struct` format, then each value divided
    by its scaling (``//`` for an integer scaling, as the manual says, ``/`` for a float)."""

    can_id: int
    format: struct.Struct
    scaling: tuple[Scaling, ...] = ()

    def decode(self, data: bytes) -> list[Any]:
        """The values of ``data``.

        :raises struct.error: if ``data`` is not as long as the format.
        """
        values = list(self.format.unpack(data))
        for i, factor in enumerate(self.scaling):
            values[i] = values[i] // factor if isinstance(factor, int) else values[i] / factor
        return values


def _scaling(text: str) -> Scaling:
    try:
        return int(text)
    except ValueError:
        return float(text)


def parse_decode(text: str) -> Decoder:
    """A decode string of ``-d``: ``<id>:<format>`` or ``<id>:<format>:<scaling1>:...``.

    The id is hex; the format is a :mod:`struct` format; value *i* is divided by scaling *i*
    (integer division for an integer scaling). Fewer scalings than values leave the rest as
    they are.

    >>> d = parse_decode("101:<BHL:1:10.0:100")
    >>> d.decode(bytes([7, 0x05, 0x05, 0x39, 0x30, 0, 0]))  # 0x0505 = 1285, 0x3039 = 12345
    [7, 128.5, 123]

    :raises ValueError: naming the text and what is wrong with it.
    """
    parts = text.strip().split(":")
    if len(parts) < 2 or not parts[1]:
        raise ValueError(
            f"{text!r} is not a decode string: write <id>:<format> or "
            "<id>:<format>:<scaling1>:...:<scalingN>, e.g. 100:<BHL or 101:<BHL:1:10.0:100.0"
        )
    try:
        can_id = int(parts[0], 16)
        if not 0 <= can_id <= 0x1FFFFFFF:
            raise ValueError
    except ValueError:
        raise ValueError(f"{text!r}: {parts[0]!r} is not a CAN id in hex") from None
    try:
        fmt = struct.Struct(parts[1])
    except struct.error as e:
        raise ValueError(f"{text!r}: {parts[1]!r} is not a struct format ({e})") from None
    if fmt.size > 64:
        raise ValueError(f"{text!r}: {parts[1]!r} takes {fmt.size} bytes, more than a frame has")
    kinds = fmt.unpack(bytes(fmt.size))
    if not kinds:
        raise ValueError(f"{text!r}: {parts[1]!r} has no values")
    scaling: list[Scaling] = []
    for i, item in enumerate(parts[2:]):
        try:
            factor = _scaling(item)
        except ValueError:
            raise ValueError(f"{text!r}: scaling {item!r} is not a number") from None
        if factor == 0 or not math.isfinite(factor):
            raise ValueError(f"{text!r}: scaling {item!r} cannot divide")
        if i >= len(kinds):
            raise ValueError(
                f"{text!r}: {len(parts) - 2} scalings for the {len(kinds)} values of {parts[1]!r}"
            )
        if isinstance(kinds[i], bytes):
            raise ValueError(f"{text!r}: value {i + 1} is a char, which cannot be scaled")
        scaling.append(factor)
    return Decoder(can_id, fmt, tuple(scaling))


def read_decode_file(path: str) -> list[Decoder]:
    """The decode strings of a file, one a line (blank lines and ``#`` comments skipped).

    :raises OSError: if the file cannot be read.
    :raises ValueError: naming the file and line of a bad decode string.
    """
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    decoders = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            decoders.append(parse_decode(line))
        except ValueError as e:
            raise ValueError(f"{path}, line {number}: {e}") from None
    return decoders


def _is_file(item: str) -> bool:
    # a decode string always has a colon; a file name only where it is a real file's
    return ":" not in item or os.path.isfile(item)


def _decoders(items: Iterable[str]) -> dict[int, Decoder]:
    """The ``-d`` arguments in order, later ones for an id replacing earlier ones.

    :raises cli.CliError: for a decode file that cannot be read or holds a bad line.
    """
    found: dict[int, Decoder] = {}
    for item in items:
        if _is_file(item):
            try:
                decoders = read_decode_file(item)
            except OSError as e:
                hint = "" if ":" in item else " (a decode string is <id>:<format>, e.g. 100:<BHL)"
                raise cli.CliError(
                    f"cannot read decode file {item!r}: {e.strerror or e}{hint}"
                ) from None
            except UnicodeDecodeError:
                raise cli.CliError(f"decode file {item!r} is not UTF-8 text") from None
            except ValueError as e:
                raise cli.CliError(str(e)) from None
        else:
            decoders = [parse_decode(item)]
        for d in decoders:
            found[d.can_id] = d
    return found


def format_value(value: Any) -> str:
    """A decoded value as the Parsed values column shows it (floats with six decimals)."""
    if isinstance(value, float):
        return f"{value:f}"
    if isinstance(value, bytes):
        return repr(value)[2:-1]
    return str(value)


class DbcDecoder:
    """Decodes frames by the messages of a DBC (or any file cantools loads)."""

    def __init__(self, path: str) -> None:
        try:
            cantools: Any = importlib.import_module("cantools")
        except ImportError:
            raise cli.CliError(
                "--dbc needs cantools, which is not installed: pip install 'can[viewer]' "
                "and then pip install --no-deps cantools"
            ) from None
        try:
            self.db = cantools.database.load_file(path)
        except OSError as e:
            raise cli.CliError(f"cannot read DBC file {path!r}: {e.strerror or e}") from None
        except Exception as e:  # cantools' parse errors have no common base of their own
            raise cli.CliError(f"{path}: not a database cantools can load: {e}") from None

    def __call__(self, msg: Message) -> str:
        try:
            spec = self.db.get_message_by_frame_id(msg.arbitration_id)
        except KeyError:
            return ""
        if bool(spec.is_extended_frame) != bool(msg.is_extended_id):
            return ""
        try:
            values = spec.decode(bytes(msg.data))
        except Exception as e:  # a decoding problem is shown, never ends the viewer
            return f"{spec.name}: {' '.join(str(e).split())}"
        shown = (
            f"{name}={value:.10g}" if isinstance(value, float) else f"{name}={value}"
            for name, value in values.items()
        )
        return " ".join([spec.name, *shown])


# -- the screen, without curses -----------------------------------------------------------------


@dataclass
class _Row:
    msg: Message
    count: int
    dt: float


@dataclass(frozen=True)
class Line:
    """One line of the screen: its text (never wider than the screen) and its style, one of
    ``header``, ``frame``, ``error`` (an error frame, drawn red) and ``status``."""

    text: str
    style: str


def _key(msg: Message) -> tuple[int, int]:
    # error frames first, then standard ids, then extended ids, each by number
    kind = 0 if msg.is_error_frame else 2 if msg.is_extended_id else 1
    return kind, msg.arbitration_id


class Viewer:
    """The frames seen, one row per id, and what the keys do to them.

    >>> import can
    >>> v = Viewer()
    >>> for t, i in [(10.0, 0x7FF), (10.25, 0x18DAF110), (10.5, 0x100), (11.0, 0x7FF)]:
    ...     v.receive(can.Message(timestamp=t, arbitration_id=i, is_extended_id=i > 0x7FF,
    ...                           data=[1, 2]))
    >>> v.key("s")
    True
    >>> for line in v.lines(100, 5):
    ...     print(line.text.rstrip())
    Count  Time          dt          ID          DLC  Data                    Parsed values
    1      0.500000      0.000000    0x100       2    01 02
    2      1.000000      1.000000    0x7FF       2    01 02
    1      0.250000      0.000000    0x18DAF110  2    01 02
    3 ids, rows 1-3  q quit  c clear  s sort  SPACE pause  UP/DOWN/PgUp/PgDn scroll
    """

    def __init__(
        self,
        decoders: Optional[dict[int, Decoder]] = None,
        dbc: Optional[Callable[[Message], str]] = None,
    ) -> None:
        self.decoders = decoders or {}
        self.dbc = dbc
        self.rows: dict[tuple[int, int], _Row] = {}
        self.start: Optional[float] = None
        self.scroll = 0
        #: While paused, the rows as they were when SPACE was pressed (frames still count).
        self.frozen: Optional[dict[tuple[int, int], _Row]] = None
        self.frozen_start: Optional[float] = None
        self._page = 1

    @property
    def paused(self) -> bool:
        return self.frozen is not None

    def receive(self, msg: Message) -> None:
        """Counts a frame into its id's row."""
        if self.start is None:
            self.start = msg.timestamp
        key = _key(msg)
        row = self.rows.get(key)
        if row is None:
            self.rows[key] = _Row(msg, 1, 0.0)
        else:
            row.dt = msg.timestamp - row.msg.timestamp
            row.count += 1
            row.msg = msg

    def key(self, name: str) -> bool:
        """Does what key ``name`` (one of :data:`KEYS`) does; False when it quits."""
        if name in ("q", "ESC"):
            return False
        if name == "c":
            self.rows = {}
            self.start = None
            self.scroll = 0
            if self.frozen is not None:
                self.frozen = {}
                self.frozen_start = None
        elif name == "s":
            self.rows = dict(sorted(self.rows.items()))
            if self.frozen is not None:
                self.frozen = dict(sorted(self.frozen.items()))
        elif name == "SPACE":
            if self.frozen is None:
                self.frozen = {k: dataclasses.replace(r) for k, r in self.rows.items()}
                self.frozen_start = self.start
            else:
                self.frozen = None
        elif name == "UP":
            self.scroll -= 1
        elif name == "DOWN":
            self.scroll += 1
        elif name == "PGUP":
            self.scroll -= self._page
        elif name == "PGDN":
            self.scroll += self._page
        elif name == "HOME":
            self.scroll = 0
        elif name == "END":
            self.scroll = 1 << 30
        return True

    def parsed(self, msg: Message) -> str:
        """The Parsed values column of a frame."""
        if msg.is_error_frame:
            from can import _core

            return str(_core.describe_error_frame(msg.arbitration_id, bytes(msg.data)))
        if msg.is_remote_frame:
            return ""
        decoder = self.decoders.get(msg.arbitration_id)
        if decoder is not None:
            try:
                return " ".join(format_value(v) for v in decoder.decode(bytes(msg.data)))
            except struct.error:
                return (
                    f"({len(msg.data)} bytes, {decoder.format.format} takes {decoder.format.size})"
                )
        if self.dbc is not None:
            return self.dbc(msg)
        return ""

    def lines(self, width: int, height: int) -> list[Line]:
        """The screen: a header, a row per id from the scroll position on, a status line.
        Exactly ``height`` lines (none if it is 0 or less), none longer than ``width``."""
        width, height = max(width, 0), max(height, 0)
        rows = self.rows if self.frozen is None else self.frozen
        start = self.start if self.frozen is None else self.frozen_start
        visible = max(height - 2, 0)
        self._page = max(visible, 1)
        self.scroll = max(0, min(self.scroll, len(rows) - visible))
        shown = list(rows.values())[self.scroll : self.scroll + visible]
        data_width = max([23, *(3 * len(r.msg.data) - 1 for r in shown)])

        def columns(*cells: str) -> str:
            count, stamp, dt, ident, dlc, data, parsed = cells
            return (
                f"{count:<6} {stamp:<13} {dt:<11} {ident:<11} {dlc:<4} {data:<{data_width}} "
                f"{parsed}"
            )

        out = [Line(columns("Count", "Time", "dt", "ID", "DLC", "Data", "Parsed values"), "header")]
        for row in shown:
            msg = row.msg
            if msg.is_error_frame or not msg.is_extended_id:
                ident = f"0x{msg.arbitration_id:03X}"
            else:
                ident = f"0x{msg.arbitration_id:08X}"
            data = "remote request" if msg.is_remote_frame else msg.data.hex(" ").upper()
            text = columns(
                str(row.count),
                f"{msg.timestamp - (start or 0.0):.6f}",
                f"{row.dt:.6f}",
                ident,
                str(msg.dlc),
                data,
                self.parsed(msg),
            )
            out.append(Line(text, "error" if msg.is_error_frame else "frame"))
        out += [Line("", "frame")] * (visible - len(shown))
        where = f"rows {self.scroll + 1}-{self.scroll + len(shown)}" if shown else "no rows"
        status = f"{len(rows)} ids, {where}"
        if self.paused:
            status += "  PAUSED"
        status += "  q quit  c clear  s sort  SPACE pause  UP/DOWN/PgUp/PgDn scroll"
        out.append(Line(status, "status"))
        if height == 1:
            out = out[:1]
        return [Line(line.text[:width], line.style) for line in out[:height]]


# -- the terminal -------------------------------------------------------------------------------


def _key_names(curses: Any) -> dict[int, str]:
    names = {
        ord("q"): "q",
        ord("Q"): "q",
        27: "ESC",
        ord("c"): "c",
        ord("C"): "c",
        ord("s"): "s",
        ord("S"): "s",
        ord(" "): "SPACE",
    }
    for code, name in (
        ("KEY_UP", "UP"),
        ("KEY_DOWN", "DOWN"),
        ("KEY_PPAGE", "PGUP"),
        ("KEY_NPAGE", "PGDN"),
        ("KEY_HOME", "HOME"),
        ("KEY_END", "END"),
    ):
        names[getattr(curses, code)] = name
    return names


def _styles(curses: Any) -> dict[str, int]:
    error = curses.A_BOLD
    if curses.has_colors():
        curses.start_color()
        background = -1
        try:
            curses.use_default_colors()
        except curses.error:
            background = curses.COLOR_BLACK
        curses.init_pair(1, curses.COLOR_RED, background)
        error = curses.color_pair(1)
    return {
        "header": curses.A_REVERSE,
        "status": curses.A_REVERSE,
        "frame": curses.A_NORMAL,
        "error": error,
    }


def _paint(curses: Any, screen: Any, viewer: Viewer, styles: dict[str, int]) -> None:
    height, width = screen.getmaxyx()
    screen.erase()
    for y, line in enumerate(viewer.lines(width, height)):
        # the bottom-right cell cannot be written without scrolling the screen: leave it
        n = min(len(line.text), width - 1 if y == height - 1 else width)
        if n <= 0:
            continue
        try:
            screen.addnstr(y, 0, line.text, n, styles[line.style])
        except curses.error:
            pass  # a terminal shrinking while we draw
    screen.refresh()


def _show(screen: Any, bus: BusABC, viewer: Viewer) -> None:
    import curses

    try:
        curses.curs_set(0)
    except curses.error:
        pass
    curses.set_escdelay(25)
    screen.keypad(True)
    screen.nodelay(True)
    styles = _styles(curses)
    names = _key_names(curses)
    recv_batch = getattr(bus, "recv_batch", None)
    dirty = True
    next_paint = 0.0
    while True:
        deadline = time.monotonic() + 0.04
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if recv_batch is not None:
                batch = recv_batch(left, 512)
            else:
                msg = bus.recv(left)
                batch = () if msg is None else (msg,)
            if not batch:
                break
            for msg in batch:
                viewer.receive(msg)
            dirty = dirty or not viewer.paused
        while True:
            code = screen.getch()
            if code == -1:
                break
            if code == curses.KEY_RESIZE:
                curses.update_lines_cols()
                screen.clear()
                dirty = True
                continue
            name = names.get(code)
            if name is None:
                continue
            if not viewer.key(name):
                return
            dirty = True
            next_paint = 0.0
        now = time.monotonic()
        if dirty and now >= next_paint:
            _paint(curses, screen, viewer, styles)
            dirty = False
            next_paint = now + 0.05


def build_parser() -> argparse.ArgumentParser:
    from can import __version__

    parser = argparse.ArgumentParser(
        prog="can-viewer",
        description="A CAN viewer for the terminal: one line per id with its count, time, time "
        "since the previous frame, data and decoded values.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="keys: q or ESC quit, c clear, s sort by id, SPACE pause, UP/DOWN and PgUp/PgDn "
        "scroll, HOME/END first/last row",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    group = parser.add_argument_group("viewer")
    group.add_argument(
        "-d",
        "--decode",
        nargs="+",
        action="extend",
        default=[],
        metavar="{<id>:<format>,<id>:<format>:<scaling1>:...:<scalingN>,file.txt}",
        help="decode the data of frame <id> (hex) with a struct format (< little-endian, > "
        "big-endian, x pad byte, c char, ? bool, b/B int8/uint8, h/H int16/uint16, l/L "
        "int32/uint32, q/Q int64/uint64, f float, d double), e.g. 100:<BHL; then divide "
        "the values by the scalings (integer division for an integer scaling), e.g. "
        "101:<BHL:1:10.0:100.0; or read such strings from a file, one a line",
    )
    group.add_argument(
        "--dbc",
        metavar="FILE",
        help="decode the signals of the messages in this DBC file (needs cantools)",
    )
    group.add_argument(
        "-f",
        dest="can_filters",
        type=_filter,
        nargs="+",
        action="extend",
        metavar="{<can_id>:<can_mask>,<can_id>~<can_mask>}",
        help="the same as --filter",
    )
    cli.add_verbosity_argument(parser)
    cli.add_bus_arguments(parser, filter_arg=True)
    return parser


def _filter(text: str) -> dict[str, Any]:
    try:
        return cli.parse_filter(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _run(args: argparse.Namespace, decoders: dict[int, Decoder]) -> int:
    dbc = DbcDecoder(args.dbc) if args.dbc else None
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise cli.CliError("the viewer draws on a terminal: run it with stdin and stdout on one")
    bus = cli.create_bus_from_namespace(args)
    try:
        import curses

        curses.wrapper(_show, bus, Viewer(decoders, dbc))
    finally:
        bus.shutdown()
    return 0


def main(argv: Optional[Sequence[str]] = None) -> None:
    """The ``can-viewer`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    for item in args.decode:  # a bad decode string is a usage error, found before anything runs
        if not _is_file(item):
            try:
                parse_decode(item)
            except ValueError as e:
                parser.error(f"argument -d/--decode: {e}")
    cli.run(parser, lambda a: _run(a, _decoders(a.decode)), argv, parsed=args)


if __name__ == "__main__":
    main()
