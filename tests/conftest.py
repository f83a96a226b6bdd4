"""Suite-wide pytest settings.

On CI (``CI=true``) a test may skip only for a reason that a fresh CI machine really has. A test
that skips because the shared real-world log files, can-utils or the reference python-can (which
`make test` installs into build/ref-venv, never as a dependency) are missing would hide a broken
set-up there, so on CI such a skip is reported as a failure.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

# Skip reasons (prefixes) that must not happen on CI: CI has ../shared/data beside the clone,
# .ci/run installs can-utils, and `make test` the reference python-can (with msgpack).
_REQUIRED_ON_CI = (
    "shared test data not found",
    "pyarrow (can[arrow]) not installed",
    "can-utils (log2asc, asc2log) not installed",
    "no reference python-can interpreter",
    # CI runs as root on a Linux machine: unshare -n works there, and msgpack is a test
    # requirement
    "cannot make a private network namespace for multicast",
    "msgpack (can[udp_multicast]) not installed",
    "no C compiler for the simulated vendor libraries",
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[Any, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") != "true" or not report.skipped:
        return
    reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
    if reason.startswith("Skipped: "):
        reason = reason[len("Skipped: ") :]
    if reason.startswith(_REQUIRED_ON_CI):
        report.outcome = "failed"
        report.longrepr = f"skipped on CI, where this must run: {reason}"
