"""Utilities and configuration loading (manual sections 2 and 3.7.3).

Where a bus's settings come from, highest precedence first (see :func:`load_config`):

1. the arguments given in code (``can.Bus(interface=..., channel=...)`` or ``config=``),
2. the :data:`can.rc` dictionary,
3. the environment variables ``CAN_INTERFACE``, ``CAN_CHANNEL``, ``CAN_BITRATE`` (and
   ``CAN_CONFIG``, a JSON object of any settings, as in python-can 4.x),
4. configuration files (:data:`CONFIG_FILES`): a ``[default]`` section and named contexts
   that inherit from it.

Values read from the environment and from files are strings; :func:`load_config` converts the
ones whose meaning it knows (``bitrate`` to int, ``fd`` to bool, ...) and raises a
:class:`ValueError` that names the key, the value and where it came from when one is malformed.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union, cast

from can import _core
from can.exceptions import CanInterfaceNotImplementedError

if TYPE_CHECKING:
    from configparser import ConfigParser

__all__ = [
    "CAN_FD_DLC",
    "CONFIG_FILES",
    "cast_from_string",
    "channel2int",
    "check_or_adjust_timing_clock",
    "deprecated_args_alias",
    "dlc2len",
    "len2dlc",
    "load_config",
    "load_environment_config",
    "load_file_config",
    "set_logging_level",
    "time_perfcounter_correlation",
]

LOG = logging.getLogger("can.util")

#: A file system path.
StrPath = Union[str, "os.PathLike[str]"]

#: Any bit timing object (python-can 4.x's ``BitTiming`` / ``BitTimingFd``).
_Timing = TypeVar("_Timing")

# A set of configuration values with where each came from: key -> (value, source).
_Layer = dict[str, tuple[Any, str]]


def _platform_config_files(platform: str) -> list[str]:
    """The configuration files the manual lists for ``platform`` (a ``sys.platform`` value).

    Windows has its own list; every other system (Linux, macOS, the BSDs) uses the Linux one.
    """
    if platform == "win32":
        return ["~/can.conf", "can.ini", os.path.join("$APPDATA", "can.ini")]
    return ["~/can.conf", "/etc/can.conf", "~/.can", "~/.canrc"]


#: The configuration files read when no path is given, in this order; a file read later adds
#: to or replaces the values of the files before it. ``~`` and ``$APPDATA`` are expanded when
#: the files are read, a relative path is relative to the current directory, and a file that
#: does not exist is skipped.
CONFIG_FILES: list[str] = _platform_config_files(sys.platform)


# -- channels and data lengths -----------------------------------------------------------------


def channel2int(channel: Optional[Union[str, int]]) -> Optional[int]:
    """Try to convert a channel to an integer: the number a channel name ends with.

    :param channel: a channel name (e.g. ``"can0"``, ``"CAN1"``) or an integer.
    :returns: the channel number, or None if it has none.

    >>> channel2int("can0"), channel2int("CAN1"), channel2int("PCAN_USBBUS12"), channel2int(3)
    (0, 1, 12, 3)
    >>> print(channel2int("vcan"), channel2int(None))
    None None
    """
    if isinstance(channel, int):
        return int(channel)
    if isinstance(channel, str):
        match = re.search(r"[0-9]+\Z", channel)
        if match is not None:
            return int(match.group())
    return None


#: The data length of each DLC 0..15 (ISO 11898-1): ``CAN_FD_DLC[dlc]`` (python-can 4.x).
CAN_FD_DLC: list[int] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]


def dlc2len(dlc: int) -> int:
    """The data length in bytes for a DLC, as ISO 11898-1 defines it for CAN FD.

    DLC 0..8 are 0..8 bytes; 9..15 are 12, 16, 20, 24, 32, 48 and 64 bytes. A DLC above 15
    gives 64, as in python-can.

    :param dlc: the DLC.
    :returns: the data length, 0..64.
    :raises ValueError: if ``dlc`` is negative.

    >>> [dlc2len(dlc) for dlc in range(16)]
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]
    >>> dlc2len(16)
    64
    """
    if isinstance(dlc, int) and dlc > 15:
        return 64
    return _core.dlc2len(dlc)


def len2dlc(length: int) -> int:
    """The DLC for a data length: the smallest DLC whose data length holds ``length`` bytes.

    A length between two CAN FD sizes is rounded up to the next one, the size a CAN FD frame
    with that much data is padded to (e.g. 10 bytes gives DLC 9, 12 bytes). A length above 64
    gives 15, as in python-can.

    :param length: the data length in bytes.
    :returns: the DLC, 0..15.
    :raises ValueError: if ``length`` is negative.

    >>> len2dlc(8), len2dlc(10), len2dlc(12), len2dlc(13), len2dlc(64), len2dlc(65)
    (8, 9, 9, 10, 15, 15)
    """
    if isinstance(length, int) and length > 64:
        return 15
    return _core.len2dlc(length)


# -- logging -------------------------------------------------------------------------------------

#: The level of each name :func:`set_logging_level` knows (the names of the :mod:`logging`
#: levels); any other name means ``debug``, as in python-can.
LOGGING_LEVELS: dict[str, int] = {
    "critical": logging.CRITICAL,
    "fatal": logging.FATAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "notset": logging.NOTSET,
}


def set_logging_level(level_name: Optional[str] = None) -> None:
    """Set the level of the ``can`` logger.

    :param level_name: ``critical``, ``error``, ``warning``, ``info``, ``debug`` or
        ``notset`` (any case; ``notset`` makes the logger follow its parent loggers again).
        Any other name, and None, mean ``debug``, as in python-can (whose ``subdebug`` is
        ``debug`` too).

    >>> set_logging_level("warning")
    >>> logging.getLogger("can").level == logging.WARNING
    True
    >>> set_logging_level("notset")  # back to following the parent loggers
    """
    key = level_name.lower() if isinstance(level_name, str) else None
    level = LOGGING_LEVELS.get(key or "", logging.DEBUG)
    logging.getLogger("can").setLevel(level)
    LOG.debug("logging level of 'can' set to %s", logging.getLevelName(level))


_INT_TEXT = re.compile(r"[-+]?\d+")
_FLOAT_TEXT = re.compile(r"[-+]?\d*\.\d+(?:e[-+]?\d+)?")


def cast_from_string(string_val: str) -> Union[str, int, float, bool]:
    """A configuration string as the value it spells (python-can 4.x).

    Digits with an optional sign become an int, a number with a decimal point (and perhaps a
    lower-case ``e`` exponent) a float, ``true`` and ``false`` (any case) a bool; anything else
    stays the string, as in python-can.

    :raises TypeError: if ``string_val`` is not a string.

    >>> cast_from_string("-3"), cast_from_string("0.5"), cast_from_string("True")
    (-3, 0.5, True)
    >>> cast_from_string("0x10"), cast_from_string("1e3")
    ('0x10', '1e3')
    """
    if not isinstance(string_val, str):
        raise TypeError(f"cast_from_string() needs a str, got {type(string_val).__name__}")
    if _INT_TEXT.fullmatch(string_val):
        return int(string_val)
    if _FLOAT_TEXT.fullmatch(string_val):
        return float(string_val)
    lowered = string_val.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return string_val


_Func = TypeVar("_Func", bound=Callable[..., Any])


def deprecated_args_alias(
    deprecation_start: str, deprecation_end: Optional[str] = None, **aliases: Optional[str]
) -> Callable[[_Func], _Func]:
    """A decorator that accepts old keyword names of a function's arguments (python-can 4.x).

    Each keyword ``old="new"`` makes a call with ``old=`` pass its value as ``new=``;
    ``old=None`` drops an argument that no longer exists. Either way the call emits a
    :class:`DeprecationWarning` naming the versions given.

    :param deprecation_start: the version that deprecated the old names.
    :param deprecation_end: the version that will remove them, if known.
    :raises TypeError: (from the decorated function) if a call gives both an old name and
        its new one.

    >>> import warnings
    >>> @deprecated_args_alias("4.0.0", bit_rate="bitrate")
    ... def open_channel(bitrate=500_000):
    ...     return bitrate
    >>> with warnings.catch_warnings(record=True):
    ...     warnings.simplefilter("always")
    ...     open_channel(bit_rate=250_000)
    250000
    """
    import functools
    import warnings

    def decorate(func: _Func) -> _Func:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in aliases.items():
                if old not in kwargs:
                    continue
                when = f"since version {deprecation_start}"
                if deprecation_end is not None:
                    when += f" and will be removed in version {deprecation_end}"
                text = f"the {old!r} argument of {func.__name__}() is deprecated {when}"
                value = kwargs.pop(old)
                if new is not None:
                    if new in kwargs:
                        raise TypeError(
                            f"{func.__name__}() got both {old!r} (deprecated) and {new!r}"
                        )
                    kwargs[new] = value
                    text += f"; use {new!r} instead"
                warnings.warn(text, DeprecationWarning, stacklevel=2)
            return func(*args, **kwargs)

        return cast(_Func, wrapper)

    return decorate


def time_perfcounter_correlation() -> tuple[float, float]:
    """A pair of readings of :func:`time.time` and :func:`time.perf_counter` taken at the same
    moment, to convert performance counter readings into Unix time (python-can 4.x).

    Where the wall clock advances in coarse steps (Windows), the pair is taken right after
    it stepped, so the two agree to within the step of the performance counter.

    >>> t, pc = time_perfcounter_correlation()
    >>> abs(t - time.time()) < 1.0 and pc <= time.perf_counter()
    True
    """
    resolution = time.get_clock_info("time").resolution
    if resolution <= 1e-6:
        return time.time(), time.perf_counter()
    # A coarse wall clock: wait for its next step, then read both.
    first = time.time()
    while True:
        now, counter = time.time(), time.perf_counter()
        if now != first:
            return now, counter


def check_or_adjust_timing_clock(timing: _Timing, valid_clocks: Iterable[int]) -> _Timing:
    """``timing`` for a device whose CAN clock is one of ``valid_clocks`` (python-can 4.x).

    ``timing`` is a bit timing object with ``f_clock`` and ``recreate_with_f_clock(f_clock)``
    (python-can 4.x's ``BitTiming`` and ``BitTimingFd``). If its clock is valid it is returned
    as it is; otherwise the first valid clock (in the order given) for which it can be
    recreated with the same bit rate and sample point is used, with a :class:`UserWarning`.

    :raises can.CanInitializationError: if no valid clock gives the same timing.
    """
    from can.exceptions import CanInitializationError

    clocks = list(valid_clocks)
    f_clock = timing.f_clock  # type: ignore[attr-defined]
    if f_clock in clocks:
        return timing
    for clock in clocks:
        try:
            adjusted = timing.recreate_with_f_clock(clock)  # type: ignore[attr-defined]
        except ValueError:
            continue
        import warnings

        warnings.warn(
            f"the timing's f_clock {f_clock} Hz is not supported: adjusted to {clock} Hz",
            UserWarning,
            stacklevel=2,
        )
        return adjusted  # type: ignore[no-any-return]
    raise CanInitializationError(
        f"the timing's f_clock {f_clock} Hz is not supported and cannot be changed to one that "
        f"is ({', '.join(str(c) for c in clocks)} Hz) with the same bit rate and sample point"
    )


# -- configuration: reading the sources --------------------------------------------------------


def _plain_layer(values: Mapping[str, Any], source: str) -> _Layer:
    """A configuration layer from a mapping; ``bustype`` becomes ``interface``.

    ``interface``, ``channel`` and ``bustype`` set to None count as not set, so that a source
    of lower precedence can provide them.
    """
    layer: _Layer = {}
    for key, value in values.items():
        if value is None and key in ("interface", "channel", "bustype"):
            continue
        layer[key] = (value, source)
    bustype = layer.pop("bustype", None)
    if bustype is not None and "interface" not in layer:
        layer["interface"] = bustype
    return layer


def _expand_path(template: str) -> Optional[str]:
    """A :data:`CONFIG_FILES` entry with ``~`` and variables expanded; None if a variable is
    not set."""
    path = os.path.expanduser(os.path.expandvars(template))
    if "$" in template and "$" in path:
        return None
    return path


def _parse_config_file(path: str, explicit: bool) -> Optional[ConfigParser]:
    """Parse one configuration file.

    A file that does not exist is skipped (None), as python-can does, also one given
    explicitly; a file from the default locations that cannot be read is skipped with a
    warning. Keys keep their case; ``#`` and ``;`` start comments, also after a value (when
    preceded by white space).

    :raises ValueError: if the file is not a valid INI file.
    :raises OSError: if an explicitly given file exists but cannot be read.
    """
    import configparser

    class CaseSensitiveParser(configparser.ConfigParser):
        def optionxform(self, optionstr: str) -> str:
            return optionstr

    parser = CaseSensitiveParser(interpolation=None, inline_comment_prefixes=("#", ";"))
    try:
        with open(path, encoding="utf-8") as file:
            parser.read_file(file, source=path)
    except FileNotFoundError:
        if explicit:
            LOG.debug("configuration file %s does not exist", path)
        return None
    except OSError as exc:
        if explicit:
            raise
        LOG.warning("skipping configuration file %s: %s", path, exc)
        return None
    except UnicodeDecodeError as exc:
        raise ValueError(f"configuration file {path} is not valid UTF-8: {exc}") from exc
    except configparser.Error as exc:
        raise ValueError(f"malformed configuration file {path}: {exc}") from exc
    return parser


def _config_paths(path: Union[StrPath, Iterable[StrPath], None]) -> tuple[list[str], bool]:
    """The files to read for ``path`` and whether they were given explicitly."""
    if path is None:
        expanded = (_expand_path(template) for template in CONFIG_FILES)
        return [p for p in expanded if p is not None], False
    if isinstance(path, (str, os.PathLike)):
        return [os.fspath(path)], True
    return [os.fspath(p) for p in path], True


def _file_layer(path: Union[StrPath, Iterable[StrPath], None], section: str) -> tuple[_Layer, bool]:
    """The values of ``section`` in the configuration files, inheriting from ``[default]``.

    Files are read in order and a later file's values replace an earlier one's; a value in
    ``section`` of any file replaces an inherited ``[default]`` value.

    :returns: the values, and whether any file has ``section``.
    """
    files, explicit = _config_paths(path)
    parsed = []
    for file in files:
        parser = _parse_config_file(file, explicit)
        if parser is not None:
            parsed.append((file, parser))
    layer: _Layer = {}
    found = False
    for name in ("default", section) if section != "default" else ("default",):
        for file, parser in parsed:
            if not parser.has_section(name):
                continue
            found = found or name == section
            source = f"{file} [{name}]"
            values = dict(parser.items(name))
            layer.update(_plain_layer(values, source))
    return layer, found


def _env_layer(context: Optional[str]) -> _Layer:
    """The configuration in the environment; with a context, the variables ending ``_<context>``."""
    suffix = f"_{context}" if context else ""
    layer: _Layer = {}
    json_variable = "CAN_CONFIG" + suffix
    raw_json = os.environ.get(json_variable)
    if raw_json:
        import json

        try:
            values = json.loads(raw_json)
        except ValueError as exc:
            raise ValueError(
                f"environment variable {json_variable} is not valid JSON: {exc}: {raw_json!r}"
            ) from None
        if not isinstance(values, dict):
            raise ValueError(
                f"environment variable {json_variable} must hold a JSON object "
                f'(like {{"interface": "virtual"}}), got {raw_json!r}'
            )
        layer.update(_plain_layer(values, f"environment variable {json_variable}"))
    for key, variable in (
        ("interface", "CAN_INTERFACE"),
        ("channel", "CAN_CHANNEL"),
        ("bitrate", "CAN_BITRATE"),
    ):
        value = os.environ.get(variable + suffix)
        if value:
            layer[key] = (value, f"environment variable {variable + suffix}")
    return layer


def load_file_config(
    path: Union[StrPath, Iterable[StrPath], None] = None, section: Optional[str] = "default"
) -> dict[str, str]:
    """Load the configuration of one section of the configuration files.

    A file looks like this; named sections (contexts) inherit every value of ``[default]``
    they do not set themselves::

        [default]
        interface = socketcan
        channel = can0

        [HS]
        channel = can1
        bitrate = 500000

    :param path: a file, or a list of files, to read instead of :data:`CONFIG_FILES`. A file
        that does not exist is skipped, as python-can does.
    :param section: the section (context) to read; None means ``default``.
    :returns: the values as strings, exactly as written, except that a ``bustype`` key is
        renamed to ``interface`` unless the section also sets ``interface``. Empty if no file
        has the section or ``[default]`` (or no file exists).
    :raises ValueError: if a file is not a valid INI file.
    :raises OSError: if a file given in ``path`` exists but cannot be read.
    """
    layer, _ = _file_layer(path, section or "default")
    return {key: value for key, (value, _) in layer.items()}


def load_environment_config(context: Optional[str] = None) -> dict[str, Any]:
    """Load the configuration in the environment variables that are set and not empty.

    ``CAN_INTERFACE``, ``CAN_CHANNEL`` and ``CAN_BITRATE`` give ``interface``, ``channel`` and
    ``bitrate``; ``CAN_CONFIG`` may hold a JSON object of any settings (python-can 4.x), which
    the three variables override. With a ``context``, the variables with the suffix
    ``_<context>`` are read instead (``CAN_CHANNEL_HS`` for context ``HS``).

    :returns: the values: strings, except those of ``CAN_CONFIG``, which keep their JSON types.
    :raises ValueError: if ``CAN_CONFIG`` is not a JSON object.
    """
    return {key: value for key, (value, _) in _env_layer(context).items()}


# -- configuration: merging and converting -------------------------------------------------------


def _parse_int(text: str) -> int:
    """A decimal integer, or a hexadecimal, octal or binary one with its prefix (``0x10``)."""
    value = text.strip()
    for base in (10, 0):
        try:
            return int(value, base)
        except ValueError:
            pass
    raise ValueError("expected an integer")


_RATE = re.compile(r"([0-9]+)(?:\.([0-9]+))?\s*([kM]?)", re.IGNORECASE)


def _parse_rate(text: str) -> int:
    """A rate in bit/s: ``500000``, ``500_000``, ``500k``, ``1M`` or ``2.5M``."""
    value = text.strip()
    try:
        return int(value, 10)
    except ValueError:
        pass
    match = _RATE.fullmatch(value)
    if match is None or (match.group(3) == "m"):
        raise ValueError("expected a rate in bit/s such as 500000, 500k or 1M")
    whole, fraction, unit = match.group(1), match.group(2) or "", match.group(3).lower()
    scaled = int(whole + fraction) * {"": 1, "k": 1_000, "m": 1_000_000}[unit]
    divisor: int = 10 ** len(fraction)
    if scaled % divisor:
        raise ValueError("expected a whole number of bit/s")
    return scaled // divisor


def _parse_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("expected a number") from None
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("expected a boolean: true/false, yes/no, on/off or 1/0")


def _parse_filters(text: str) -> list[dict[str, Any]]:
    """``can_filters`` as JSON or a Python literal: ``[{"can_id": 0x11, "can_mask": 0x21}]``."""
    import json

    try:
        value = json.loads(text)
    except ValueError:
        import ast

        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise ValueError(
                "expected a list of filters as JSON or a Python literal, "
                'such as [{"can_id": 17, "can_mask": 33}]'
            ) from None
    if not isinstance(value, (list, tuple)) or not all(isinstance(f, dict) for f in value):
        raise ValueError('expected a list of filters such as [{"can_id": 17, "can_mask": 33}]')
    filters = list(value)
    try:
        _core.FilterSet(filters)
    except (TypeError, ValueError) as exc:
        raise ValueError(str(exc)) from None
    return filters


_CONVERTERS: dict[str, Callable[[str], Any]] = {}
for _key in ("bitrate", "data_bitrate", "f_clock", "baudrate", "ttyBaudrate"):
    _CONVERTERS[_key] = _parse_rate
for _key in (
    # bit timing (python-can 4.x names, and the 3.3.2 vector/kvaser ones)
    "brp",
    "tseg1",
    "tseg2",
    "sjw",
    "nof_samples",
    "no_samp",
    "nom_brp",
    "nom_tseg1",
    "nom_tseg2",
    "nom_sjw",
    "data_brp",
    "data_tseg1",
    "data_tseg2",
    "data_sjw",
    "sjw_abr",
    "tseg1_abr",
    "tseg2_abr",
    "sjw_dbr",
    "tseg1_dbr",
    "tseg2_dbr",
    "sjwAbr",
    "tseg1Abr",
    "tseg2Abr",
    "sjwDbr",
    "tseg1Dbr",
    "tseg2Dbr",
    # queues, devices and ports
    "rx_queue_size",
    "rxFifoSize",
    "txFifoSize",
    "rx_buffer_entries",
    "tx_buffer_entries",
    "device",
    "device_number",
    "port",
    "flags",
):
    _CONVERTERS[_key] = _parse_int
for _key in ("timeout", "poll_interval", "sleep_after_open"):
    _CONVERTERS[_key] = _parse_float
for _key in (
    "fd",
    "is_fd",
    "receive_own_messages",
    "local_loopback",
    "preserve_timestamps",
    "single_handle",
    "accept_virtual",
    "driver_mode",
    "listen_only",
    "rtscts",
    "use_system_timestamp",
    "ignore_rx_error_frames",
    "auto_reset",
    "fd_non_iso",
):
    _CONVERTERS[_key] = _parse_bool
_CONVERTERS["can_filters"] = _parse_filters
del _key

#: The keys whose string values :func:`load_config` converts, by the type they become.
CONVERTED_KEYS: dict[str, frozenset[str]] = {
    kind: frozenset(key for key, parse in _CONVERTERS.items() if parse is parser)
    for kind, parser in (
        ("int", _parse_int),
        ("rate", _parse_rate),
        ("float", _parse_float),
        ("bool", _parse_bool),
        ("filters", _parse_filters),
    )
}


_KINDS: dict[str, Callable[[str], Any]] = {
    "int": _parse_int,
    "rate": _parse_rate,
    "float": _parse_float,
    "bool": _parse_bool,
    "filters": _parse_filters,
    "str": str,
}


def _declared_keys(interface: str) -> Mapping[str, str]:
    """The interface's own :attr:`can.BusABC.CONFIG_KEYS`; empty when its module cannot be
    imported (creating the bus reports that)."""
    from can import interfaces

    try:
        cls = interfaces.resolve_interface(interface)
    except CanInterfaceNotImplementedError:
        return {}
    declared = getattr(cls, "CONFIG_KEYS", {})
    unknown = {kind for kind in declared.values() if kind not in _KINDS}
    if unknown:
        raise TypeError(f"{cls.__name__}.CONFIG_KEYS uses unknown kinds {sorted(unknown)}")
    return declared


def _convert(
    key: str, value: Any, source: str, declared: Mapping[str, str] = MappingProxyType({})
) -> Any:
    """``value`` of ``key`` in its proper type, if it is a string of a known key: by the
    interface's declaration first, then by the common table."""
    if not isinstance(value, str):
        return value
    kind = declared.get(key)
    parse = _KINDS[kind] if kind is not None else _CONVERTERS.get(key)
    if parse is None:
        return value
    try:
        return parse(value)
    except ValueError as exc:
        raise ValueError(
            f"invalid configuration value {key} = {value!r} (from {source}): {exc}"
        ) from None


def _finish(merged: _Layer) -> dict[str, Any]:
    """Check the interface and convert the values of the merged configuration."""
    from can import interfaces

    interface, interface_source = merged.pop("interface", (None, ""))
    channel, _ = merged.pop("channel", (None, ""))
    if interface is None:
        raise CanInterfaceNotImplementedError(
            "no CAN interface is configured: pass interface=..., or set can.rc['interface'], "
            "the CAN_INTERFACE environment variable, or 'interface' in a configuration file "
            f"({', '.join(CONFIG_FILES)})"
        )
    if isinstance(interface, str):
        # Stack: _finish <- _load_config / _check_bus_config <- public caller <- user code.
        interface = interfaces.canonical_interface_name(interface, stacklevel=4)
    if not isinstance(interface, str) or not interfaces.is_registered_interface(interface):
        raise CanInterfaceNotImplementedError(
            interfaces.unknown_interface_message(interface, interface_source)
        )
    if isinstance(channel, str) and _INT_TEXT.fullmatch(channel):
        # As python-can: a channel that is a whole number ("0" from a file, the environment
        # or code) is that number.
        channel = int(channel)
    config: dict[str, Any] = {"interface": interface, "channel": channel}
    declared = _declared_keys(interface)
    for key, (value, source) in merged.items():
        config[key] = _convert(key, value, source, declared)
    if "timing" not in config:
        config.update(_timing_from_keys(config))
    return config


def _timing_from_keys(config: Mapping[str, Any]) -> dict[str, Any]:
    """``{"timing": ...}`` when ``config`` has every argument of a bit timing (python-can 4.x
    builds one from them), else ``{}``; CAN FD when it has both kinds."""
    from can.bit_timing import BitTiming, BitTimingFd
    from can.typechecking import BitTimingDict, BitTimingFdDict

    kinds: tuple[tuple[Any, Any], ...] = (
        (BitTimingFd, BitTimingFdDict),
        (BitTiming, BitTimingDict),
    )
    for cls, keys in kinds:
        if all(key in config for key in keys.__annotations__):
            args = {key: int(config[key]) for key in keys.__annotations__}
            try:
                return {"timing": cls(**args)}
            except ValueError as e:
                raise ValueError(f"the bit timing settings {args} are not valid: {e}") from None
    return {}


def _merge(layers: Iterable[_Layer]) -> _Layer:
    """The layers merged: a key takes its value from the first layer that has it."""
    merged: _Layer = {}
    for layer in layers:
        for key, item in layer.items():
            merged.setdefault(key, item)
    return merged


def _load_config(
    path: Union[StrPath, Iterable[StrPath], None],
    config: Optional[Mapping[str, Any]],
    context: Optional[str],
    config_source: str,
) -> dict[str, Any]:
    import can  # can.rc is read now, so that changes made after ``import can`` count

    layers = [_plain_layer(config or {}, config_source), _plain_layer(can.rc, "can.rc")]
    context_env: _Layer = {}
    if context:
        context_env = _env_layer(context)
        layers.append(context_env)
    layers.append(_env_layer(None))
    files, found = _file_layer(path, context or "default")
    layers.append(files)
    if context and not found and not context_env:
        LOG.warning(
            "configuration context %r is in no configuration file and no environment "
            "variable; using the default configuration",
            context,
        )
    return _finish(_merge(layers))


def _check_bus_config(config: Mapping[str, Any], source: str) -> dict[str, Any]:
    """``config`` alone, checked and converted as :func:`load_config` would."""
    return _finish(_plain_layer(config, source))


def load_config(
    path: Union[StrPath, Iterable[StrPath], None] = None,
    config: Optional[Mapping[str, Any]] = None,
    context: Optional[str] = None,
) -> dict[str, Any]:
    """Load the configuration of a bus from every source, in order of precedence.

    Each key takes its value from the first of these that sets it:

    1. ``config``,
    2. :data:`can.rc`,
    3. with a ``context``, the environment variables for that context (``CAN_INTERFACE_HS``,
       ... for context ``HS``, see :func:`load_environment_config`),
    4. the environment variables ``CAN_INTERFACE``, ``CAN_CHANNEL``, ``CAN_BITRATE`` and
       ``CAN_CONFIG``,
    5. the configuration files (``path``, or else :data:`CONFIG_FILES`): the section named
       ``context`` (default: ``default``), which inherits the values of ``[default]``.

    A ``bustype`` key is taken as ``interface`` when its source sets no ``interface``, and never
    appears in the result; ``interface``, ``channel`` and ``bustype`` set to None count as not
    set. The deprecated interface names ``socketcan_native`` and ``socketcan_ctypes`` become
    ``socketcan`` (with a :class:`DeprecationWarning`).

    String values of known keys are converted: ``bitrate``, ``data_bitrate`` and the other
    rates to int (``500000``, ``500_000``, ``500k`` and ``1M`` are accepted), integer
    settings such as ``rx_queue_size`` to int, ``timeout`` and ``poll_interval`` to float,
    flags such as ``fd`` and ``receive_own_messages`` to bool (``true``/``false``,
    ``yes``/``no``, ``on``/``off``, ``1``/``0``) and ``can_filters`` from JSON or a Python
    literal (see :data:`CONVERTED_KEYS`). Other values are passed through unchanged.

    :param path: a configuration file (or list of files) to read instead of
        :data:`CONFIG_FILES`.
    :param config: settings given in code; every key is passed through.
    :param context: the configuration context (file section and environment suffix).
    :returns: the configuration; it always has ``interface`` and ``channel`` (None if no
        source sets a channel), first.
    :raises can.CanInterfaceNotImplementedError: (a :class:`NotImplementedError`) if no source
        sets the interface or it is not in :data:`can.VALID_INTERFACES`; the message lists
        the valid ones.
    :raises ValueError: if a value cannot be converted; the message names the key, the value
        and its source (file and section, or environment variable).

    >>> load_config(config={"interface": "virtual", "channel": "a", "bitrate": "500k"})
    {'interface': 'virtual', 'channel': 'a', 'bitrate': 500000}
    """
    return _load_config(path, config, context, "the config argument")
