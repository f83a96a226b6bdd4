"""Name -> class registries for the pluggable parts of the library.

One mechanism serves every kind of plug-in (interfaces now, log formats later): a plain mapping
of names to ``(module, attribute)`` pairs that ships with the library, extended by the entry
points of one group (``name = module:attribute``) that other installed packages declare.

Nothing is imported until a name is resolved, and the installed entry points are read only when
a name outside the built-in mapping is needed: importing :mod:`importlib.metadata` and scanning
the installed distributions costs tens of milliseconds, so ``import can`` never does it. The
scan is cached; a name that is not found triggers one re-scan, so a plug-in installed while the
process runs is still found.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections.abc import Iterator, MutableMapping
from typing import Any, Callable, Optional

__all__ = ["Registry", "Target", "read_entry_points"]

LOG = logging.getLogger("can.registry")

#: Where a registered name lives: ``(module name, attribute path inside the module)``.
Target = tuple[str, str]


def read_entry_points(group: str) -> dict[str, Target]:
    """The entry points of ``group`` declared by the installed distributions.

    When two distributions declare the same name, the first one on :data:`sys.path` wins, as it
    would for an import. Entry points that name no attribute (``name = module``) are ignored
    with a warning logged.
    """
    import importlib.metadata as metadata

    if sys.version_info >= (3, 10):
        entry_points: Any = metadata.entry_points(group=group)
    else:
        entry_points = metadata.entry_points().get(group, ())
    found: dict[str, Target] = {}
    for entry_point in entry_points:
        name = entry_point.name
        # "module:attr [extras]"; parsed here because EntryPoint.module/.attr are not in every
        # supported Python version
        module, _, attr = entry_point.value.split("[", 1)[0].partition(":")
        module, attr = module.strip(), attr.strip()
        if not module or not attr:
            LOG.warning(
                "ignoring entry point %r = %r of group %r: expected 'module:Class'",
                name,
                entry_point.value,
                group,
            )
            continue
        if name in found:
            LOG.debug(
                "entry point %r of group %r is declared twice; keeping the first", name, group
            )
            continue
        found[name] = (module, attr)
    return found


class Registry:
    """Built-in names plus those of an entry-point group, resolved to objects on demand.

    :param group: the entry-point group that extends the registry (e.g. ``"can.interface"``).
    :param builtin: the built-in mapping. It is used as is, not copied, so names added to it at
        run time are found too. Built-in names take precedence over entry points.
    :param kind: what a name denotes, for error messages (e.g. ``"interface"``).
    :param error: the exception type raised when a name cannot be resolved.
    """

    def __init__(
        self,
        group: str,
        builtin: MutableMapping[str, Target],
        kind: str,
        error: Callable[[str], Exception],
    ) -> None:
        self.group = group
        self.builtin = builtin
        self.kind = kind
        self._error = error
        self._plugins: Optional[dict[str, Target]] = None
        self._lock = threading.Lock()

    def plugins(self, refresh: bool = False) -> dict[str, Target]:
        """The names registered through entry points (read once, again when ``refresh``)."""
        with self._lock:
            if self._plugins is None or refresh:
                plugins = read_entry_points(self.group)
                for name in sorted(plugins.keys() & self.builtin.keys()):
                    LOG.warning(
                        "entry point %r = %s:%s of group %r is ignored: %r is a built-in %s",
                        name,
                        *plugins[name],
                        self.group,
                        name,
                        self.kind,
                    )
                self._plugins = plugins
            return self._plugins

    def refresh(self) -> None:
        """Read the installed entry points again (after installing or removing a plug-in)."""
        self.plugins(refresh=True)

    def names(self) -> list[str]:
        """Every registered name: the built-in ones in their order, then plug-ins sorted."""
        builtin = list(self.builtin)
        return builtin + sorted(set(self.plugins()) - set(builtin))

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def target(self, name: str) -> Optional[Target]:
        """Where ``name`` lives, or None if it is registered nowhere.

        The built-in mapping is asked first, then the cached entry points, and, if the name is
        still unknown, freshly read entry points.
        """
        target = self.builtin.get(name)
        if target is None:
            target = self.plugins().get(name)
        if target is None:
            target = self.plugins(refresh=True).get(name)
        return target

    def unknown_name_message(self, name: object, origin: str = "") -> str:
        """The error text for a name that is not registered: it lists the valid names.

        :param origin: where the name came from, e.g. ``"the Bus() arguments"``.
        """
        valid = ", ".join(repr(n) for n in sorted(self.names()))
        where = f" (from {origin})" if origin else ""
        return f"unknown {self.kind} {name!r}{where}; valid {self.kind}s are: {valid}"

    def load(self, name: str) -> Any:
        """Import the module registered for ``name`` and return the registered attribute.

        :raises error: (the type given to the constructor) if the name is not registered, its
            module does not exist or fails to import (the :class:`ImportError` or
            :class:`OSError` is chained), or the module lacks the attribute.
        """
        target = self.target(name)
        if target is None:
            raise self._error(self.unknown_name_message(name))
        module_name, attr = target
        where = f"{module_name}:{attr}"
        try:
            obj: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (
                module_name == exc.name or module_name.startswith(exc.name + ".")
            ):
                raise self._error(
                    f"the {self.kind} {name!r} is not available: it is registered as {where}, "
                    f"but the module {module_name!r} does not exist"
                ) from exc
            raise self._error(
                f"the {self.kind} {name!r} is not available: importing {module_name!r} failed: "
                f"{exc}"
            ) from exc
        except (ImportError, OSError) as exc:
            raise self._error(
                f"the {self.kind} {name!r} is not available: importing {module_name!r} failed: "
                f"{exc}"
            ) from exc
        for part in attr.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError as exc:
                raise self._error(
                    f"the {self.kind} {name!r} is not available: it is registered as {where}, "
                    f"but {module_name!r} has no attribute {attr!r}"
                ) from exc
        return obj
