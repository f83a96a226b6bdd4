# Hand-written stub of the native module can._core (checked by mypy.stubtest in CI).
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Optional, Union, final

from typing_extensions import disjoint_base

__all__ = [
    "MESSAGE_FIELDS",
    "ArrowLogStream",
    "AscReader",
    "AscWriter",
    "BlfReader",
    "BlfWriter",
    "CanutilsLogReader",
    "CanutilsLogWriter",
    "CsvReader",
    "CsvWriter",
    "CyclicLoop",
    "FilterSet",
    "KvaserReader",
    "KvaserWriter",
    "MessageBase",
    "PcanReader",
    "PcanWriter",
    "SqliteDatabase",
    "SqliteRows",
    "TrcReader",
    "TrcWriter",
    "__version__",
    "check_message",
    "convert_log",
    "copy_message",
    "describe_error_frame",
    "dlc2len",
    "len2dlc",
    "new_message_from_fields",
]

__version__: str
MESSAGE_FIELDS: tuple[str, ...]

@disjoint_base
class MessageBase:
    """Native base of can.Message: the message fields as object slots."""

    timestamp: Any
    arbitration_id: Any
    is_extended_id: Any
    is_remote_frame: Any
    is_error_frame: Any
    channel: Any
    dlc: Any
    data: Any
    is_fd: Any
    is_rx: Any
    bitrate_switch: Any
    error_state_indicator: Any
    def __init__(
        self,
        timestamp: float = 0.0,
        arbitration_id: int = 0,
        is_extended_id: Optional[bool] = None,
        is_remote_frame: bool = False,
        is_error_frame: bool = False,
        channel: Optional[Union[str, int]] = None,
        dlc: Optional[int] = None,
        data: Optional[Union[bytes, bytearray, Iterable[int]]] = None,
        is_fd: bool = False,
        bitrate_switch: bool = False,
        error_state_indicator: bool = False,
        extended_id: Optional[bool] = None,
        check: bool = False,
        *,
        is_rx: bool = True,
    ) -> None: ...

@final
class FilterSet:
    def __new__(cls, filters: Optional[Iterable[Mapping[str, Any]]] = None) -> FilterSet: ...
    def matches(self, msg: MessageBase) -> bool: ...
    def __len__(self) -> int: ...

def check_message(msg: MessageBase) -> None: ...
def copy_message(msg: MessageBase) -> Any: ...
def new_message_from_fields(cls: type, fields: tuple[Any, ...]) -> Any: ...
def dlc2len(dlc: int) -> int: ...
def len2dlc(length: int) -> int: ...

# -- cyclic sending (rust/src/cyclic.rs, binding rust/src/python/cyclic.rs) -------------------

@final
class CyclicLoop:
    def __new__(cls, max_spin: float = 0.001, max_catch_up: float = 0.25) -> CyclicLoop: ...
    def add(
        self,
        send: Callable[[Any], object],
        messages: Iterable[Any],
        period: float,
        duration: Optional[float] = None,
        on_error: Optional[Callable[[Exception], object]] = None,
    ) -> tuple[int, Optional[int]]: ...
    def run(self, generation: int) -> None: ...
    def remove(
        self, task_id: int, timeout: float = 1.0
    ) -> tuple[int, int, Optional[int], bool]: ...
    def clear(self, timeout: float = 1.0) -> Optional[int]: ...
    def set_messages(self, task_id: int, messages: Iterable[Any]) -> bool: ...
    def status(self, task_id: int) -> Optional[str]: ...
    def stats(self, task_id: int) -> Optional[tuple[int, int]]: ...
    def running_generation(self) -> Optional[int]: ...
    def __len__(self) -> int: ...

# -- BLF (rust/src/blf/, binding rust/src/python/blf.rs) ---------------------------------------

@final
class BlfReader:
    def __new__(
        cls,
        file: Any,
        message_class: type[MessageBase],
        on_end: Optional[Callable[[], object]] = None,
        threaded: bool = True,
        name: str = "",
    ) -> BlfReader: ...
    def __iter__(self) -> BlfReader: ...
    def __next__(self) -> Any: ...
    def header(self) -> dict[str, Any]: ...
    @property
    def skipped(self) -> dict[int, int]: ...
    @property
    def markers(self) -> int: ...
    @property
    def truncation(self) -> Optional[str]: ...

@final
class BlfWriter:
    def __new__(
        cls,
        file: Any,
        channel: int = 1,
        compression_level: int = ...,
        max_container_size: int = 131072,
        append_file: Any = None,
        threaded: bool = True,
        owned: bool = False,
    ) -> BlfWriter: ...
    def write_message(self, msg: Any) -> None: ...
    def message_sink(self) -> Callable[[Any], None]: ...
    def write_marker(self, timestamp: float, group: str, marker: str, description: str) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> bool: ...
    def discard(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    @property
    def object_count(self) -> int: ...
    @property
    def start_timestamp(self) -> Optional[float]: ...
    @property
    def stop_timestamp(self) -> Optional[float]: ...
    @property
    def uncompressed_size(self) -> int: ...
    def size_estimate(self) -> int: ...

# -- ASC and candump log (rust/src/python/asc.rs, candump.rs) -----------------------------------

@final
class AscReader:
    def __new__(
        cls,
        file: Any,
        message_class: type[MessageBase],
        name: str = "",
        base: str = "hex",
        relative_timestamp: bool = True,
        strict: bool = True,
        on_end: Optional[Callable[[], object]] = None,
    ) -> AscReader: ...
    def __iter__(self) -> AscReader: ...
    def __next__(self) -> Any: ...
    @property
    def skipped_lines(self) -> int: ...
    @property
    def line_no(self) -> int: ...

@final
class AscWriter:
    def __new__(cls, file: Any, text: bool, channel: int = 1, lend: bool = False) -> AscWriter: ...
    def write_message(self, msg: Any) -> None: ...
    def message_sink(self) -> Callable[[Any], None]: ...
    def log_event(self, text: str, timestamp: Optional[float] = None) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> bool: ...
    def discard(self) -> int: ...
    @property
    def closed(self) -> bool: ...

@final
class CanutilsLogReader:
    def __new__(
        cls,
        file: Any,
        message_class: type[MessageBase],
        name: str = "",
        strict: bool = True,
        on_end: Optional[Callable[[], object]] = None,
    ) -> CanutilsLogReader: ...
    def __iter__(self) -> CanutilsLogReader: ...
    def __next__(self) -> Any: ...
    @property
    def skipped_lines(self) -> int: ...
    @property
    def line_no(self) -> int: ...

@final
class CanutilsLogWriter:
    def __new__(
        cls, file: Any, text: bool, channel: str = "vcan0", lend: bool = False
    ) -> CanutilsLogWriter: ...
    def write_message(self, msg: Any) -> None: ...
    def message_sink(self) -> Callable[[Any], None]: ...
    def flush(self) -> None: ...
    def close(self) -> bool: ...
    def discard(self) -> int: ...
    @property
    def closed(self) -> bool: ...

# PEAK TRC (rust/src/python/trc.rs).
@final
class TrcReader:
    def __new__(
        cls,
        file: Any,
        message_class: type[MessageBase],
        name: str = "",
        strict: bool = True,
        on_end: Optional[Callable[[], object]] = None,
    ) -> TrcReader: ...
    def __iter__(self) -> TrcReader: ...
    def __next__(self) -> Any: ...
    @property
    def skipped_lines(self) -> int: ...
    @property
    def skipped_records(self) -> int: ...
    @property
    def line_no(self) -> int: ...
    @property
    def file_version(self) -> int: ...
    @property
    def start_time(self) -> Optional[float]: ...
    @property
    def columns(self) -> str: ...

@final
class TrcWriter:
    def __new__(
        cls, file: Any, text: bool, channel: int = 1, version: int = 201, lend: bool = False
    ) -> TrcWriter: ...
    def write_message(self, msg: Any) -> None: ...
    def message_sink(self) -> Callable[[Any], None]: ...
    @property
    def version(self) -> int: ...
    def set_version(self, version: int) -> None: ...
    @property
    def header_written(self) -> bool: ...
    @property
    def skipped_messages(self) -> int: ...
    def flush(self) -> None: ...
    def close(self) -> bool: ...
    def discard(self) -> int: ...
    @property
    def closed(self) -> bool: ...

# CSV (rust/src/python/csv.rs).
@final
class CsvReader:
    def __new__(
        cls,
        file: Any,
        message_class: type[MessageBase],
        name: str = "",
        strict: bool = True,
        on_end: Optional[Callable[[], object]] = None,
    ) -> CsvReader: ...
    def __iter__(self) -> CsvReader: ...
    def __next__(self) -> Any: ...
    @property
    def skipped_lines(self) -> int: ...
    @property
    def line_no(self) -> int: ...

@final
class CsvWriter:
    def __new__(
        cls, file: Any, text: bool, header: bool = True, lend: bool = False
    ) -> CsvWriter: ...
    def write_message(self, msg: Any) -> None: ...
    def message_sink(self) -> Callable[[Any], None]: ...
    def flush(self) -> None: ...
    def close(self) -> bool: ...
    def discard(self) -> int: ...
    @property
    def closed(self) -> bool: ...

# SocketCAN (rust/src/python/socketcan.rs). The sockets exist on Linux only.
def describe_error_frame(
    arbitration_id: int, data: Union[bytes, bytearray, Iterable[int]]
) -> str: ...

if sys.platform == "linux":
    __all__ += ["SocketcanBcm", "SocketcanRaw", "socketcan_interfaces"]

    @final
    class SocketcanRaw:
        def __new__(
            cls,
            channel: str,
            message_class: type[MessageBase],
            *,
            fd: bool = False,
            receive_own_messages: bool = False,
            local_loopback: bool = True,
            error_mask: int = ...,
            receive_buffer_size: Optional[int] = None,
            hardware_timestamps: bool = False,
        ) -> SocketcanRaw: ...
        def recv(self, timeout: Optional[float] = None) -> Any: ...
        def recv_batch(
            self, timeout: Optional[float] = None, max_messages: int = 64
        ) -> list[Any]: ...
        def recv_to_writer(
            self, writer: object, timeout: Optional[float] = None, max_frames: int = 64
        ) -> tuple[int, int]: ...
        def send(self, msg: MessageBase, timeout: Optional[float] = None) -> None: ...
        def set_filters(self, filters: Optional[Iterable[Mapping[str, Any]]] = None) -> None: ...
        def set_error_mask(self, mask: int) -> None: ...
        def fileno(self) -> int: ...
        def socket_fileno(self) -> int: ...
        def close(self) -> None: ...
        @property
        def channel(self) -> str: ...
        @property
        def fd(self) -> bool: ...
        @property
        def closed(self) -> bool: ...
        @property
        def dropped_frames(self) -> int: ...
        @property
        def receive_buffer_size(self) -> int: ...

    @final
    class SocketcanBcm:
        def __new__(cls, channel: str) -> SocketcanBcm: ...
        @staticmethod
        def from_fd(fd: int, channel: str = "") -> SocketcanBcm: ...
        def tx_start(
            self,
            messages: Union[MessageBase, Iterable[MessageBase]],
            period: float,
            duration: Optional[float] = None,
        ) -> None: ...
        def tx_setup(
            self,
            messages: Union[MessageBase, Iterable[MessageBase]],
            count: int,
            ival1: float,
            ival2: float,
        ) -> None: ...
        def tx_update(self, messages: Union[MessageBase, Iterable[MessageBase]]) -> None: ...
        def tx_delete(self, message: MessageBase) -> bool: ...
        def fileno(self) -> int: ...
        def close(self) -> None: ...
        @property
        def channel(self) -> str: ...
        @property
        def closed(self) -> bool: ...

    def socketcan_interfaces() -> list[str]: ...

# -- Vendor receive helpers (rust/src/vendorrx.rs, binding rust/src/python/vendorrx.rs) --------
# Private to the Kvaser and PCAN backends: the addresses are the loaded library's functions and
# the backend's own ctypes buffers, which ``keep`` holds alive.

@final
class KvaserReader:
    def __new__(
        cls,
        read: int,
        read_wait: int,
        handle: int,
        buffers: tuple[int, int, int, int, int],
        keep: object,
        resolution: float,
        offset: float,
        channel: object,
        message_class: type[MessageBase],
    ) -> KvaserReader: ...
    def read(self, wait_ms: Optional[int] = None) -> Any: ...

@final
class PcanReader:
    def __new__(
        cls,
        read: int,
        handle: int,
        buffer: int,
        keep: object,
        offset: float,
        channel: object,
        message_class: type[MessageBase],
    ) -> PcanReader: ...
    def read(self) -> Any: ...

@final
class KvaserWriter:
    def __new__(cls, write: int, handle: int) -> KvaserWriter: ...
    def write(self, msg: MessageBase) -> Optional[int]: ...

@final
class PcanWriter:
    def __new__(cls, write: int, handle: int) -> PcanWriter: ...
    def write(self, msg: MessageBase) -> Optional[int]: ...

# -- SQLite reading (rust/src/sqlite.rs, binding rust/src/python/sqlite.rs) --------------------

@final
class SqliteDatabase:
    def __new__(
        cls, path: Union[str, os.PathLike[str]], file: str, table: str
    ) -> SqliteDatabase: ...
    def __len__(self) -> int: ...
    def rows(self, message_class: type[MessageBase]) -> SqliteRows: ...
    def close(self) -> None: ...

@final
class SqliteRows:
    def __iter__(self) -> SqliteRows: ...
    def __next__(self) -> Any: ...

def convert_log(
    input: str,
    output: str,
    in_format: Optional[str] = None,
    out_format: Optional[str] = None,
    filters: Optional[Iterable[Mapping[str, Any]]] = None,
    strict: bool = True,
    compression_level: int = 6,
    progress: Optional[Callable[[int, int], object]] = None,
    progress_every: int = 65536,
) -> dict[str, Any]: ...

# Log files as Arrow record batches (rust/src/python/arrow.rs), read through the PyCapsule
# stream interface.
@final
class ArrowLogStream:
    def __new__(
        cls,
        path: Union[str, os.PathLike[str]],
        columns: Optional[Sequence[str]] = None,
        filters: Optional[Iterable[Mapping[str, Any]]] = None,
        channels: Optional[Iterable[Union[int, str]]] = None,
        start: Optional[float] = None,
        stop: Optional[float] = None,
        batch_size: int = 65536,
    ) -> ArrowLogStream: ...
    def __arrow_c_stream__(self, requested_schema: object = None) -> Any: ...
    def error(self) -> Optional[BaseException]: ...
    def end_notes(self) -> tuple[Optional[str], list[str]]: ...

# Serial ports (rust/src/python/serial.rs), Unix only: frames written to a non-blocking
# descriptor, encoded natively (Python encoder `encode` for the rest).
if sys.platform != "win32":
    __all__ += ["SerialWriter"]

    @final
    class SerialWriter:
        def __new__(
            cls,
            fd: int,
            wake_r: int,
            wake_w: int,
            framing: str,
            encode: Callable[[Any], bytes],
            interface: str,
            url: object,
        ) -> SerialWriter: ...
        def send(self, msg: MessageBase, timeout: Optional[float]) -> None: ...
        def write(self, data: bytes, timeout: Optional[float]) -> None: ...
        def close(self) -> None: ...
        @property
        def closed(self) -> bool: ...
        @property
        def fd(self) -> int: ...
