"""A serial port for the ``serial`` and ``slcan`` interfaces: pyserial opens it, reads and writes
go straight to the file descriptor where there is one.

pyserial is an optional dependency (``pip install can[serial]``); it is imported when a port is
opened, so the interface modules import without it. Channels are device paths (``/dev/ttyUSB0``,
``COM4``) or pyserial URLs (``loop://``, ``socket://host:port``, ``rfc2217://host:port``).

On POSIX, a port with a file descriptor (a tty, a pseudo-terminal, a TCP socket) is read with
``select`` + ``os.read`` of whatever has arrived: pyserial's own ``read(n)`` waits for ``n``
bytes. It is written by the native ``can._core.SerialWriter``, which encodes a message and
hands it to the descriptor in one call, non-blocking, waiting in ``poll`` for room up to the
send timeout: a blocking write to a pseudo-terminal whose reader stopped can hang for good.
Ports without a descriptor (``loop://``, ``rfc2217://``, Windows) go through pyserial's API
with the same semantics.

The two bus classes share the rest through this module: :meth:`SerialPort.receive` (the
receive loop around a decoder), :meth:`SerialPort.fileno` and :func:`available_configs`.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections import deque
from typing import Any, Callable, Optional, Union

from can import _core
from can.exceptions import (
    CanInitializationError,
    CanInterfaceNotImplementedError,
    CanOperationError,
    CanTimeoutError,
)
from can.message import Message

__all__ = ["SerialPort", "available_configs", "import_pyserial"]

#: Message -> the bytes of its frame (raises ValueError for one the framing cannot carry).
Encoder = Callable[[Message], bytes]

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


def available_configs(interface: str) -> list[dict[str, Any]]:
    """One config per serial port pyserial lists (none without pyserial)."""
    try:
        import_pyserial(interface)
    except CanInterfaceNotImplementedError:
        return []
    from serial.tools import list_ports

    return [{"interface": interface, "channel": port.device} for port in list_ports.comports()]


class SerialPort:
    """An open serial port (device path or pyserial URL).

    :param url: the device path or pyserial URL.
    :param interface: the interface name, for error messages.
    :param framing: ``"slcan"`` or ``"serial"``: how :meth:`send` encodes a message.
    :param encode: the Python encoder of that framing; the native writer uses it for the
        messages it does not encode itself, and it raises the ValueError for those that cannot
        be sent.
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
        framing: str,
        encode: Encoder,
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
        # Serialises writes through pyserial (the native writer has its own lock).
        self._lock = threading.Lock()
        self._encode = encode
        self._writer: Optional[_core.SerialWriter] = None
        #: ``send(msg, timeout)``: encode ``msg`` and write it, waiting up to ``timeout``
        #: seconds (None: no limit) for the port to take it. Returns once the bytes are
        #: handed to the OS; a frame is never cut in the stream (when the time runs out
        #: after part of it went out, the rest goes out before the next frame).
        #: Raises ValueError for a message the framing cannot carry,
        #: :class:`can.CanTimeoutError` when the port took no data (the frame was not sent)
        #: or only part of it in time, :class:`can.CanOperationError` when the port is
        #: closed or writing fails.
        self.send: Callable[[Message, Optional[float]], None] = self._send_pyserial
        if os.name == "posix":
            try:
                fd = self.serial.fileno()
            except (OSError, AttributeError, ValueError):
                fd = None
            if isinstance(fd, int) and fd >= 0:
                os.set_blocking(fd, False)
                self.fd = fd
                self._wake_r, self._wake_w = os.pipe()
                self._writer = _core.SerialWriter(
                    fd, self._wake_r, self._wake_w, framing, encode, interface, url
                )
                self.send = self._writer.send

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
        """Write all of ``data`` (commands), waiting up to ``timeout`` seconds for room (None:
        no limit); the same rules as :meth:`send`.

        :raises can.CanTimeoutError: if the port did not take all of ``data`` in time.
        :raises can.CanOperationError: if the port is closed or writing fails.
        """
        writer = self._writer
        if writer is None:
            self._write_pyserial(data, timeout)
        else:
            writer.write(data, timeout)

    def _send_pyserial(self, msg: Message, timeout: Optional[float]) -> None:
        self._write_pyserial(self._encode(msg), timeout)

    def _write_pyserial(self, data: bytes, timeout: Optional[float]) -> None:
        ser = self.serial
        with self._lock:
            if self._closed:
                raise CanOperationError(f"{self.interface}: cannot write, {self.url!r} is closed")
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

    # -- shared by the bus classes ----------------------------------------------------------

    def receive(
        self,
        pending: deque[Union[Message, CanOperationError]],
        feed: Callable[[bytes], Any],
        timeout: Optional[float],
    ) -> Optional[Message]:
        """The next decoded frame, reading and decoding until one is there or ``timeout``
        seconds passed (None: no limit).

        ``feed`` takes the bytes read and appends what they complete to ``pending``: messages,
        and the errors of malformed frames, which are raised when their turn comes (the next
        call goes on after them).

        :returns: the message, or None if no whole frame came in time.
        """
        if not pending:
            deadline = None if timeout is None else time.monotonic() + timeout
            left = timeout
            while True:
                data = self.read(left)
                if not data:
                    return None
                feed(data)
                if pending:
                    break
                # Only part of a frame so far: wait for the rest within the same timeout.
                if deadline is not None:
                    left = max(0.0, deadline - time.monotonic())
        item = pending.popleft()
        if isinstance(item, CanOperationError):
            raise item
        return item

    def fileno(self) -> int:
        """The descriptor to wait on for received data (POSIX ports that have one).

        :raises NotImplementedError: if the port has none (``loop://``, ``rfc2217://``,
            Windows).
        """
        if self.fd is None:
            raise NotImplementedError(f"{self.url!r} has no file descriptor to wait on")
        return self.fd

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
        if self._writer is not None:
            # Wakes the readers and a writer waiting for room; returns when no write is in
            # progress, so the descriptors can be closed below.
            self._writer.close()
        elif self._wake_w is not None:
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
