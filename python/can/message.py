"""The :class:`Message`: one CAN or CAN FD frame.

The fields live in object slots of the native base type ``can._core.MessageBase`` so that the
Rust log readers can build messages without running Python code per frame; see
:doc:`/architecture` for the measurements behind that choice. Everything users call on a message
(``__init__``, ``__str__`` and the methods below) behaves as the python-can 3.3.2 manual documents.
"""

from __future__ import annotations

import copyreg
import warnings
from typing import Any, Optional, Union

from can import _core

__all__ = ["Message"]

_FIELDS: tuple[str, ...] = _core.MESSAGE_FIELDS


class Message(_core.MessageBase):
    """A CAN or CAN FD message.

    Every argument is optional and becomes the attribute of the same name. ``data`` may be
    bytes, a bytearray (used as is) or any iterable of ints 0..255; ``dlc`` defaults to
    ``len(data)``; ``is_extended_id`` defaults to True. A remote frame carries no data: data
    given with ``is_remote_frame=True`` is dropped. With ``check=True`` the arguments are
    validated and a :class:`ValueError` names the first problem found.

    ``len(msg)`` is the dlc and ``bytes(msg)`` the data (python-can 4.x).

    Messages compare by identity (``==`` is ``is``); use :meth:`equals` to compare contents.

    >>> msg = Message(arbitration_id=0x123, data=[1, 2, 3], is_extended_id=False)
    >>> msg.dlc
    3
    >>> print(msg)
    Timestamp:        0.000000        ID: 0123    S                DLC:  3    01 02 03
    """

    __slots__ = ()

    # Declared for type checkers; the storage is the native base type's slots.
    timestamp: float
    arbitration_id: int
    is_extended_id: bool
    is_remote_frame: bool
    is_error_frame: bool
    channel: Optional[Union[str, int]]
    dlc: int
    data: bytearray
    is_fd: bool
    is_rx: bool
    bitrate_switch: bool
    error_state_indicator: bool

    # -- deprecated alias ---------------------------------------------------------------------

    @property
    def extended_id(self) -> bool:
        """Deprecated alias of :attr:`is_extended_id`."""
        warnings.warn(
            "Message.extended_id is deprecated, use is_extended_id", DeprecationWarning, 2
        )
        return self.is_extended_id

    @extended_id.setter
    def extended_id(self, value: bool) -> None:
        warnings.warn(
            "Message.extended_id is deprecated, use is_extended_id", DeprecationWarning, 2
        )
        self.is_extended_id = value

    @property
    def id_type(self) -> bool:
        """Older name of :attr:`is_extended_id` (python-can 2.x)."""
        return self.is_extended_id

    @id_type.setter
    def id_type(self, value: bool) -> None:
        self.is_extended_id = value

    # -- protocols ------------------------------------------------------------------------------

    def __len__(self) -> int:
        # The dlc, as in python-can 4.x (3.3.2 gave len(data)); for a remote frame that is the
        # length requested, though it carries no data.
        return int(self.dlc)

    def __bytes__(self) -> bytes:
        return bytes(self.data)

    def __bool__(self) -> bool:
        # A message is always true, even with no data (len() alone would make it false).
        return True

    def __repr__(self) -> str:
        parts = [
            f"timestamp={self.timestamp!r}",
            f"arbitration_id={_hex_or_repr(self.arbitration_id)}",
            f"is_extended_id={self.is_extended_id!r}",
        ]
        for name in ("is_remote_frame", "is_error_frame"):
            if getattr(self, name):
                parts.append(f"{name}={getattr(self, name)!r}")
        if self.channel is not None:
            parts.append(f"channel={self.channel!r}")
        parts.append(f"dlc={self.dlc!r}")
        parts.append(f"data={_data_repr(self.data)}")
        if self.is_fd:
            parts.append("is_fd=True")
            parts.append(f"bitrate_switch={self.bitrate_switch!r}")
            parts.append(f"error_state_indicator={self.error_state_indicator!r}")
        if not self.is_rx:
            parts.append("is_rx=False")
        return f"can.Message({', '.join(parts)})"

    def __format__(self, format_spec: str) -> str:
        if not format_spec:
            return str(self)
        raise ValueError(f"Message does not support the format spec {format_spec!r}")

    # -- copy and pickle --------------------------------------------------------------------------

    def __copy__(self) -> Message:
        if _is_plain(type(self)):
            return _core.copy_message(self)  # type: ignore[no-any-return]
        new = type(self).__new__(type(self))
        new.__setstate__(self.__getstate__())
        new.data = bytearray() if self.data is None else bytearray(self.data)
        return new

    def __deepcopy__(self, memo: dict[int, Any]) -> Message:
        import copy

        new = type(self).__new__(type(self))
        memo[id(self)] = new
        new.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        if getattr(new, "data", ()) is None:
            # As copy.copy (and python-can): a message whose data was set to None copies
            # with no data bytes.
            new.data = bytearray()
        return new

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for name in _FIELDS:
            try:
                state[name] = getattr(self, name)
            except AttributeError:
                pass
        for name in copyreg._slotnames(type(self)):  # type: ignore[attr-defined]
            if name not in ("__weakref__", "__dict__") and hasattr(self, name):
                state[name] = getattr(self, name)
        instance_dict = getattr(self, "__dict__", None)
        if instance_dict:
            state.update(instance_dict)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        # Rebuild through __new__ and the state, without __init__, for every protocol and
        # every subclass (whatever its __init__ takes).
        return (copyreg.__newobj__, (type(self),), self.__getstate__())  # type: ignore[attr-defined]

    # -- comparison -----------------------------------------------------------------------------

    def equals(
        self,
        other: Message,
        timestamp_delta: Optional[Union[float, int]] = 1e-6,
        check_channel: bool = True,
        check_direction: bool = True,
    ) -> bool:
        """Whether ``other`` carries the same frame as this message.

        Timestamps are equal when they differ by at most ``timestamp_delta`` seconds
        (``None`` ignores them). ``check_channel`` and ``check_direction`` (python-can 4.x)
        choose whether ``channel`` and ``is_rx`` take part.
        """
        if self is other:
            return True
        if timestamp_delta is not None:
            if not abs(self.timestamp - other.timestamp) <= timestamp_delta:
                return False
        return (
            self.arbitration_id == other.arbitration_id
            and self.is_extended_id == other.is_extended_id
            and self.dlc == other.dlc
            and self.data == other.data
            and self.is_remote_frame == other.is_remote_frame
            and self.is_error_frame == other.is_error_frame
            and (not check_channel or self.channel == other.channel)
            and (not check_direction or self.is_rx == other.is_rx)
            and self.is_fd == other.is_fd
            and self.bitrate_switch == other.bitrate_switch
            and self.error_state_indicator == other.error_state_indicator
        )

    def _check(self) -> None:
        """Validate the message as ``check=True`` does; raise :class:`ValueError` if invalid."""
        _core.check_message(self)


def _hex_or_repr(value: Any) -> str:
    return hex(value) if isinstance(value, int) else repr(value)


def _data_repr(data: Any) -> str:
    try:
        return "[" + ", ".join(f"{b:#04x}" for b in data) + "]"
    except (TypeError, ValueError):
        return repr(data)


class _InitSignature:
    """``Message.__signature__`` for ``inspect.signature(Message)``.

    Python 3.11+ reads the signature from the native base type's docstring; older versions do
    not, so this descriptor supplies it there too. A subclass that defines its own ``__init__``
    or ``__new__`` gets None, so that inspect describes that method instead.
    """

    _signature: Any = None

    def __get__(self, obj: Any, cls: type) -> Any:
        if obj is not None:
            raise AttributeError("__signature__")
        for klass in cls.__mro__:
            if klass is _core.MessageBase:
                break
            if "__init__" in klass.__dict__ or "__new__" in klass.__dict__:
                return None
        if _InitSignature._signature is None:
            import inspect

            keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
            params = [
                inspect.Parameter(name, keyword, default=default)
                for name, default in _INIT_DEFAULTS
            ]
            params.append(inspect.Parameter("is_rx", inspect.Parameter.KEYWORD_ONLY, default=True))
            _InitSignature._signature = inspect.Signature(params)
        return _InitSignature._signature


_INIT_DEFAULTS: tuple[tuple[str, Any], ...] = (
    ("timestamp", 0.0),
    ("arbitration_id", 0),
    ("is_extended_id", None),
    ("is_remote_frame", False),
    ("is_error_frame", False),
    ("channel", None),
    ("dlc", None),
    ("data", None),
    ("is_fd", False),
    ("bitrate_switch", False),
    ("error_state_indicator", False),
    ("extended_id", None),
    ("check", False),
)

Message.__signature__ = _InitSignature()  # type: ignore[attr-defined]


_PLAIN: dict[type, bool] = {}


def _is_plain(cls: type) -> bool:
    """Whether ``cls`` adds no storage of its own to the base type (so a native copy is whole)."""
    plain = _PLAIN.get(cls)
    if plain is None:
        # No extra slots and no instance __dict__ (3.11+ keeps a managed __dict__ outside the
        # basic size, so __dictoffset__ is checked too).
        plain = cls.__basicsize__ == _core.MessageBase.__basicsize__ and cls.__dictoffset__ == 0
        _PLAIN[cls] = plain
    return plain
