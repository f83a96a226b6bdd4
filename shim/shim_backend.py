"""PEP 517 backend of the `python-can` stand-in wheel (see pyproject.toml).

The wheel holds only its ``.dist-info``: METADATA naming ``python-can`` at the version of
this repository's ``can`` and requiring ``can`` at exactly that version. It installs no
module, so it can never put files over the ``can`` package.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
NAME = "python-can"
SUMMARY = "Stand-in distribution: satisfies requirements on python-can with the Rust-based `can`"


def _version() -> str:
    """The version of `can`: rust/Cargo.toml in a checkout, PKG-INFO in an unpacked sdist."""
    pkg_info = HERE / "PKG-INFO"
    if pkg_info.is_file():
        text, pattern = pkg_info.read_text(encoding="utf-8"), r"^Version: (\S+)$"
        where = pkg_info
    else:
        where = HERE.parent / "rust" / "Cargo.toml"
        if not where.is_file():
            raise RuntimeError(f"cannot find the version of `can`: {where} does not exist")
        # The first `version = "..."` is the [package] table's: it comes before any other table.
        text, pattern = where.read_text(encoding="utf-8"), r'^version\s*=\s*"([^"]+)"'
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no version found in {where}")
    return match.group(1)


def _metadata(version: str) -> str:
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {NAME}\n"
        f"Version: {version}\n"
        f"Summary: {SUMMARY}\n"
        "License: MIT\n"
        "Requires-Python: >=3.9\n"
        f"Requires-Dist: can=={version}\n"
    )


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}\n"


def _dist_info(version: str) -> str:
    return f"python_can-{version}.dist-info"


def _write_dist_info(directory: Path, version: str) -> str:
    info = directory / _dist_info(version)
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(_metadata(version), encoding="utf-8")
    return info.name


def get_requires_for_build_wheel(config_settings: Optional[dict[str, Any]] = None) -> list[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[dict[str, Any]] = None) -> list[str]:
    return []


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: Optional[dict[str, Any]] = None
) -> str:
    return _write_dist_info(Path(metadata_directory), _version())


def build_wheel(
    wheel_directory: str,
    config_settings: Optional[dict[str, Any]] = None,
    metadata_directory: Optional[str] = None,
) -> str:
    version = _version()
    info = _dist_info(version)
    files = {
        f"{info}/METADATA": _metadata(version).encode(),
        f"{info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: shim_backend\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    record = "".join(_record_line(path, data) for path, data in files.items())
    record += f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode()
    name = f"python_can-{version}-py3-none-any.whl"
    # A fixed timestamp: the same version always gives the same bytes.
    stamp = (2020, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(Path(wheel_directory) / name, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files.items():
            entry = zipfile.ZipInfo(path, date_time=stamp)
            entry.external_attr = 0o644 << 16
            wheel.writestr(entry, data, zipfile.ZIP_DEFLATED)
    return name


def build_sdist(sdist_directory: str, config_settings: Optional[dict[str, Any]] = None) -> str:
    """pyproject.toml, this file and a PKG-INFO carrying the version (no Cargo.toml needed)."""
    version = _version()
    base = f"python_can-{version}"
    members = {
        "pyproject.toml": (HERE / "pyproject.toml").read_bytes(),
        "shim_backend.py": Path(__file__).read_bytes(),
        "PKG-INFO": _metadata(version).encode(),
    }
    name = f"{base}.tar.gz"
    with tarfile.open(Path(sdist_directory) / name, "w:gz") as archive:
        for path, data in members.items():
            entry = tarfile.TarInfo(f"{base}/{path}")
            entry.size = len(data)
            entry.mode = 0o644
            entry.mtime = int(time.mktime((2020, 1, 1, 0, 0, 0, 0, 0, -1)))
            archive.addfile(entry, io.BytesIO(data))
    return name
