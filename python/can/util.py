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
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from can import _core
from can.exceptions import CanInterfaceNotImplementedError

if TYPE_CHECKING:
    from configparser import ConfigParser

__all__ = [
    "CONFIG_FILES",
    "channel2int",
    "dlc2len",
    "len2dlc",
    "load_config",
    "load_environment_config",
    "load_file_config",
    "set_logging_level",
]

LOG = logging.getLogger("can.util")

#: A file system path.
StrPath = Union[str, "os.PathLike[str]"]

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


def dlc2len(dlc: int) -> int:
    """The data length in bytes for a DLC, as ISO 11898-1 defines it for CAN FD.

    DLC 0..8 are 0..8 bytes; 9..15 are 12, 16, 20, 24, 32, 48 and 64 bytes.

    :param dlc: the DLC, 0..15.
    :returns: the data length, 0..64.
    :raises ValueError: if ``dlc`` is outside 0..15.

    >>> [dlc2len(dlc) for dlc in range(16)]
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]
    """
    return _core.dlc2len(dlc)


def len2dlc(length: int) -> int:
    """The DLC for a data length: the smallest DLC whose data length holds ``length`` bytes.

    A length between two CAN FD sizes is rounded up to the next one, the size a CAN FD frame
    with that much data is padded to (e.g. 10 bytes gives DLC 9, 12 bytes).

    :param length: the data length in bytes, 0..64.
    :returns: the DLC, 0..15.
    :raises ValueError: if ``length`` is outside 0..64.

    >>> len2dlc(8), len2dlc(10), len2dlc(12), len2dlc(13), len2dlc(64)
    (8, 9, 9, 10, 15)
    """
    return _core.len2dlc(length)


# -- logging -------------------------------------------------------------------------------------

#: The levels :func:`set_logging_level` knows. ``subdebug`` is below ``debug`` and below
#: :attr:`can.BusABC.RECV_LOGGING_LEVEL` (9), so it also logs every received message.
LOGGING_LEVELS: dict[str, int] = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "subdebug": 5,
    "notset": logging.NOTSET,
}


def set_logging_level(level_name: Optional[str] = None) -> None:
    """Set the level of the ``can`` logger.

    :param level_name: one of ``critical``, ``error``, ``warning``, ``info``, ``debug`` or
        ``subdebug`` (any case); None means ``debug``; ``notset`` makes the logger follow its
        parent loggers again.
    :raises ValueError: for any other name.

    >>> set_logging_level("warning")
    >>> logging.getLogger("can").level == logging.WARNING
    True
    >>> set_logging_level("notset")  # back to following the parent loggers
    """
    if level_name is None:
        level = logging.DEBUG
    else:
        level_key = level_name.lower() if isinstance(level_name, str) else level_name
        if level_key not in LOGGING_LEVELS:
            raise ValueError(
                f"unknown logging level {level_name!r}; expected one of "
                "'critical', 'error', 'warning', 'info', 'debug', 'subdebug'"
            )
        level = LOGGING_LEVELS[level_key]
    logging.getLogger("can").setLevel(level)
    LOG.debug("logging level of 'can' set to %s", level_name)


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

    A file from the default locations that does not exist or cannot be read is skipped (None);
    a file given explicitly must exist. Keys keep their case; ``#`` and ``;`` start comments,
    also after a value (when preceded by white space).

    :raises ValueError: if the file is not a valid INI file.
    :raises OSError: if an explicitly given file cannot be read.
    """
    import configparser

    class CaseSensitiveParser(configparser.ConfigParser):
        def optionxform(self, optionstr: str) -> str:
            return optionstr

    parser = CaseSensitiveParser(interpolation=None, inline_comment_prefixes=("#", ";"))
    try:
        with open(path, encoding="utf-8") as file:
            parser.read_file(file, source=path)
    except OSError as exc:
        if explicit:
            raise
        if not isinstance(exc, FileNotFoundError):
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

    :param path: a file, or a list of files, to read instead of :data:`CONFIG_FILES`. Unlike
        the default files, a file given here must exist.
    :param section: the section (context) to read; None means ``default``.
    :returns: the values as strings, exactly as written, except that a ``bustype`` key is
        renamed to ``interface`` unless the section also sets ``interface``. Empty if no file
        has the section or ``[default]``.
    :raises ValueError: if a file is not a valid INI file.
    :raises OSError: if a file given in ``path`` cannot be read.
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


def _convert(key: str, value: Any, source: str) -> Any:
    """``value`` of ``key`` in its proper type, if it is a string of a known key."""
    if not isinstance(value, str):
        return value
    parse = _CONVERTERS.get(key)
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
    config: dict[str, Any] = {"interface": interface, "channel": channel}
    for key, (value, source) in merged.items():
        config[key] = _convert(key, value, source)
    return config


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
