"""A serial port for the ``serial`` and ``slcan`` interfaces: pyserial opens it, reads and writes
go straight to the file descriptor where there is one.

pyserial is an optional dependency (``pip install can[serial]``); it is imported when a port is
opened, so the interface modules import without it. Channels are device paths (``/dev/ttyUSB0``,
``COM4``) or pyserial URLs (``loop://``, ``socket://host:port``, ``rfc2217://host:port``).

On POSIX, a port with a file descriptor (a tty, a pseudo-terminal, a TCP socket) is read with
``select`` + ``os.read`` of whatever has arrived, and written non-blocking with ``select`` for
room: pyserial's own ``read(n)`` waits for ``n`` bytes, and a blocking write to a
pseudo-terminal whose reader stopped can hang for good. Ports without one (``loop://``,
``rfc2217://``, Windows) go through pyserial's API with the same semantics.
"""

from __future__ import annotations

import os
import select
import threading
import time
from typing import Any, Optional

from can.exceptions import (
    CanError,
    CanInitializationError,
    CanInterfaceNotImplementedError,
    CanOperationError,
    CanTimeoutError,
)

__all__ = ["SerialPort", "import_pyserial"]

# The most one read takes from the device.
_READ_SIZE = 65536
# A wait with no timeout is cut into slices this long, so that close() ends it.
_WAIT_SLICE = 0.5


def import_pyserial(interface: str) -> Any:
    """The ``serial`` module (pyserial), or a clear error naming the extra to install.

    :raises can.CanInterfaceNotImplementedError: if pyserial is not installed.
    """
    try:
        import serial
    except ImportError as exc:
        raise CanInterfaceNotImplementedError(
            f"the {interface!r} interface needs pyserial, which is not installed: "
            "pip install can[serial]"
        ) from exc
    return serial


class SerialPort:
    """An open serial port (device path or pyserial URL).

    :param url: the device path or pyserial URL.
    :param interface: the interface name, for error messages.
    :param baudrate: the line speed in bit/s (ignored by pseudo-terminals and most URLs).
    :param rtscts: hardware flow control (RTS/CTS).
    :param poll_interval: for ports without a file descriptor: how long one pyserial read
        waits at most before checking again whether the port was closed.
    :raises can.CanInterfaceNotImplementedError: if pyserial is not installed.
    :raises can.CanInitializationError: if the port cannot be opened.
    :raises ValueError: if ``url`` is empty or not a string.
    """

    def __init__(
        self,
        url: str,
        interface: str,
        baudrate: int = 115200,
        rtscts: bool = False,
        poll_interval: float = _WAIT_SLICE,
    ) -> None:
        if not isinstance(url, str) or not url:
            raise ValueError(
                f"the {interface} interface needs a channel: a serial device path or a "
                f"pyserial URL such as 'loop://', got {url!r}"
            )
        serial = import_pyserial(interface)
        self.url = url
        self.interface = interface
        self._closed = False
        self._timeout_exception: type[Exception] = serial.SerialTimeoutException
        try:
            self.serial = serial.serial_for_url(
                url, baudrate=int(baudrate), rtscts=bool(rtscts), timeout=0, write_timeout=0
            )
        except (serial.SerialException, ValueError, OSError) as exc:
            raise CanInitializationError(
                f"{interface}: cannot open the serial port {url!r}: {exc}"
            ) from exc
        self._slice = min(max(float(poll_interval), 0.001), _WAIT_SLICE)
        self._read_timeout: Optional[float] = 0.0
        self._write_timeout: Optional[float] = 0.0
        self.fd: Optional[int] = None
        # Wakes a read waiting in select() when the port is closed.
        self._wake_r: Optional[int] = None
        self._wake_w: Optional[int] = None
        self._lock = threading.Lock()
        # The part of a frame that a write which timed out left unwritten.
        self._rest = b""
        if os.name == "posix":
            try:
                fd = self.serial.fileno()
            except (OSError, AttributeError, ValueError):
                fd = None
            if isinstance(fd, int) and fd >= 0:
                os.set_blocking(fd, False)
                self.fd = fd
                self._wake_r, self._wake_w = os.pipe()

    def __repr__(self) -> str:
        return f"SerialPort({self.url!r})"

    @property
    def closed(self) -> bool:
        return self._closed

    # -- reading ----------------------------------------------------------------------------

    def read(self, timeout: Optional[float]) -> bytes:
        """What has arrived, waiting up to ``timeout`` seconds (None: until something does).

        :returns: at least one byte, or ``b""`` if nothing arrived in time.
        :raises can.CanOperationError: if the port is closed, reading fails, or the device
            went away (end of file).
        """
        if self._closed:
            raise CanOperationError(f"{self.interface}: the port {self.url!r} is closed")
        fd = self.fd
        if fd is None:
            return self._read_pyserial(timeout)
        # A tty in pyserial's raw mode (VMIN = VTIME = 0) returns b"" when it has nothing, a
        # socket raises BlockingIOError; either way, wait in select. Only a descriptor that
        # select calls readable and that then returns b"" is at its end.
        try:
            data = os.read(fd, _READ_SIZE)
        except BlockingIOError:
            data = b""
        except OSError as exc:
            raise self._read_error(exc) from exc
        if data:
            return data
        if timeout is not None and timeout <= 0:
            return b""
        deadline = None if timeout is None else time.monotonic() + timeout
        wait_for = [fd] if self._wake_r is None else [fd, self._wake_r]
        while True:
            left = _WAIT_SLICE if deadline is None else deadline - time.monotonic()
            if left <= 0:
                return b""
            try:
                ready, _, _ = select.select(wait_for, [], [], min(left, _WAIT_SLICE))
            except (OSError, ValueError) as exc:
                if self._closed:
                    raise self._closed_error() from exc
                raise CanOperationError(
                    f"{self.interface}: waiting for data from {self.url!r} failed: {exc}"
                ) from exc
            if self._closed:
                raise self._closed_error()
            if not ready:
                continue
            try:
                data = os.read(fd, _READ_SIZE)
            except BlockingIOError:
                continue
            except OSError as exc:
                raise self._read_error(exc) from exc
            if not data:
                raise CanOperationError(
                    f"{self.interface}: the device {self.url!r} went away (end of file)"
                )
            return data

    def _read_pyserial(self, timeout: Optional[float]) -> bytes:
        ser = self.serial
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                waiting = ser.in_waiting
                if waiting:
                    return bytes(ser.read(waiting))
                left = self._slice if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    return b""
                wait = min(left, self._slice)
                if self._read_timeout != wait:
                    ser.timeout = self._read_timeout = wait
                data = bytes(ser.read(1))
                if data:
                    waiting = ser.in_waiting
                    return data + bytes(ser.read(waiting)) if waiting else data
                if self._closed:
                    raise self._closed_error()
        except CanOperationError:
            raise
        except Exception as exc:
            if self._closed:
                raise self._closed_error() from exc
            raise CanOperationError(
                f"{self.interface}: reading from {self.url!r} failed: {exc}"
            ) from exc

    def _read_error(self, exc: OSError) -> CanOperationError:
        if self._closed:
            return self._closed_error()
        import errno

        if exc.errno == errno.EIO:
            # What a pseudo-terminal returns once its other end is closed.
            return CanOperationError(
                f"{self.interface}: the device {self.url!r} went away (I/O error)"
            )
        return CanOperationError(f"{self.interface}: reading from {self.url!r} failed: {exc}")

    def _closed_error(self) -> CanOperationError:
        return CanOperationError(
            f"{self.interface}: the port {self.url!r} was closed while reading"
        )

    # -- writing ----------------------------------------------------------------------------

    def write(self, data: bytes, timeout: Optional[float]) -> None:
        """Write all of ``data``, waiting up to ``timeout`` seconds for room (None: no limit).

        A frame is never cut in the stream: when the time runs out after part of ``data`` was
        written, the rest is kept and written first by the next call.

        :raises can.CanTimeoutError: if the port did not take all of ``data`` in time (the
            message says whether any of it went out).
        :raises can.CanOperationError: if the port is closed or writing fails.
        """
        fd = self.fd
        if fd is None:
            self._write_pyserial(data, timeout)
            return
        lock = self._lock
        lock.acquire()
        try:
            if self._closed:
                raise CanOperationError(f"{self.interface}: cannot write, {self.url!r} is closed")
            rest = self._rest
            if rest:
                data = rest + data
            try:
                written = os.write(fd, data)
            except BlockingIOError:
                written = 0
            if written != len(data):
                self._write_slowly(fd, data, written, len(rest), timeout)
            elif rest:
                self._rest = b""
        except CanError:
            raise
        except OSError as exc:
            raise CanOperationError(
                f"{self.interface}: writing to {self.url!r} failed: {exc}"
            ) from exc
        finally:
            lock.release()

    def _write_slowly(
        self, fd: int, data: bytes, written: int, old: int, timeout: Optional[float]
    ) -> None:
        """Finish a write the port did not take at once; ``old`` bytes of ``data`` are the rest
        of an earlier frame."""
        written = self._write_more(fd, memoryview(data), written, timeout)
        if written == len(data):
            self._rest = b""
            return
        if written <= old:
            self._rest = data[written:old]
            raise CanTimeoutError(
                f"{self.interface}: {self.url!r} took no data within {timeout} s "
                "(the device is not reading); the frame was not sent"
            )
        self._rest = bytes(data[written:])
        raise CanTimeoutError(
            f"{self.interface}: {self.url!r} took only part of the frame within {timeout} s "
            "(the device is not reading); the rest is written before the next frame"
        )

    def _write_more(self, fd: int, view: memoryview, written: int, timeout: Optional[float]) -> int:
        """Go on writing ``view`` from ``written`` until done or the time is up."""
        total = len(view)
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        while written < total:
            if self._closed:
                raise CanOperationError(f"{self.interface}: {self.url!r} was closed while writing")
            left = _WAIT_SLICE
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
            try:
                select.select([], [fd], [], min(left, _WAIT_SLICE))
                written += os.write(fd, view[written:])
            except BlockingIOError:
                continue
            except (OSError, ValueError) as exc:
                raise CanOperationError(
                    f"{self.interface}: writing to {self.url!r} failed: {exc}"
                ) from exc
        return written

    def _write_pyserial(self, data: bytes, timeout: Optional[float]) -> None:
        ser = self.serial
        with self._lock:
            if self._write_timeout != timeout:
                ser.write_timeout = self._write_timeout = timeout
            try:
                ser.write(data)
            except self._timeout_exception as exc:
                raise CanTimeoutError(
                    f"{self.interface}: {self.url!r} did not take the data within {timeout} s"
                ) from exc
            except Exception as exc:
                raise CanOperationError(
                    f"{self.interface}: writing to {self.url!r} failed: {exc}"
                ) from exc

    # -- the rest ---------------------------------------------------------------------------

    def discard_input(self) -> None:
        """Drop whatever has arrived and not been read yet."""
        if self._closed:
            return
        try:
            self.serial.reset_input_buffer()
        except Exception as exc:
            raise CanOperationError(
                f"{self.interface}: flushing the input of {self.url!r} failed: {exc}"
            ) from exc

    def close(self) -> None:
        """Close the port; a read waiting in another thread ends with an error. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._wake_w is not None:
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass
        with self._lock:
            # pyserial's socket:// port drops its socket unclosed when shutting the connection
            # down fails (the peer closed it first); close it here in any case.
            sock = getattr(self.serial, "_socket", None)
            try:
                self.serial.close()
            finally:
                if sock is not None:
                    sock.close()
                for fd in (self._wake_r, self._wake_w):
                    if fd is not None:
                        os.close(fd)
                self._wake_r = self._wake_w = None
