"""The Vector backend's exceptions: :class:`VectorError` (python-can 3.3.2 manual, section
4.11) and python-can 4.x's subclasses for initialization and operation failures."""

from __future__ import annotations

from typing import Any, Optional

from can.exceptions import CanError, CanInitializationError, CanOperationError

__all__ = ["VectorError", "VectorInitializationError", "VectorOperationError"]


class VectorError(CanError):
    """A call into the Vector XL Driver Library failed.

    :param error_code: the library's ``XLstatus`` (e.g. 118 for ``XL_ERR_INVALID_PORT``), or
        None when the failure was found by this backend rather than returned by the library.
    :param error_string: the library's name for the status (``xlGetErrorString``) or a
        description.
    :param function: the library function that failed (``"xlOpenPort"``).

    The message reads ``"xlOpenPort failed (XL_ERR_INVALID_PORT) [Error Code 118]"``.
    """

    def __init__(self, error_code: Optional[int], error_string: str, function: str) -> None:
        self.error_string = error_string
        self.function = function
        text = f"{function} failed ({error_string})"
        super().__init__(text, error_code=error_code)
        self._args = (error_code, error_string, function)

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), self._args, {}

    @classmethod
    def from_generic(cls, error: VectorError) -> VectorError:
        """``error`` as an instance of this class (same code, text and function)."""
        return cls(error.error_code, error.error_string, error.function)


class VectorInitializationError(VectorError, CanInitializationError):
    """The bus could not be opened (python-can 4.x)."""


class VectorOperationError(VectorError, CanOperationError):
    """An operation on an open bus failed (python-can 4.x)."""
