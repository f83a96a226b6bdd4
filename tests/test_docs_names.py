"""No page of docs/ names a module, class, function, attribute or exception that does not exist.

Sphinx (without nitpicky mode) renders a cross-reference it cannot resolve as plain text and
says nothing, and a ``can.*`` name inside a code block is not checked by anything but the
reader. This test checks both against the installed package: every target of a ``:class:``,
``:func:``, ``:meth:``, ``:mod:``, ``:attr:``, ``:exc:``, ``:data:`` and ``:obj:`` role, and
every dotted ``can.*`` name in a literal block, a ``code-block`` or a ``>>>`` example, is
imported and looked up with ``getattr``; every option on a console script's command line in a
code block (``can-logger -f x.blf``, ``python -m can.player --loop 3``) must be listed by that
script's ``--help``; the README's code blocks get the same checks. Names of other projects'
packages (the vendor and log-file libraries the optional extras install) are allowed when that
package is not installed here.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

import can

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.rst") if "_build" not in p.parts)

# Top-level packages that are not ours: a role or code block may name them even when they are not
# installed here (the optional extras bring them). Anything under ``can`` is always checked.
NOT_OURS = frozenset(
    {
        "ics",  # python-ics, for the neovi interface
        "asammdf",  # MF4 logs
        "serial",  # pyserial
        "msgpack",  # udp_multicast
        "pyarrow",  # can.io.read_table
        "cantools",
        "canopen",
        "canalystii",
        "pywin32",
        "win32event",
    }
)

ROLE = re.compile(r":(?:py:)?(class|func|meth|mod|attr|exc|data|obj):`(?P<body>[^`]+)`")
CURRENT_MODULE = re.compile(r"^\.\. (?:py:)?(?:current)?module:: +(?P<mod>\S+)", re.MULTILINE)
# A dotted name under ``can`` in code; not part of a path or of a longer word (``my.can.x``,
# ``~/can.conf``, ``python-can.x``), and not a file name such as ``can.ini`` or ``can.log``.
CODE_NAME = re.compile(r"(?<![\w./~\\-])can(?:\.[A-Za-z_]\w*)+")
FILE_SUFFIXES = frozenset(
    {"ini", "conf", "cfg", "log", "asc", "blf", "csv", "db", "mf4", "trc", "txt", "json"}
)
# The classes a page documents: a relative ``:attr:`arbitration_id``` under ``.. class:: Message``.
PAGE_CLASS = re.compile(
    r"^ *\.\. (?:py:)?(?:auto)?(?:class|exception):: +(?P<cls>[\w.]+)", re.MULTILINE
)
CODE_DIRECTIVE = re.compile(r"^(?P<indent> *)\.\. (?:code-block|code|sourcecode)::\s*(?P<lang>\S*)")
# Blocks in these languages hold no Python names (a TOML entry-point group is a string).
NOT_CODE = frozenset({"toml", "ini", "text", "json", "none"})


# A console script's command line in a code block: ``can-logger ...``, ``$ can_player ...``,
# ``python -m can.viewer ...``. Its options are checked against the script's --help.
SCRIPTS = "logger|player|viewer|bridge|logconvert|generate"
COMMAND = re.compile(
    rf"^\s*(?:\$\s+)?(?:can[-_](?P<script>{SCRIPTS})|python3? -m can\.(?P<module>{SCRIPTS}))"
    r"(?![\w.-])(?P<rest>.*)$"
)
OPTION = re.compile(r"^(--?[A-Za-z][\w-]*)")


@dataclass(frozen=True)
class Name:
    page: str
    line: int
    kind: str  # the role ("class", "meth", ...), "code", or "option" (name: "can.logger -x")
    name: str


def _role_target(body: str) -> str:
    """The target of a role's text: ``title <target>`` or ``~target`` or ``target``."""
    match = re.search(r"<([^<>]+)>\s*$", body)
    target = match.group(1) if match else body
    target = target.strip().lstrip("~!.")
    return target.removesuffix("()")


def _code_lines(text: str) -> list[tuple[int, str]]:
    """The lines of ``::`` literal blocks, code-block directives and ``>>>`` examples."""
    lines = text.splitlines()
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        directive = CODE_DIRECTIVE.match(line)
        if directive and directive.group("lang") in NOT_CODE:
            base = len(line) - len(line.lstrip())
            i += 1
            while i < len(lines) and (
                not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > base
            ):
                i += 1
            continue
        opens_block = bool(directive) or (stripped.endswith("::") and not stripped.startswith(".."))
        if opens_block:
            base = len(line) - len(line.lstrip())
            i += 1
            while i < len(lines):
                body = lines[i]
                if body.strip() and len(body) - len(body.lstrip()) <= base:
                    break
                if not (directive and body.strip().startswith(":")):
                    out.append((i + 1, body))
                i += 1
            continue
        if stripped.startswith(">>> "):
            while i < len(lines) and lines[i].strip():
                out.append((i + 1, lines[i]))
                i += 1
            continue
        i += 1
    return out


def names_on_page(text: str, page: str) -> list[Name]:
    """Every role target and every ``can.*`` name in the code of one page, in order."""
    found: list[Name] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in ROLE.finditer(line):
            found.append(Name(page, number, match.group(1), _role_target(match.group("body"))))
    code = _code_lines(text)
    for index, (number, line) in enumerate(code):
        command = COMMAND.match(line)
        if command is not None:
            rest = command.group("rest")
            follow = index + 1
            while rest.rstrip().endswith("\\") and follow < len(code):
                rest = rest.rstrip()[:-1] + " " + code[follow][1]
                follow += 1
            script = command.group("script") or command.group("module")
            for token in rest.split("#", 1)[0].split():
                if token == "--":
                    break
                option = OPTION.match(token)
                if option is not None:
                    found.append(Name(page, number, "option", f"can.{script} {option.group(1)}"))
    for number, line in code:
        for match in CODE_NAME.finditer(line):
            name = match.group(0)
            after = line[match.end() : match.end() + 1]
            if name.rsplit(".", 1)[-1] in FILE_SUFFIXES and after not in ("(", "."):
                continue
            found.append(Name(page, number, "code", name))
    return found


def _import(module_name: str) -> ModuleType | None:
    try:
        return importlib.import_module(module_name)
    except ImportError:
        return None


def _instance_attribute(cls: type, name: str) -> bool:
    """Whether instances of ``cls`` have ``name`` although the class has not: a slot, an
    annotation, or an assignment ``self.name = ...`` in the source of the class or a base."""
    for klass in cls.__mro__:
        if name in getattr(klass, "__slots__", ()) or name in vars(klass).get(
            "__annotations__", {}
        ):
            return True
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        if re.search(rf"\bself\.{re.escape(name)}\s*(?::[^=]+)?=", source):
            return True
    return False


def _walk(obj: object, parts: list[str]) -> bool:
    for index, part in enumerate(parts):
        if not hasattr(obj, part):
            last = index == len(parts) - 1
            return last and isinstance(obj, type) and _instance_attribute(obj, part)
        obj = getattr(obj, part)
    return True


def _resolve_absolute(dotted: str) -> bool | None:
    """True when ``dotted`` exists; None when it is another project's package not installed."""
    parts = dotted.split(".")
    if parts[0] in NOT_OURS and _import(parts[0]) is None:
        return None
    # The longest importable module prefix, then attributes from there.
    for cut in range(len(parts), 0, -1):
        module = _import(".".join(parts[:cut]))
        if module is not None:
            return _walk(module, parts[cut:])
    return False


def _our_namespaces() -> list[ModuleType]:
    """``can`` and every public module under it that imports here, for names given relative."""
    modules: list[ModuleType] = [can]
    for info in pkgutil.walk_packages(can.__path__, prefix="can."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        module = _import(info.name)
        if module is not None:
            modules.append(module)
    return modules


_NAMESPACES: list[ModuleType] = []


def name_exists(
    name: str, current_module: str | None = None, page_classes: tuple[str, ...] = ()
) -> bool | None:
    """Whether a name written on a page resolves as Sphinx would find it (None: not ours).

    An absolute ``a.b.c`` is imported; a relative one (``BLFWriter.stop``, ``ValueError``) is
    looked up in the page's current module, in the classes the page documents, in ``can``, in
    the builtins and in every public module of the package, the way the Python domain searches.
    """
    if not _NAMESPACES:
        _NAMESPACES.extend(_our_namespaces())
    parts = name.split(".")
    absolute = _resolve_absolute(name)
    if absolute is None or absolute:
        return absolute
    places: list[object] = []
    if current_module is not None:
        module = _import(current_module)
        if module is not None:
            places.append(module)
    places.append(builtins)
    places.extend(_NAMESPACES)
    if any(_walk(place, parts) for place in places):
        return True
    return any(
        _resolve_absolute(f"{prefix}.{cls}.{name}")
        for cls in page_classes
        for prefix in ([current_module] if current_module else []) + ["can"]
    ) or any(_resolve_absolute(f"{cls}.{name}") for cls in page_classes)


_HELP: dict[str, str] = {}


def option_exists(module: str, option: str) -> bool:
    """Whether ``python -m <module> --help`` lists ``option``."""
    if module not in _HELP:
        proc = subprocess.run(
            [sys.executable, "-m", module, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, f"{module} --help failed: {proc.stderr}"
        _HELP[module] = proc.stdout
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", _HELP[module]) is not None


def missing_names(text: str, page: str) -> list[Name]:
    match = CURRENT_MODULE.search(text)
    current = match.group("mod") if match else None
    classes = tuple(m.group("cls") for m in PAGE_CLASS.finditer(text))
    missing = []
    for n in names_on_page(text, page):
        if n.kind == "option":
            module, option = n.name.split(" ")
            if not option_exists(module, option):
                missing.append(n)
        elif name_exists(n.name, current, classes) is False:
            missing.append(n)
    return missing


def test_pages_are_found() -> None:
    assert len(PAGES) >= 20
    # The checker sees both kinds of name on a real page.
    kinds = {n.kind for n in names_on_page((DOCS / "bus.rst").read_text("utf-8"), "bus")}
    assert "code" in kinds and "class" in kinds


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_page_names_exist(page: Path) -> None:
    missing = missing_names(page.read_text(encoding="utf-8"), str(page.relative_to(DOCS)))
    assert not missing, "\n".join(f"{n.page}:{n.line}: {n.kind} {n.name}" for n in missing)


def test_readme_names_exist() -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```(?:sh|python)\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
    # The fenced blocks as one literal block, so the page checker reads them as code.
    page = "::\n\n" + "\n".join("    " + line for b in blocks for line in b.splitlines())
    assert any(n.kind == "option" for n in names_on_page(page, "README.md"))
    missing = missing_names(page, "README.md")
    assert not missing, "\n".join(f"README.md: {n.kind} {n.name}" for n in missing)


SYNTHETIC_PAGE = """\
Planted names
=============

:class:`can.Message` exists, :class:`can.NoSuchBus` does not; :meth:`~can.BusABC.recv` exists,
:meth:`Bus.shutdown_now <can.BusABC.shutdown_now>` does not, :exc:`ValueError` exists,
:exc:`can.CanTimeoutError` exists, :mod:`can.no_such_module` does not, :func:`ics.find_devices`
is another project's name, :class:`~BLFWriter.stop` names a real class by its short name and
:class:`~BLFWriter.no_such_method` a method it does not have.

::

    can-logger -f can.log      # a file name, not a module
    python -m can.logger
    python -m can.loggger

>>> import can
>>> can.util.load_config()  # doctest: +SKIP
>>> can.util.no_such_helper()  # doctest: +SKIP

.. code-block:: python

    bus = can.interface.Bus(interface="virtual")
    bus = can.interfaces.virtual.VirtualBus("x")
    bus = can.interfaces.no_such.Bus("x")

.. code-block:: toml

    [project.entry-points."can.no_such_group"]

.. code-block:: console

    $ can-player -i virtual --loop 3 --no-such-flag -g 0.5 drive.asc  # --also-not
    $ python -m can.logger -c vcan0 \\
          -Z -f x.log
    $ can-logconvert -f 7DF:7FF -- --not-an-option.blf out.asc
"""


def test_planted_bad_names_are_reported() -> None:
    missing = missing_names(SYNTHETIC_PAGE, "planted.rst")
    assert sorted((n.line, n.kind, n.name) for n in missing) == [
        (4, "class", "can.NoSuchBus"),
        (5, "meth", "can.BusABC.shutdown_now"),
        (6, "mod", "can.no_such_module"),
        (8, "class", "BLFWriter.no_such_method"),
        (14, "code", "can.loggger"),
        (18, "code", "can.util.no_such_helper"),
        (24, "code", "can.interfaces.no_such.Bus"),
        (32, "option", "can.player --no-such-flag"),
        (33, "option", "can.logger -Z"),
    ]
    # Every good name above was seen and resolved, not skipped.
    seen = {n.name for n in names_on_page(SYNTHETIC_PAGE, "planted.rst")}
    assert {"can.Message", "can.logger", "can.util.load_config", "BLFWriter.stop"} <= seen
    assert "can.log" not in seen and "can.no_such_group" not in seen
    assert name_exists("ics.find_devices") is None or "ics" in sys.modules
