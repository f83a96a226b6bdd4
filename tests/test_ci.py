"""The CI plumbing that runs the suite under other CPythons (`make test-python-versions`).

``.ci/find-python X.Y`` must find an installed interpreter of that version whichever way it is
installed, pass over ones that do not run, and fail (never print nothing and succeed) when there
is none, since on CI a missing interpreter is a failure. The per-version test requirements must
not fall behind the main ones.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

SOURCE_TREE = Path(os.environ.get("CAN_SOURCE_TREE", Path(__file__).resolve().parent.parent))
FIND_PYTHON = SOURCE_TREE / ".ci" / "find-python"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the CI scripts are bash")

# Versions no real interpreter has, so that nothing installed on the machine can answer.
_VERSION = "3.98"


def _fake_python(path: Path, answer: str, status: int = 0) -> Path:
    """An executable that answers the script's `-c` probe like an interpreter would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho '{answer}'\nexit {status}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def _find(
    version: str, pyenv_root: Path, path_dirs: list[Path]
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.pathsep.join([*map(str, path_dirs), "/usr/bin", "/bin"]),
        "PYENV_ROOT": str(pyenv_root),
        "HOME": str(pyenv_root.parent),
    }
    return subprocess.run(
        ["bash", str(FIND_PYTHON), version],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )


def test_find_python_takes_the_newest_pyenv_version_that_runs(tmp_path: Path) -> None:
    root = tmp_path / "pyenv"
    exe = f"python{_VERSION}"
    _fake_python(root / "versions" / f"{_VERSION}.2" / "bin" / exe, f"{_VERSION} CPython")
    # Newer, but broken (a half-removed install): passed over.
    _fake_python(root / "versions" / f"{_VERSION}.10" / "bin" / exe, "", status=1)
    _fake_python(root / "versions" / f"{_VERSION}.1" / "bin" / exe, f"{_VERSION} CPython")
    done = _find(_VERSION, root, [])
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{root}/versions/{_VERSION}.2/bin/{exe}\n"


def test_find_python_falls_back_to_path_and_checks_the_version(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    # A pyenv shim for a version that is not activated exits non-zero; an interpreter that
    # is another implementation or version is not taken either.
    _fake_python(bin_dir / f"python{_VERSION}", f"{_VERSION} PyPy")
    done = _find(_VERSION, tmp_path / "no-pyenv", [bin_dir])
    assert done.returncode == 1
    assert done.stdout == ""
    _fake_python(bin_dir / f"python{_VERSION}", f"{_VERSION} CPython")
    done = _find(_VERSION, tmp_path / "no-pyenv", [bin_dir])
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{bin_dir}/python{_VERSION}\n"


def test_find_python_fails_with_a_reason_when_the_version_is_missing(tmp_path: Path) -> None:
    done = _find("3.97", tmp_path / "pyenv", [])
    assert done.returncode == 1
    assert done.stdout == ""
    assert "no CPython 3.97 found" in done.stderr
    bad = _find("3", tmp_path / "pyenv", [])
    assert bad.returncode == 2
    assert "not a MAJOR.MINOR version: 3" in bad.stderr


def _names(requirements: Path) -> set[str]:
    names = set()
    for line in requirements.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = re.match(r"[A-Za-z0-9_.-]+", line)
            assert match, f"{requirements.name}: cannot read {line!r}"
            names.add(match.group(0).lower().replace("_", "-"))
    return names


# Pinned in requirements-test.txt only because asammdf 8.8 requires them; asammdf 8.1, the one
# for 3.9, does not, and no test imports them.
_ASAMMDF_8_8_ONLY = {"chardet", "deflate", "zstd"}


@pytest.mark.parametrize("kind", ["test", "test-nodeps"])
def test_python39_requirements_cover_the_main_ones(kind: str) -> None:
    # Every test requirement is installed under 3.9 too (in a version that has a 3.9 release),
    # so a requirement added for a new test is not missing there.
    main = _names(SOURCE_TREE / ".ci" / f"requirements-{kind}.txt")
    py39 = _names(SOURCE_TREE / ".ci" / f"requirements-{kind}-py39.txt")
    assert main - py39 - _ASAMMDF_8_8_ONLY == set()
