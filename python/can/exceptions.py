"""Exceptions raised by this library.

Every error about the CAN bus or an interface is a :class:`CanError`, itself an :class:`OSError`
as the python-can 3.3.2 manual documents (section 3.10). The subclasses are python-can 4.x's,
which users now catch to tell set-up problems from run-time ones::

    OSError
     └── CanError
          ├── CanInterfaceNotImplementedError   (also NotImplementedError)
          ├── CanInitializationError
          ├── CanOperationError
          └── CanTimeoutError                   (also TimeoutError)

Bad values handed to the library (an invalid message with ``check=True``, a malformed
configuration value) raise :class:`ValueError` instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional

__all__ = [
    "CanError",
    "CanInitializationError",
    "CanInterfaceNotImplementedError",
    "CanOperationError",
    "CanTimeoutError",
    "error_check",
]


class CanError(OSError):
    """An error with the CAN network, a CAN interface or its driver.

    :param message: what went wrong.
    :param error_code: the driver's or operating system's error code, if there is one; it is
        kept in :attr:`error_code` and shown in ``str()`` of the error.
    """

    def __init__(self, message: str = "", error_code: Optional[int] = None) -> None:
        self.error_code = error_code
        self.message = message
        text = message if error_code is None else f"{message} [Error Code {error_code}]"
        super().__init__(text)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __reduce__(self) -> tuple[type[CanError], tuple[str, Optional[int]]]:
        return (type(self), (self.message, self.error_code))


class CanInterfaceNotImplementedError(CanError, NotImplementedError):
    """The interface is unknown, not supported on this platform, or its driver is missing."""


class CanInitializationError(CanError):
    """The bus could not be set up (bad channel or bitrate, device not found, ...)."""


class CanOperationError(CanError):
    """An operation on an open bus failed (sending, receiving, shutting down, ...)."""


class CanTimeoutError(CanError, TimeoutError):
    """An operation did not finish in the time given."""


@contextmanager
def error_check(
    error_message: Optional[str] = None,
    exception_type: type[CanError] = CanOperationError,
) -> Iterator[None]:
    """Turn any exception raised in the ``with`` block into ``exception_type`` (python-can 4.x).

    Interface code wraps driver calls in it so that callers see a :class:`CanError` subclass;
    the original exception is kept as ``__cause__``.

    :param error_message: the message of the new exception; by default the original's text.
    :param exception_type: the :class:`CanError` subclass to raise.

    >>> with error_check("could not open the device", CanInitializationError):
    ...     raise OSError(19, "No such device")
    Traceback (most recent call last):
      ...
    can.exceptions.CanInitializationError: could not open the device
    """
    try:
        yield
    except Exception as exc:
        message = str(exc) if error_message is None else error_message
        raise exception_type(message) from exc
