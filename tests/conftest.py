"""Suite-wide pytest settings.

On CI (``CI=true``) a test may skip only for a reason that a fresh CI machine really has, such as
the absence of the upstream reference interpreter, which is never a dependency. A test that
skips because the shared real-world log files or can-utils are missing would hide a broken
set-up there, so on CI such a skip is reported as a failure.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

# Skip reasons (prefixes) that must not happen on CI: CI has ../shared/data beside the clone,
# and .ci/run installs can-utils.
_REQUIRED_ON_CI = ("shared test data not found", "can-utils (log2asc, asc2log) not installed")


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
