"""Sphinx configuration for the `can` documentation.

Build with ``make docs`` (``sphinx-build -W --keep-going -b html docs docs/_build/html``): it
imports the built package from build/pkg, so autodoc shows the code that ships in the wheel.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import can

DOCS = Path(__file__).resolve().parent

project = "can"
author = "The can developers"
copyright = "2025, the can developers"
version = release = can.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "sphinx_copybutton",
]

exclude_patterns = ["_build", "examples/README.*"]
templates_path: list[str] = []

# Show parameter and return types from the annotations in the parameter lists, not in the
# signatures (the python-can manual's look), and keep signatures in source order.
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}
autoclass_content = "class"

# furo: a maintained theme whose content column is wide enough for an 88-column example, with
# the page's table of contents on the right; custom.css lets code blocks use the full width of
# the content column and wraps nothing (a long line still scrolls rather than breaking code).
html_theme = "furo"
html_title = f"can {release}"
html_theme_options = {
    "navigation_with_keys": True,
}
html_static_path = ["_static"]
html_css_files = ["custom.css"]

# sphinx-copybutton: the copy button drops the ``>>>``/``...`` prompts and the output lines of
# an interactive example, and the ``$`` of a shell line, so what is copied runs as it is.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True


# Toctree entries written ``(optional) name`` list a page that other work adds (util, listeners,
# ...): the entry is kept once docs/name.rst exists and dropped until then, so the build stays
# warning-free while the pages arrive one by one.
_OPTIONAL_ENTRY = re.compile(r"^(?P<indent>[ \t]+)\(optional\) (?P<page>\S+)[ \t]*\n", re.MULTILINE)


def _resolve_optional_entries(app: Any, docname: str, source: list[str]) -> None:
    base = (DOCS / docname).parent

    def keep_if_present(match: re.Match[str]) -> str:
        page = match.group("page")
        present = (base / f"{page}.rst").is_file()
        return f"{match.group('indent')}{page}\n" if present else ""

    source[0] = _OPTIONAL_ENTRY.sub(keep_if_present, source[0])


def _always_reread_pages_with_optional_entries(
    app: Any, env: Any, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    return [
        name
        for name in env.found_docs
        if _OPTIONAL_ENTRY.search((DOCS / f"{name}.rst").read_text(encoding="utf-8"))
    ]


def setup(app: Any) -> dict[str, Any]:
    app.connect("source-read", _resolve_optional_entries)
    app.connect("env-get-outdated", _always_reread_pages_with_optional_entries)
    return {"parallel_read_safe": True}
