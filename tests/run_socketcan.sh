#!/usr/bin/env bash
# Runs the kernel test suites the way this machine offers: the SocketCAN suite
# (tests/interfaces/test_socketcan.py) and the slcan suite with the kernel's slcan driver as the
# peer (tests/interfaces/test_slcan_kernel.py, which also needs socat), in one pytest run:
#
#   1. natively, when the host kernel has a vcan0 interface (a Linux machine after
#      `ip link add vcan0 type vcan`);
#   2. else inside a real Linux kernel booted by kernel-run.sh (../shared/kernel, or
#      $KERNEL_RUN), after `kernel-run.sh --setup` when this runs as root;
#   3. else not at all: it says why and exits 0 — unless CI=true, where a suite that could not
#      run, collected no test or passed none is a failure (exit 1).
#
# Usage: tests/run_socketcan.sh [pytest args...]
#   PYTHON       interpreter with `can` and pytest installed (default: python3 on PATH)
#   KERNEL_RUN   path of kernel-run.sh (default: ../shared/kernel/kernel-run.sh next to the
#                repository, else kernel-run.sh on PATH)
#   CI           "true": never skip silently, fail instead
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
python=${PYTHON:-python3}
python=$(command -v "$python" || echo "$python")
kernel_run=${KERNEL_RUN:-}
if [ -z "$kernel_run" ]; then
    for candidate in "$root/../shared/kernel/kernel-run.sh" "$(command -v kernel-run.sh || true)"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then kernel_run=$candidate; break; fi
    done
    kernel_run=${kernel_run:-$root/../shared/kernel/kernel-run.sh}
fi
ci=${CI:-false}
suites=("$root/tests/interfaces/test_socketcan.py" "$root/tests/interfaces/test_slcan_kernel.py")

say() { printf 'run_socketcan: %s\n' "$*" >&2; }

skip() {
    if [ "$ci" = true ]; then
        say "FAILED: the kernel suites cannot run here: $*"
        exit 1
    fi
    say "skipped: $*"
    exit 0
}

report=$(mktemp "${TMPDIR:-/tmp}/socketcan-junit.XXXXXX.xml")
trap 'rm -f "$report"' EXIT
pytest_cmd=("$python" -m pytest "${suites[@]}" --rootdir="$root" -c "$root/pyproject.toml"
    -p no:cacheprovider --junitxml="$report" "$@")

if [ -e /sys/class/net/vcan0 ]; then
    say "vcan0 found: running natively with $python"
    (cd "$root" && "${pytest_cmd[@]}")
    status=$?
elif [ -x "$kernel_run" ]; then
    if ! "$kernel_run" --probe >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ]; then
            say "setting up the kernel test bed: $kernel_run --setup"
            "$kernel_run" --setup >&2 || skip "kernel-run.sh --setup failed"
        fi
        "$kernel_run" --probe >&2 || skip "no backend of kernel-run.sh can run here (see above)"
    fi
    say "no vcan0 on this host: running inside a real kernel with $kernel_run"
    (cd "$root" && "$kernel_run" "${pytest_cmd[@]}")
    status=$?
    if [ "$status" = 124 ] || [ "$status" = 125 ]; then
        skip "kernel-run.sh could not run the suite (exit $status)"
    fi
else
    skip "no vcan0 interface and no kernel-run.sh at $kernel_run"
fi

# Count what ran, from pytest's JUnit report: in total, and the suite files none of whose tests
# passed (a suite skipped whole, e.g. for a missing tool, shows up there).
read -r tests failures errors skipped idle < <("$python" - "$report" "${suites[@]}" <<'EOF'
import os
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 0, 0, 0, "-")
    raise SystemExit
suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
total = [sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")]
modules = {os.path.splitext(os.path.basename(path))[0]: 0 for path in sys.argv[2:]}
for case in root.iter("testcase"):
    module = case.get("classname", "").split(".")[-1]
    outcome = {child.tag for child in case}
    if module in modules and not outcome & {"failure", "error", "skipped"}:
        modules[module] += 1
print(*total, ",".join(m for m, n in modules.items() if n == 0) or "-")
EOF
)
passed=$((tests - failures - errors - skipped))
say "pytest exit status $status: $tests collected, $passed passed, $skipped skipped, $((failures + errors)) failed"
if [ "$ci" = true ] && { [ "$tests" -eq 0 ] || [ "$passed" -eq 0 ]; }; then
    say "FAILED: CI=true and the kernel suites collected or passed no test"
    exit 1
fi
if [ "$ci" = true ] && [ "$idle" != "-" ]; then
    say "FAILED: CI=true and no test of $idle passed"
    exit 1
fi
exit "$status"
