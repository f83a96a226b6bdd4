"""What every vendor backend (Kvaser, PCAN, Vector, IXXAT, ...) needs from :mod:`ctypes`, in
one place.

* :class:`VendorLibrary` finds a vendor's C library by its per-platform file names, or at the
  path an environment variable names (``CAN_KVASER_LIBRARY=/opt/.../libcanlib.so``), loads it
  once, and declares each C function's signature once, with the check that turns the vendor's
  status code into an exception.
* A library that cannot be found or loaded is a :class:`~can.CanInitializationError` that says
  which files were looked for, which variable points elsewhere and how to install the driver.
* A failing call is a :class:`~can.CanOperationError` (or a subclass the backend chooses) with
  the vendor's own error text and code, from the backend's ``describe`` function.
* :class:`HostClock` turns a device's timestamps (seconds since some device epoch) into host
  time (:func:`time.time`), as a message's ``timestamp`` is everywhere else.

ctypes releases the GIL during every foreign call made through a :class:`ctypes.CDLL` (or
``WinDLL``), so a backend that waits inside the vendor's blocking receive, or in ``select`` on
the vendor's event handle, lets other Python threads run meanwhile.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional

from can.exceptions import CanError, CanInitializationError, CanOperationError

__all__ = [
    "HostClock",
    "VendorLibrary",
    "function_address",
    "native_rx_enabled",
    "platform_key",
]

#: ``status -> (is_error, text)``: how a backend reads one of its vendor's status codes.
Describe = Callable[[int], tuple[bool, str]]


def native_rx_enabled() -> bool:
    """Whether a backend may receive through its native helper (``can._core.KvaserReader``,
    ``PcanReader``: the vendor's read function called by its C address, the message built in
    Rust) instead of its ctypes call: on Linux, unless the environment variable
    ``CAN_VENDOR_NATIVE_RX`` is ``0``. Both paths give the same messages."""
    return sys.platform.startswith("linux") and os.environ.get("CAN_VENDOR_NATIVE_RX") != "0"


def function_address(function: Any) -> int:
    """The C address of a loaded ctypes function (0 if it has none), for native helpers that
    call it directly."""
    return ctypes.cast(function, ctypes.c_void_p).value or 0


def platform_key(platform: str = sys.platform) -> str:
    """``"win32"``, ``"darwin"`` or ``"linux"`` (any other POSIX system counts as Linux):
    the key of :attr:`VendorLibrary.names` that applies here."""
    if platform.startswith("win") or platform == "cygwin":
        return "win32"
    if platform == "darwin":
        return "darwin"
    return "linux"


class VendorLibrary:
    """A vendor's C library, loaded on first use.

    :param vendor: the product, as the error messages name it (``"Kvaser CANlib"``).
    :param names: platform key (:func:`platform_key`) -> the file names to try, in order
        (``{"win32": ("canlib32.dll",), "linux": ("libcanlib.so.1", "libcanlib.so")}``). A bare
        stem is also looked up with :func:`ctypes.util.find_library`.
    :param env_var: an environment variable that, when set, is the one path loaded.
    :param install_hint: how to get the library (``"install the Kvaser Linux driver and SDK
        from kvaser.com"``); ends the not-found error.
    :param stdcall: on Windows, load with the ``__stdcall`` convention (``ctypes.WinDLL``), as
        the vendors' headers declare their exports; elsewhere it makes no difference.
    :param error: the exception class for failing calls (a :class:`~can.CanOperationError`
        subclass such as ``PcanError``).
    """

    def __init__(
        self,
        vendor: str,
        names: Mapping[str, Sequence[str]],
        env_var: str,
        install_hint: str,
        *,
        stdcall: bool = True,
        error: type[CanError] = CanOperationError,
    ) -> None:
        self.vendor = vendor
        self.names = {key: tuple(value) for key, value in names.items()}
        self.env_var = env_var
        self.install_hint = install_hint
        self.stdcall = stdcall
        self.error = error
        self._lock = threading.Lock()
        self._dll: Optional[ctypes.CDLL] = None
        self._functions: dict[str, Any] = {}

    # -- finding and loading ------------------------------------------------------------------

    def candidates(self) -> list[str]:
        """What :meth:`load` tries, in order: the variable's path alone when it is set, else
        this platform's names."""
        override = os.environ.get(self.env_var)
        if override:
            return [override]
        return list(self.names.get(platform_key(), ()))

    def load(self) -> ctypes.CDLL:
        """The loaded library (loaded once per process).

        :raises CanInitializationError: if no candidate loads; the message names every file
            tried, why the last one failed, the environment variable and the install hint.
        """
        with self._lock:
            if self._dll is None:
                self._dll = self._load()
            return self._dll

    @property
    def loaded(self) -> bool:
        return self._dll is not None

    def _load(self) -> ctypes.CDLL:
        loader: Callable[[str], ctypes.CDLL] = ctypes.CDLL
        if self.stdcall and platform_key() == "win32":  # pragma: no cover - Windows only
            loader = ctypes.WinDLL  # type: ignore[attr-defined,unused-ignore]
        tried: list[str] = []
        reason = ""
        for name in self.candidates():
            paths = [name]
            if os.sep not in name and not any(
                suffix in name for suffix in (".dll", ".so", ".dylib")
            ):
                # A bare stem ("canlib"): the system's search, as ctypes.util knows it.
                found = ctypes.util.find_library(name)
                paths = [found] if found else []
            for path in paths:
                tried.append(path)
                try:
                    return loader(path)
                except OSError as exc:
                    reason = str(exc)
            if not paths:
                tried.append(name)
                reason = f"{name} is not on the library search path"
        override = os.environ.get(self.env_var)
        where = (
            f"{self.env_var}={override}"
            if override
            else f"{', '.join(tried) or 'nothing for this platform'}"
            f" (set {self.env_var} to the library's path to load another file)"
        )
        raise CanInitializationError(
            f"the {self.vendor} library could not be loaded: looked for {where}"
            + (f"; last error: {reason}" if reason else "")
            + f"; {self.install_hint}"
        )

    # -- functions ----------------------------------------------------------------------------

    def function(
        self,
        name: str,
        restype: Any,
        argtypes: Sequence[Any],
        describe: Optional[Describe] = None,
        *,
        optional: bool = False,
    ) -> Any:
        """The C function ``name`` with its signature declared (once per library).

        :param describe: when given, every call's result is a status code passed to it; when
            it says the status is an error, the call raises :attr:`error` with the function's
            name, the vendor's text and ``error_code`` = the status. Without it the result is
            returned as it is.
        :param optional: return None instead of raising when the library does not export
            ``name`` (functions that only newer drivers have).
        :raises CanInitializationError: if the library has no such function (and not
            ``optional``).
        """
        cached = self._functions.get(name)
        if cached is not None:
            return cached
        dll = self.load()
        try:
            func = getattr(dll, name)
        except AttributeError:
            if optional:
                return None
            raise CanInitializationError(
                f"the {self.vendor} library {dll._name} has no function {name}: "
                f"the driver is too old or this is not the {self.vendor} library"
            ) from None
        func.restype = restype
        func.argtypes = list(argtypes)
        if describe is not None:
            func.errcheck = self._checker(name, describe)
        self._functions[name] = func
        return func

    def declare(
        self,
        signatures: Mapping[str, tuple[Any, Sequence[Any]]],
        describe: Optional[Describe] = None,
    ) -> dict[str, Any]:
        """:meth:`function` for each ``name: (restype, argtypes)``; the checked ones are the
        functions whose ``restype`` is the status type the backend passes ``describe`` for."""
        return {
            name: self.function(name, restype, argtypes, describe)
            for name, (restype, argtypes) in signatures.items()
        }

    def _checker(self, name: str, describe: Describe) -> Callable[..., Any]:
        error = self.error

        def check(result: Any, func: Any, arguments: Any) -> Any:
            status = int(result)
            failed, text = describe(status)
            if failed:
                raise error(f"{name} failed: {text}", error_code=status)
            return result

        return check

    def reset(self) -> None:
        """Forget the loaded library and its functions (the next use loads again, e.g. after
        the environment variable changed). The old library stays mapped in the process."""
        with self._lock:
            self._dll = None
            self._functions.clear()


class HostClock:
    """Device time -> host time.

    A device counts time from its own epoch (power-up, channel open); :meth:`to_host` maps a
    device timestamp to :func:`time.time` by the offset seen at :meth:`sync` (the device's
    "now" read next to the host's), so messages from vendor backends carry the same kind of
    timestamp as every other bus. Before the first :meth:`sync` the first converted timestamp
    syncs the clock to the moment it was converted.
    """

    __slots__ = ("_offset",)

    def __init__(self) -> None:
        self._offset: Optional[float] = None

    def sync(self, device_now: float, host_now: Optional[float] = None) -> None:
        """The device's clock reads ``device_now`` seconds at host time ``host_now``
        (default: now)."""
        self._offset = (time.time() if host_now is None else host_now) - device_now

    def to_host(self, device_seconds: float) -> float:
        if self._offset is None:
            self.sync(device_seconds)
        return device_seconds + self._offset  # type: ignore[operator]
