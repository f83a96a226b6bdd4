"""can.util: the manual's section 3.7.3 (Other Utilities)."""

from __future__ import annotations

import doctest
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

import can
import can.util
from can.util import (
    channel2int,
    dlc2len,
    len2dlc,
    load_config,
    load_environment_config,
    load_file_config,
    set_logging_level,
)

# ISO 11898-1:2015, table of DLC to data length for CAN FD frames (DLC 0..8 are 0..8 bytes).
ISO_11898_DLC_TO_LEN = {
    0: 0,
    1: 1,
    2: 2,
    3: 3,
    4: 4,
    5: 5,
    6: 6,
    7: 7,
    8: 8,
    9: 12,
    10: 16,
    11: 20,
    12: 24,
    13: 32,
    14: 48,
    15: 64,
}


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """No configuration from this machine: empty can.rc, no CAN_* variables, a temporary home,
    the /etc file moved into the temporary directory, the temporary directory as cwd."""
    home = tmp_path / "home"
    home.mkdir()
    etc = tmp_path / "etc" / "can.conf"
    etc.parent.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.delenv("APPDATA", raising=False)
    for variable in list(os.environ):
        if variable.startswith("CAN_"):
            monkeypatch.delenv(variable)
    monkeypatch.setattr(can.util, "CONFIG_FILES", ["~/can.conf", str(etc), "~/.can", "~/.canrc"])
    monkeypatch.setattr(can, "rc", {})
    monkeypatch.chdir(tmp_path)
    return SimpleNamespace(home=home, etc=etc, tmp=tmp_path)


@pytest.fixture
def can_logger_level() -> Iterator[logging.Logger]:
    logger = logging.getLogger("can")
    saved = logger.level
    yield logger
    logger.setLevel(saved)


# -- channel2int ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("can0", 0),
        ("CAN1", 1),
        (3, 3),
        ("vcan", None),
        (None, None),
        ("can12", 12),
        ("PCAN_USBBUS1", 1),
        ("vcan0", 0),
        (0, 0),
        ("", None),
        (2.5, None),
    ],
)
def test_channel2int(channel: object, expected: int | None) -> None:
    assert channel2int(channel) == expected  # type: ignore[arg-type]


# -- dlc2len / len2dlc ---------------------------------------------------------------------------


@pytest.mark.parametrize(("dlc", "length"), sorted(ISO_11898_DLC_TO_LEN.items()))
def test_dlc2len_matches_iso_11898(dlc: int, length: int) -> None:
    assert dlc2len(dlc) == length


@pytest.mark.parametrize(("dlc", "length"), sorted(ISO_11898_DLC_TO_LEN.items()))
def test_len2dlc_of_every_fd_size(dlc: int, length: int) -> None:
    assert len2dlc(length) == dlc


def test_len2dlc_rounds_up_between_fd_sizes() -> None:
    for length in range(65):
        smallest_fitting = min(d for d, n in ISO_11898_DLC_TO_LEN.items() if n >= length)
        assert len2dlc(length) == smallest_fitting, length
    assert len2dlc(9) == 9
    assert len2dlc(13) == 10
    assert len2dlc(33) == 14
    assert len2dlc(49) == 15


@pytest.mark.parametrize("dlc", [-1, -16])
def test_dlc2len_rejects_negative(dlc: int) -> None:
    with pytest.raises(ValueError, match=str(dlc)):
        dlc2len(dlc)


@pytest.mark.parametrize("length", [-1, -65])
def test_len2dlc_rejects_negative(length: int) -> None:
    with pytest.raises(ValueError, match=str(length)):
        len2dlc(length)


@pytest.mark.parametrize("dlc", [16, 17, 255, 2**70])
def test_dlc2len_clamps_above_15_to_64(dlc: int) -> None:
    # python-can 3.3.2 and 4.x: the largest CAN FD length, not an error.
    assert dlc2len(dlc) == 64


@pytest.mark.parametrize("length", [65, 1000, 2**70])
def test_len2dlc_clamps_above_64_to_15(length: int) -> None:
    assert len2dlc(length) == 15


def test_can_fd_dlc_table() -> None:
    assert can.util.CAN_FD_DLC == [ISO_11898_DLC_TO_LEN[d] for d in range(16)]


# -- set_logging_level ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("critical", logging.CRITICAL),
        ("error", logging.ERROR),
        ("warning", logging.WARNING),
        ("info", logging.INFO),
        ("debug", logging.DEBUG),
        ("warn", logging.WARNING),
        ("fatal", logging.CRITICAL),
        ("notset", logging.NOTSET),
        ("INFO", logging.INFO),
        (None, logging.DEBUG),
        # python-can: any other name is debug (its "subdebug" included)
        ("subdebug", logging.DEBUG),
        ("loud", logging.DEBUG),
        ("", logging.DEBUG),
    ],
)
def test_set_logging_level(can_logger_level: logging.Logger, name: str | None, level: int) -> None:
    can_logger_level.setLevel(logging.CRITICAL if level != logging.CRITICAL else logging.DEBUG)
    set_logging_level(name)
    assert can_logger_level.level == level


def test_set_logging_level_is_exported_at_the_top(can_logger_level: logging.Logger) -> None:
    can.set_logging_level("error")
    assert can_logger_level.level == logging.ERROR


# -- load_file_config ----------------------------------------------------------------------------


def test_load_file_config_reads_default_section(tmp_path: Path) -> None:
    path = tmp_path / "x.conf"
    path.write_text("[default]\ninterface = socketcan\nchannel = can0\n")
    assert load_file_config(path) == {"interface": "socketcan", "channel": "can0"}
    assert load_file_config(str(path), section=None) == {
        "interface": "socketcan",
        "channel": "can0",
    }


def test_load_file_config_values_stay_strings_and_keys_keep_case(tmp_path: Path) -> None:
    path = tmp_path / "x.conf"
    path.write_text("[default]\nbitrate = 500000\nttyBaudrate = 115200\nfd = true\n")
    assert load_file_config(path) == {"bitrate": "500000", "ttyBaudrate": "115200", "fd": "true"}


def test_load_file_config_section_inherits_default(tmp_path: Path) -> None:
    path = tmp_path / "x.conf"
    path.write_text(
        "[default]\ninterface = virtual\nchannel = a\nbitrate = 250000\n"
        "[HS]\n# comment\nchannel = b  # inline comment\n"
    )
    assert load_file_config(path, "HS") == {
        "interface": "virtual",
        "channel": "b",
        "bitrate": "250000",
    }


def test_load_file_config_missing_section_gives_default_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "x.conf"
    path.write_text("[default]\nchannel = a\n")
    assert load_file_config(path, "nope") == {"channel": "a"}
    path.write_text("[other]\nchannel = a\n")
    assert load_file_config(path) == {}


def test_load_file_config_renames_bustype(tmp_path: Path) -> None:
    path = tmp_path / "x.conf"
    path.write_text("[default]\nbustype = virtual\n")
    assert load_file_config(path) == {"interface": "virtual"}


def test_load_file_config_reads_the_default_files_later_ones_winning(
    isolated: SimpleNamespace,
) -> None:
    # The manual's Linux order: ~/can.conf, /etc/can.conf, ~/.can, ~/.canrc.
    files = {
        "~/can.conf": isolated.home / "can.conf",
        "/etc/can.conf": isolated.etc,
        "~/.can": isolated.home / ".can",
        "~/.canrc": isolated.home / ".canrc",
    }
    for index, (label, path) in enumerate(files.items()):
        lines = [f"{key} = {label}" for key in ("a", "b", "c", "d")[index:]]
        path.write_text("[default]\n" + "\n".join(lines) + "\n")
    assert load_file_config() == {
        "a": "~/can.conf",
        "b": "/etc/can.conf",
        "c": "~/.can",
        "d": "~/.canrc",
    }


def test_load_file_config_without_any_file_is_empty() -> None:
    assert load_file_config() == {}


def test_load_file_config_explicit_missing_file_is_empty(tmp_path: Path) -> None:
    # python-can 3.3.2 and 4.x: a missing file has no settings.
    assert load_file_config(tmp_path / "missing.conf") == {}
    assert load_file_config(str(tmp_path / "missing.conf"), "HS") == {}
    present = tmp_path / "x.conf"
    present.write_text("[default]\nchannel = a\n")
    assert load_file_config([tmp_path / "missing.conf", present]) == {"channel": "a"}


def test_load_file_config_malformed_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.conf"
    path.write_text("interface = virtual\n")
    with pytest.raises(ValueError, match=r"bad\.conf"):
        load_file_config(path)


# -- load_environment_config ---------------------------------------------------------------------


def test_load_environment_config(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_environment_config() == {}
    monkeypatch.setenv("CAN_INTERFACE", "virtual")
    monkeypatch.setenv("CAN_CHANNEL", "vcan3")
    monkeypatch.setenv("CAN_BITRATE", "125000")
    assert load_environment_config() == {
        "interface": "virtual",
        "channel": "vcan3",
        "bitrate": "125000",
    }


def test_load_environment_config_ignores_empty_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAN_INTERFACE", "")
    monkeypatch.setenv("CAN_CHANNEL", "x")
    assert load_environment_config() == {"channel": "x"}


def test_load_environment_config_can_config_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAN_CONFIG", '{"interface": "virtual", "fd": true, "bitrate": 1000}')
    monkeypatch.setenv("CAN_BITRATE", "2000")
    assert load_environment_config() == {"interface": "virtual", "fd": True, "bitrate": "2000"}


def test_load_environment_config_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAN_CHANNEL", "plain")
    monkeypatch.setenv("CAN_CHANNEL_HS", "fast")
    monkeypatch.setenv("CAN_CONFIG_HS", '{"bitrate": 500000}')
    assert load_environment_config("HS") == {"channel": "fast", "bitrate": 500000}
    assert load_environment_config() == {"channel": "plain"}


@pytest.mark.parametrize("value", ["{not json", "[1, 2]", '"virtual"'])
def test_load_environment_config_bad_can_config(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CAN_CONFIG", value)
    with pytest.raises(ValueError, match="CAN_CONFIG"):
        load_environment_config()


# -- load_config ---------------------------------------------------------------------------------


def test_load_config_precedence(isolated: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """config, then can.rc, then the environment, then the files; key by key."""
    (isolated.home / ".canrc").write_text(
        "[default]\ninterface = socketcan\nchannel = file\nbitrate = 1\ndata_bitrate = 2000000\n"
        "app_name = from-file\n"
    )
    monkeypatch.setenv("CAN_CHANNEL", "env")
    monkeypatch.setenv("CAN_BITRATE", "2")
    monkeypatch.setenv("CAN_INTERFACE", "virtual")
    monkeypatch.setattr(can, "rc", {"bitrate": 3, "interface": "kvaser"})
    config = load_config(config={"interface": "virtual", "extra": "passed through"})
    assert config == {
        "interface": "virtual",
        "channel": "env",
        "bitrate": 3,
        "data_bitrate": 2000000,
        "app_name": "from-file",
        "extra": "passed through",
    }
    assert list(config)[:2] == ["interface", "channel"]


def test_load_config_rc_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAN_INTERFACE", "socketcan")
    monkeypatch.setattr(can, "rc", {"interface": "virtual"})
    assert load_config()["interface"] == "virtual"


def test_load_config_environment_beats_files(
    isolated: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated.home / "can.conf").write_text("[default]\ninterface = socketcan\nchannel = f\n")
    monkeypatch.setenv("CAN_INTERFACE", "virtual")
    assert load_config() == {"interface": "virtual", "channel": "f"}


def test_load_config_path_replaces_default_files(isolated: SimpleNamespace, tmp_path: Path) -> None:
    (isolated.home / ".canrc").write_text("[default]\ninterface = socketcan\nchannel = home\n")
    path = tmp_path / "mine.ini"
    path.write_text("[default]\ninterface = virtual\n")
    assert load_config(path=path) == {"interface": "virtual", "channel": None}


def test_load_config_context(isolated: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated.home / ".canrc").write_text(
        "[default]\ninterface = virtual\nchannel = d\nbitrate = 125000\n[HS]\nchannel = hs\n"
    )
    assert load_config(context="HS") == {"interface": "virtual", "channel": "hs", "bitrate": 125000}
    # the environment of the context, then the plain environment, then the files
    monkeypatch.setenv("CAN_BITRATE", "250000")
    assert load_config(context="HS")["bitrate"] == 250000
    monkeypatch.setenv("CAN_BITRATE_HS", "500000")
    monkeypatch.setenv("CAN_CHANNEL", "env")
    assert load_config(context="HS") == {
        "interface": "virtual",
        "channel": "env",
        "bitrate": 500000,
    }


def test_load_config_context_in_a_file_beats_default_in_a_later_file(
    isolated: SimpleNamespace,
) -> None:
    (isolated.home / "can.conf").write_text("[HS]\nchannel = hs\n")
    (isolated.home / ".canrc").write_text("[default]\ninterface = virtual\nchannel = d\n")
    assert load_config(context="HS")["channel"] == "hs"


def test_load_config_unknown_context_warns_and_uses_default(
    isolated: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    (isolated.home / ".canrc").write_text("[default]\ninterface = virtual\nchannel = d\n")
    with caplog.at_level(logging.WARNING, logger="can.util"):
        assert load_config(context="hs")["channel"] == "d"
    assert "'hs'" in caplog.text


def test_load_config_bustype_becomes_interface() -> None:
    config = load_config(config={"bustype": "virtual", "channel": 1})
    assert config == {"interface": "virtual", "channel": 1}


def test_load_config_bustype_in_rc_and_files(
    isolated: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated.home / ".canrc").write_text("[default]\nbustype = virtual\n")
    assert "bustype" not in load_config()
    assert load_config()["interface"] == "virtual"
    monkeypatch.setattr(can, "rc", {"bustype": "socketcan"})
    assert load_config() == {"interface": "socketcan", "channel": None}


def test_load_config_interface_wins_over_bustype_of_same_source() -> None:
    config = load_config(config={"bustype": "socketcan", "interface": "virtual"})
    assert config == {"interface": "virtual", "channel": None}


def test_load_config_none_values_fall_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(can, "rc", {"interface": "virtual", "channel": "rc"})
    assert load_config(config={"interface": None, "channel": None}) == {
        "interface": "virtual",
        "channel": "rc",
    }


def test_load_config_deprecated_socketcan_names() -> None:
    for old in ("socketcan_native", "socketcan_ctypes"):
        with pytest.warns(DeprecationWarning, match=old):
            assert load_config(config={"interface": old})["interface"] == "socketcan"


def test_load_config_unknown_interface() -> None:
    with pytest.raises(can.CanInterfaceNotImplementedError) as info:
        load_config(config={"interface": "bogus"})
    assert isinstance(info.value, NotImplementedError)
    message = str(info.value)
    assert "'bogus'" in message
    assert "the config argument" in message
    for name in ("socketcan", "kvaser", "pcan", "vector", "virtual"):
        assert repr(name) in message


def test_load_config_without_interface() -> None:
    with pytest.raises(can.CanInterfaceNotImplementedError, match="CAN_INTERFACE"):
        load_config(config={"channel": "x"})


def test_load_config_converts_types(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CAN_CONFIG",
        '{"interface": "virtual", "fd": "yes", "receive_own_messages": "0", '
        '"rx_queue_size": "0x10", "timeout": "0.25", "data_bitrate": "2M", "app": "x"}',
    )
    assert load_config() == {
        "interface": "virtual",
        "channel": None,
        "fd": True,
        "receive_own_messages": False,
        "rx_queue_size": 16,
        "timeout": 0.25,
        "data_bitrate": 2000000,
        "app": "x",
    }


def test_load_config_leaves_values_that_are_not_strings() -> None:
    config = load_config(config={"interface": "virtual", "bitrate": 5.5, "fd": 1, "x": [1]})
    assert config == {"interface": "virtual", "channel": None, "bitrate": 5.5, "fd": 1, "x": [1]}


def test_module_doctests(can_logger_level: logging.Logger) -> None:
    result = doctest.testmod(can.util, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 5
    assert result.failed == 0


# -- python-can 4.x helpers that plug-ins import (issue 13, item 4) ------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1),
        ("-3", -3),
        ("+3", 3),
        ("007", 7),
        ("1.5", 1.5),
        (".5", 0.5),
        ("-.5", -0.5),
        ("1.0e5", 100000.0),
        ("1.5E3", "1.5E3"),
        ("true", True),
        ("FALSE", False),
        ("0x10", "0x10"),
        ("1e3", "1e3"),
        ("1.", "1."),
        ("yes", "yes"),
        ("", ""),
        (" 2 ", " 2 "),
        ("inf", "inf"),
    ],
)
def test_cast_from_string(text: str, value: object) -> None:
    got = can.util.cast_from_string(text)
    assert (type(got), got) == (type(value), value)


def test_cast_from_string_needs_a_string() -> None:
    with pytest.raises(TypeError):
        can.util.cast_from_string(5)  # type: ignore[arg-type]


def test_deprecated_args_alias_renames_and_drops_with_a_warning() -> None:
    @can.util.deprecated_args_alias("4.0.0", "5.0.0", old="new", gone=None)
    def func(new: int = 1, other: int = 2) -> tuple[int, int]:
        return new, other

    with pytest.warns(DeprecationWarning, match=r"'old'.*4\.0\.0.*5\.0\.0.*'new'"):
        assert func(old=5) == (5, 2)  # type: ignore[call-arg]
    with pytest.warns(DeprecationWarning, match="'gone'"):
        assert func(gone=3) == (1, 2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"'old'.*'new'"):
        func(old=5, new=6)  # type: ignore[call-arg]
    assert func(7, other=8) == (7, 8)  # no warning: pytest runs with warnings as errors
    assert func.__name__ == "func"


def test_time_perfcounter_correlation() -> None:
    import time

    before_t, before_pc = time.time(), time.perf_counter()
    t, pc = can.util.time_perfcounter_correlation()
    assert before_pc <= pc <= time.perf_counter()
    assert before_t - 0.1 <= t <= time.time() + 0.1


class _FakeTiming:
    """A bit timing of 8 time quanta per bit: valid for clocks that are multiples of 8 MHz."""

    def __init__(self, f_clock: int, bitrate: int = 1_000_000) -> None:
        self.f_clock = f_clock
        self.bitrate = bitrate
        if f_clock % (8 * bitrate):
            raise ValueError(f"{f_clock} Hz cannot give {bitrate} bit/s")

    def recreate_with_f_clock(self, f_clock: int) -> _FakeTiming:
        return _FakeTiming(f_clock, self.bitrate)


def test_check_or_adjust_timing_clock() -> None:
    timing = _FakeTiming(8_000_000)
    assert can.util.check_or_adjust_timing_clock(timing, [80_000_000, 8_000_000]) is timing
    with pytest.warns(UserWarning, match="8000000.*16000000"):
        adjusted = can.util.check_or_adjust_timing_clock(timing, [20_000_000, 16_000_000])
    assert adjusted.f_clock == 16_000_000
    with pytest.raises(can.CanInitializationError, match=r"8000000.*20000000"):
        can.util.check_or_adjust_timing_clock(timing, [20_000_000])


def test_error_check_turns_errors_into_can_errors() -> None:
    from can.exceptions import error_check

    with pytest.raises(can.CanOperationError, match=r"^failed$") as info:
        with error_check("failed"):
            raise KeyError("inner")
    assert isinstance(info.value.__cause__, KeyError)
    with pytest.raises(can.CanInitializationError, match="inner"):
        with error_check(exception_type=can.CanInitializationError):
            raise ValueError("inner")
    with pytest.raises(KeyboardInterrupt):
        with error_check("not this"):
            raise KeyboardInterrupt
    with error_check("nothing raised"):
        pass


def test_typechecking_names_exist() -> None:
    import typing

    import can.typechecking as tc

    assert tc.CanFilter.__required_keys__ == frozenset({"can_id", "can_mask"})
    assert tc.CanFilter.__optional_keys__ == frozenset({"extended"})
    assert set(typing.get_type_hints(tc.BitTimingDict)) == {
        "f_clock",
        "brp",
        "tseg1",
        "tseg2",
        "sjw",
        "nof_samples",
    }
    assert set(typing.get_type_hints(tc.AutoDetectedConfig)) == {"interface", "channel"}
    for name in (
        "BitTimingFdDict",
        "BusConfig",
        "CanData",
        "CanFilters",
        "Channel",
        "ChannelInt",
        "ChannelStr",
        "FileLike",
        "ReadableBytesLike",
        "StringPathLike",
        "TAdditionalCliArgs",
        "TDataStructs",
    ):
        assert hasattr(tc, name), name
    assert can.typechecking is tc
