"""The installed package: what the wheel ships, where `can` is imported from, one version.

``make test`` runs the suite against the release wheel installed in a fresh venv and sets
``CAN_TEST_INSTALLED=1``; then `can` must come from that venv's site-packages, not the source
tree.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

import can
from can import _core

SOURCE_TREE = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(can.__file__).resolve().parent


def _version_in(path: Path, pattern: str) -> str:
    match = re.search(pattern, path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"no version found in {path}"
    return match.group(1)


def _cargo_version() -> str:
    return _version_in(SOURCE_TREE / "rust" / "Cargo.toml", r'^version\s*=\s*"([^"]+)"')


def test_one_version_number() -> None:
    # rust/Cargo.toml holds the version; pyproject.toml takes it from there (dynamic), the wheel's
    # metadata and both modules report it.
    pyproject = (SOURCE_TREE / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^dynamic\s*=\s*\[[^]]*"version"', pyproject, re.MULTILINE)
    assert not re.search(r"^version\s*=", pyproject, re.MULTILINE)
    cargo = _cargo_version()
    assert _core.__version__ == cargo
    assert can.__version__ == cargo
    assert importlib.metadata.version("can") == cargo


def test_version_takes_the_python_can_4_branch() -> None:
    # docs/installation.rst, "Version numbers": the public part is the python-can release whose
    # behaviour the cross-checks compare against (the pin of .ci/requirements-ref.txt), the
    # local label `can.N` counts this project's releases.
    ref_pin = _version_in(
        SOURCE_TREE / ".ci" / "requirements-ref.txt", r"^python-can(?:\[[^]]*\])?==(\S+)$"
    )
    version = Version(can.__version__)
    assert version.public == ref_pin
    assert version.local is not None and re.fullmatch(r"can\.[1-9][0-9]*", version.local)
    assert str(version) == can.__version__  # already in PEP 440 normal form
    # The checks plug-ins and user code make, as plain strings and with packaging.
    assert can.__version__ >= "4"
    assert can.__version__ >= "4.0.0"
    assert can.__version__ >= "4.2.0"
    assert version >= Version("4.2.0")
    assert version.major == 4
    # pip's view: a requirement on python-can 4.x (or 3.x and newer) is met by this version;
    # a pin of the exact upstream release matches too, since a local label is ignored there.
    for requirement in (">=3.0.0", ">=3.3.4", ">=4.0", "~=4.0", ">=4,<5", f"=={ref_pin}"):
        assert SpecifierSet(requirement).contains(version), requirement


def test_wheel_ships_types() -> None:
    assert (PACKAGE_DIR / "py.typed").is_file()
    assert (PACKAGE_DIR / "_core.pyi").is_file()


def test_native_module_uses_the_stable_abi() -> None:
    core_file = Path(str(_core.__file__))
    assert core_file.parent == PACKAGE_DIR
    if sys.platform != "win32":
        assert core_file.name.startswith("_core.abi3."), core_file.name


@pytest.mark.skipif(
    os.environ.get("CAN_TEST_INSTALLED") != "1", reason="only when testing the installed wheel"
)
def test_imported_from_site_packages_not_the_source_tree() -> None:
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert PACKAGE_DIR.parent == site_packages, f"can imported from {PACKAGE_DIR}"
    assert PACKAGE_DIR != SOURCE_TREE / "python" / "can"


def test_import_and_print_in_a_fresh_interpreter(tmp_path: Path) -> None:
    # The acceptance check: `python -c "import can; print(can.Message(data=[1,2,3]))"`.
    # Expected text from the 3.3.2 layout (shared/DESIGN.md, 'Printed formats'): timestamp
    # right-aligned in 15, 'ID: 00000000' right-aligned in 12, flag slots, 'DLC:  3', data.
    expected = "Timestamp:        0.000000    ID: 00000000    X                DLC:  3    01 02 03"
    proc = subprocess.run(
        [sys.executable, "-c", "import can; print(can.Message(data=[1,2,3]))"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected + "\n"
