"""Every example in docs/ runs: the ``>>>`` examples of each page and of the package's docstrings
(doctest) and the scripts in docs/examples/ (each in a fresh interpreter, where it checks its own
results with ``assert``)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import can

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.rst") if "_build" not in p.parts)
PAGES_WITH_EXAMPLES = [p for p in PAGES if ">>> " in p.read_text(encoding="utf-8")]
SCRIPTS = sorted((DOCS / "examples").glob("*.py"))
OPTIONS = doctest.ELLIPSIS


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(DOCS)) for p in paths]


def test_docs_are_found() -> None:
    # Guards the parametrized tests below against silently running on nothing.
    assert DOCS.joinpath("conf.py").is_file()
    assert len(PAGES_WITH_EXAMPLES) >= 5
    assert len(SCRIPTS) >= 3


@pytest.mark.parametrize("page", PAGES_WITH_EXAMPLES, ids=_ids(PAGES_WITH_EXAMPLES))
def test_page_examples(page: Path) -> None:
    result = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=OPTIONS,
        raise_on_error=False,
        verbose=False,
        report=True,
        encoding="utf-8",
    )
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {page}"


@pytest.mark.parametrize("script", SCRIPTS, ids=_ids(SCRIPTS))
def test_example_script(script: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip(), "the example printed nothing"


def _package_modules() -> list[str]:
    names = ["can"]
    for info in pkgutil.walk_packages(can.__path__, prefix="can."):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("module_name", _package_modules())
def test_docstring_examples(module_name: str) -> None:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        # An interface whose optional dependency (pyserial, python-ics, ...) is missing.
        pytest.skip(f"{module_name} cannot be imported here: {exc}")
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    for test in finder.find(module, module_name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"


def test_readme_python_blocks(tmp_path: Path) -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
    assert blocks, "README.md has no python code block"
    for code in blocks:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, code + proc.stdout + proc.stderr
