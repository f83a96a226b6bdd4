"""can.Printer (manual section 3.4.4): ``str(msg)`` lines to standard output or a file."""

from __future__ import annotations

import io
import pathlib

import pytest

import can

MSG = can.Message(timestamp=1.5, arbitration_id=0x123, is_extended_id=False, data=[1, 2])


def test_prints_str_of_each_message_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    printer = can.Printer()
    assert printer.write_to_file is False
    printer(MSG)
    printer.on_message_received(MSG)
    printer.stop()
    assert capsys.readouterr().out == f"{MSG}\n{MSG}\n"


def test_prints_to_a_path_and_appends(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "out.txt"
    with can.Printer(path) as printer:
        assert printer.write_to_file is True
        printer(MSG)
    with can.Printer(path, append=True) as printer:
        printer(MSG)
    assert path.read_text() == f"{MSG}\n{MSG}\n"
    with can.Printer(path) as printer:
        printer(MSG)
    assert path.read_text() == f"{MSG}\n"


def test_prints_to_a_text_file_object_and_leaves_it_open() -> None:
    out = io.StringIO()
    with can.Printer(out) as printer:
        printer(MSG)
    assert out.getvalue() == f"{MSG}\n"


def test_error_frames_say_what_the_error_was(capsys: pytest.CaptureFixture[str]) -> None:
    # linux/can/error.h: CAN_ERR_CRTL (0x4) with data[1] = CAN_ERR_CRTL_RX_PASSIVE (0x10);
    # CAN_ERR_BUSOFF (0x40)
    crtl = can.Message(is_error_frame=True, arbitration_id=0x4, data=[0, 0x10, 0, 0, 0, 0, 0, 0])
    bus_off = can.Message(is_error_frame=True, arbitration_id=0x40, data=bytes(8))
    printer = can.Printer()
    printer(crtl)
    printer(bus_off)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(str(crtl)) and "RX error passive" in lines[0]
    assert lines[1].startswith(str(bus_off)) and "bus off" in lines[1]
    assert "Error:" in lines[0] and "Error:" not in str(crtl)


def test_printer_is_the_logger_for_txt(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "x.txt"
    with can.Logger(path) as printer:
        assert isinstance(printer, can.Printer)
        printer(MSG)
    assert path.read_text() == f"{MSG}\n"
