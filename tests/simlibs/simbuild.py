"""Build the simulated vendor libraries: ``python tests/simlibs/simbuild.py [OUT_DIR] [VENDOR...]``.

Each directory here (``kvaser/``, ``pcan/``, ...) is one simulated library: its ``*.c`` files
plus the shared ``simcore.c`` become one shared object named by the first line of its
``libnames`` file (the real driver's file name, so a backend loads it exactly as it loads the
vendor's library); the other lines become symlinks to it. ``make simlibs`` and the tests'
``simlib`` fixture both call :func:`build`, which rebuilds only what is out of date.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFAULT_OUT = ROOT / "build" / "simlibs"
CFLAGS = ["-shared", "-fPIC", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-pthread"]


def vendors() -> list[str]:
    return sorted(p.name for p in HERE.iterdir() if (p / "libnames").is_file())


def build(vendor: str, out: pathlib.Path = DEFAULT_OUT) -> pathlib.Path:
    """The path of ``vendor``'s simulated library, compiled first if a source is newer."""
    src = HERE / vendor
    names = [n.strip() for n in (src / "libnames").read_text().splitlines() if n.strip()]
    if not names:
        raise ValueError(f"{src / 'libnames'} names no library")
    sources = [*sorted(src.glob("*.c")), HERE / "simcore.c"]
    headers = [*sorted(src.glob("*.h")), HERE / "simcore.h"]
    target_dir = out / vendor
    target = target_dir / names[0]
    newest = max(p.stat().st_mtime for p in [*sources, *headers, src / "libnames"])
    if not target.exists() or target.stat().st_mtime < newest:
        target_dir.mkdir(parents=True, exist_ok=True)
        compiler = os.environ.get("CC") or shutil.which("cc") or "gcc"
        tmp = target.with_name(target.name + ".tmp")
        subprocess.run(
            # The soname is the real library's file name, so ctypes.util.find_library (which
            # reads it) finds the simulated library as it finds the vendor's.
            [
                compiler,
                *CFLAGS,
                f"-Wl,-soname,{names[0]}",
                f"-I{HERE}",
                f"-I{src}",
                "-o",
                str(tmp),
                *map(str, sources),
            ],
            check=True,
        )
        os.replace(tmp, target)
    for alias in names[1:]:
        link = target_dir / alias
        if not link.is_symlink():
            link.unlink(missing_ok=True)
            link.symlink_to(names[0])
    return target


def main(argv: list[str]) -> int:
    out = pathlib.Path(argv[0]) if argv else DEFAULT_OUT
    for vendor in argv[1:] or vendors():
        print(build(vendor, out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
