# Developer and CI commands in one place: `.ci/run` and the README call these targets, so a
# developer runs exactly what CI runs. `make help` lists them.
#
# Variables you may override on the command line:
#   PYTHON      interpreter that has the tools (maturin, ruff, mypy, sphinx); default: python3
#   REF_PYTHON  interpreter with upstream python-can installed, for the cross-check tests and
#               `make bench`; default: build/ref-venv/bin/python, made by `make ref-venv`
#   BENCH_ARGS  extra arguments for benches/run.py, e.g. BENCH_ARGS="--n 100000 --only str"
#   PYTEST_ARGS extra arguments for pytest in `make test`, e.g. PYTEST_ARGS="-k virtual -x"
#   PY          the interpreter of `make test-python-on`, e.g. PY=/usr/bin/python3.9
#   PY_VERSIONS the CPython versions of `make test-python-versions`; default: 3.9 3.13

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
# maturin from $(PYTHON)'s environment when it has one (so that zig is found beside it), else
# the one on PATH.
MATURIN ?= $(shell $(PYTHON) -c 'import maturin' >/dev/null 2>&1 && echo '$(PYTHON) -m maturin' \
	|| command -v maturin 2>/dev/null || echo maturin)
CARGO ?= cargo
CRATE := rust/Cargo.toml
DIST := dist
# The release wheel unpacked: what stubtest, Sphinx, the demo and the benchmarks import.
PKG := $(CURDIR)/build/pkg
TEST_VENV := build/venv-test
TEST_RUN_DIR := build/pytest-run
TEST_REQUIREMENTS := .ci/requirements-test.txt
REF_VENV := build/ref-venv
REF_REQUIREMENTS := .ci/requirements-ref.txt
REF_PYTHON ?= $(CURDIR)/$(REF_VENV)/bin/python
BENCH_ARGS ?=
PYTEST_ARGS ?=
# The other CPythons the suite runs on (`make test-python-versions`): the oldest the abi3 wheel
# claims (requires-python >= 3.9, tag cp39-abi3) and the newest available on CI. The main run
# (`make test-python`) is $(PYTHON)'s version.
PY_VERSIONS ?= 3.9 3.13
SHIM_VENV := build/venv-shim
SHIM_REQUIREMENTS := .ci/requirements-shim.txt
SDIST_CHECK := build/sdist-check
# The wheel's platform tag. On Linux, with the `ziglang` package importable by $(PYTHON) (CI
# installs it from .ci/requirements-dev.txt), maturin links through zig against glibc 2.17 and
# tags the wheel manylinux2014, which installs on every glibc distribution since 2014 (RHEL 7,
# Ubuntu 18.04, Debian 10, Raspberry Pi OS buster and later). Without zig the wheel is linked
# against this machine's glibc and tagged for it: fine for testing here, not for handing out.
# ZIG=0 or ZIG=1 on the command line overrides the detection.
PYTHON_EXE := $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null)
PYTHON_BIN_DIR := $(dir $(PYTHON_EXE))
ZIG ?= $(shell [ "$$(uname -s)" = Linux ] && $(PYTHON) -c 'import ziglang' >/dev/null 2>&1 && echo 1 || echo 0)
ifeq ($(ZIG),1)
WHEEL_FLAGS := --zig --compatibility manylinux2014
else
WHEEL_FLAGS :=
endif

.PHONY: help build package lint fmt-check clippy ruff mypy stubtest test test-rust test-python \
	test-venv test-socketcan test-python-on test-python-versions ref-venv simlibs \
	check-wheel sdist test-sdist shim shim-venv check-targets \
	docs bench bench-plots bench-mix demo clean

help: ## List the targets with a one-line description each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-15s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)

build: ## Build the release wheel (one abi3 wheel, Python >= 3.9; manylinux2014 with zig) into dist/
	rm -f $(DIST)/can-*.whl
	@echo "wheel: ZIG=$(ZIG) $(if $(WHEEL_FLAGS),($(WHEEL_FLAGS)),(tagged for this machine's glibc))"
	PATH="$(PYTHON_BIN_DIR):$$PATH" $(MATURIN) build --release $(WHEEL_FLAGS) \
		--interpreter $(PYTHON) --out $(DIST)

# auditwheel (pinned in .ci/requirements-dev.txt) reads the symbol versions the native module
# needs: the most compatible tag it reports must be manylinux_2_17 (manylinux2014).
check-wheel: ## auditwheel show: the wheel in dist/ is manylinux2014 (glibc 2.17) compliant
	mkdir -p build
	$(PYTHON) -m auditwheel show $(DIST)/can-*.whl > build/auditwheel.txt
	cat build/auditwheel.txt
	tr -s ' \n' ' ' < build/auditwheel.txt \
		| grep -q 'platform tag: "manylinux_2_17_$(shell uname -m)"' \
		|| { echo "check-wheel: not manylinux_2_17 (build with ZIG=1)" >&2; exit 1; }

sdist: ## The source distribution (maturin sdist) into dist/
	rm -f $(DIST)/can-*.tar.gz
	$(MATURIN) sdist --out $(DIST)

# As a user's `pip install can-*.tar.gz` does: pip fetches maturin into an isolated build
# environment and cargo compiles the crate from the sdist alone (its own target dir, so nothing
# of the checkout's build is reused); the wheel is then installed into a venv and imported.
test-sdist: sdist ## Build a wheel from the sdist as pip does, install it in a fresh venv, import it
	rm -rf $(SDIST_CHECK)
	mkdir -p $(SDIST_CHECK)/run
	CARGO_TARGET_DIR=$(CURDIR)/$(SDIST_CHECK)/target $(PYTHON) -m pip wheel --quiet \
		--disable-pip-version-check --no-deps -w $(SDIST_CHECK)/wheel $(DIST)/can-*.tar.gz
	$(PYTHON) -m venv $(SDIST_CHECK)/venv
	$(SDIST_CHECK)/venv/bin/python -m pip install --quiet --disable-pip-version-check --no-index \
		$(SDIST_CHECK)/wheel/can-*.whl
	cd $(SDIST_CHECK)/run && ../venv/bin/python -c 'import can, can._core; \
		assert can.__version__ == can._core.__version__; \
		assert "/sdist-check/venv/" in can._core.__file__, can._core.__file__; \
		print(can.Message(arbitration_id=0x123, data=[1, 2, 3])); \
		print("sdist wheel OK:", can.__version__, can._core.__file__)'

shim: ## The python-can stand-in wheel (shim/, no files of its own, requires can==ours) into dist/
	rm -f $(DIST)/python_can-*.whl
	$(PYTHON) -m pip wheel --quiet --disable-pip-version-check --no-deps -w $(DIST) ./shim

# docs/installation.rst's recipe for packages that require python-can, as a user runs it: our
# wheel and the stand-in from local files, then canopen (pinned) from the package index. pip
# must keep our `can`; tests/test_distribution.py then checks the venv and runs canopen in it.
shim-venv: build shim ## A venv with our wheel, the python-can stand-in and canopen from PyPI
	rm -rf $(SHIM_VENV)
	$(PYTHON) -m venv $(SHIM_VENV)
	$(SHIM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-index \
		$(DIST)/can-*.whl $(DIST)/python_can-*.whl
	$(SHIM_VENV)/bin/python -m pip install --disable-pip-version-check --progress-bar off \
		-r $(SHIM_REQUIREMENTS) \
		| grep -v '^ *Downloading\|^ *Using cached'
	$(SHIM_VENV)/bin/python -m pip check

package: build ## Build the wheel and unpack it into build/pkg (what stubtest, docs, demo, bench import)
	rm -rf $(PKG)
	$(PYTHON) -m zipfile -e $(DIST)/can-*.whl $(PKG)

lint: fmt-check clippy ruff mypy stubtest ## All static checks: rustfmt, clippy x2, ruff, mypy, stubtest

fmt-check: ## cargo fmt --check
	$(CARGO) fmt --manifest-path $(CRATE) --check

clippy: ## cargo clippy -D warnings, without and with the `python` feature
	$(CARGO) clippy --manifest-path $(CRATE) --all-targets -- -D warnings
	$(CARGO) clippy --manifest-path $(CRATE) --all-targets --features python -- -D warnings

ruff: ## ruff check and ruff format --check over the whole tree
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

mypy: ## mypy --strict (config in pyproject.toml) on python/can
	$(PYTHON) -m mypy python/can

stubtest: package ## Check python/can/_core.pyi against the built native module (mypy.stubtest)
	PYTHONPATH=$(PKG) $(PYTHON) -c 'import can._core as c; print("stubtest against", c.__file__)'
	PYTHONPATH=$(PKG) MYPYPATH=$(PKG) $(PYTHON) -m mypy.stubtest can._core

# The release workflow's other targets (.github/workflows/release.yml) cannot be built into
# wheels here, but the crate must compile for them: clippy -D warnings checks every one, without
# and with the `python` feature, so Linux-only code that is not cfg-gated fails here first.
# rustup supplies each target's standard library; libdeflate's C sources are compiled by zig's
# clang through .ci/zig-cc, since no cross C compiler is installed. Windows is checked as
# windows-gnu (the same cfg(windows) code as the msvc wheels; cc would drive cl.exe for msvc).
# musl is checked without crt-static, as maturin builds its cdylib.
CHECK_TARGETS := x86_64-pc-windows-gnu:x86_64-windows-gnu aarch64-apple-darwin:aarch64-macos \
	x86_64-apple-darwin:x86_64-macos aarch64-unknown-linux-gnu:aarch64-linux-gnu.2.17 \
	armv7-unknown-linux-gnueabihf:arm-linux-gnueabihf.2.17 x86_64-unknown-linux-musl:x86_64-linux-musl
check-targets: ## clippy -D warnings for Windows, macOS, Linux aarch64/armv7 and musl (needs ziglang)
	rustup target add $(foreach p,$(CHECK_TARGETS),$(firstword $(subst :, ,$(p))))
	for pair in $(CHECK_TARGETS); do \
		target=$${pair%%:*}; var=$$(echo "$$target" | tr - _); \
		up=$$(echo "$$var" | tr a-z A-Z); rustflags=; \
		case $$target in *musl) rustflags="-C target-feature=-crt-static";; esac; \
		for features in "" "--features python"; do \
			echo "check-targets: $$target $$features"; \
			env "CC_$$var=$(CURDIR)/.ci/zig-cc" "AR_$$var=$(CURDIR)/.ci/zig-ar" \
				"CARGO_TARGET_$${up}_RUSTFLAGS=$$rustflags" \
				ZIG_CC_TARGET=$${pair#*:} ZIG_PYTHON=$(PYTHON_EXE) \
				CARGO_TARGET_DIR=$(CURDIR)/build/cross-target \
				$(CARGO) clippy --quiet --manifest-path $(CRATE) --target $$target \
				--all-targets $$features -- -D warnings; \
		done; \
	done

test: test-rust test-socketcan test-python ## cargo test, the SocketCAN suite in a real kernel, then pytest against the installed wheel

test-rust: ## cargo test (the Rust core, without Python)
	$(CARGO) test --manifest-path $(CRATE)

# Upstream python-can in a venv of its own: what the cross-check tests read our files with and
# the benchmarks compare against. Rebuilt only when its requirements change.
ref-venv: $(REF_VENV)/.done ## Install the reference python-can (pinned) into build/ref-venv

$(REF_VENV)/.done: $(REF_REQUIREMENTS)
	rm -rf $(REF_VENV)
	$(PYTHON) -m venv $(REF_VENV)
	$(REF_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(REF_REQUIREMENTS)
	touch $@

# The wheel installed in a fresh venv with the test requirements: what both pytest runs use.
test-venv: build ## Build the wheel and install it with the test requirements into build/venv-test
	rm -rf $(TEST_VENV) $(TEST_RUN_DIR)
	$(PYTHON) -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		$(DIST)/can-*.whl -r $(TEST_REQUIREMENTS)
	$(TEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
		-r .ci/requirements-test-nodeps.txt

# The SocketCAN suite runs where a kernel with vcan is: natively if this host has vcan0, else
# inside a real kernel booted by ../shared/kernel/kernel-run.sh (see tests/run_socketcan.sh).
# With CI=true it fails when the suite could not run or passed no test.
test-socketcan: test-venv ## The SocketCAN suite against the installed wheel, in a real kernel
	PYTHON=$(CURDIR)/$(TEST_VENV)/bin/python tests/run_socketcan.sh -q

# pytest runs from an empty directory with the wheel installed in a fresh venv, so `import can`
# can only resolve to site-packages, never to the source tree; tests/test_packaging.py checks it
# (CAN_TEST_INSTALLED=1). Exit status 5 (no tests collected) fails like any other. The SocketCAN
# and slcan-kernel suites are left to test-socketcan, which runs them in a kernel that has CAN.
test-python: test-venv ref-venv shim-venv simlibs ## pytest against the release wheel installed in a fresh venv (build/venv-test)
	rm -rf $(TEST_RUN_DIR)
	mkdir -p $(TEST_RUN_DIR)
	cd $(TEST_RUN_DIR) && ../venv-test/bin/python -c \
		'import can, can._core; print("testing", can.__file__, "with", can._core.__file__)'
	cd $(TEST_RUN_DIR) && CAN_TEST_INSTALLED=1 CAN_SOURCE_TREE=$(CURDIR) CAN_REF_PYTHON=$(REF_PYTHON) \
		CAN_SHIM_PYTHON=$(CURDIR)/$(SHIM_VENV)/bin/python \
		../venv-test/bin/python -m pytest $(CURDIR)/tests --rootdir=$(CURDIR) \
		-c $(CURDIR)/pyproject.toml -p no:cacheprovider \
		--ignore=$(CURDIR)/tests/interfaces/test_socketcan.py \
		--ignore=$(CURDIR)/tests/interfaces/test_slcan_kernel.py $(PYTEST_ARGS)

# The same wheel (abi3, cp39) and suite under another CPython, PY: its own venv and pytest run
# directory (build/venv-test-<X.Y>, build/pytest-run-<X.Y>), with .ci/requirements-test-pyXY.txt
# and .ci/requirements-test-nodeps-pyXY.txt when they exist (3.9, where the newest pytest,
# numpy, pandas, asammdf and cantools have no release; older pins that do), else the main ones.
# The reference python-can (build/ref-venv) and the simulated libraries are shared. Everything
# runs that runs in test-python except the python-can stand-in check, which exercises canopen
# in the venv of shim-venv ($(PYTHON)'s version) and so does not depend on PY; a required
# cross-check that skips still fails on CI.
PY_VER = $(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
test-python-on: build ref-venv simlibs ## pytest against the wheel under another interpreter: make test-python-on PY=python3.9
	@test -n "$(PY)" || { echo "test-python-on: set PY, e.g. PY=python3.9" >&2; exit 2; }
	@test -n "$(PY_VER)" || { echo "test-python-on: $(PY) does not run" >&2; exit 2; }
	$(MAKE) _test-python-on VER=$(PY_VER) TAG=$(subst .,,$(PY_VER))

_test-python-on:
	rm -rf build/venv-test-$(VER) build/pytest-run-$(VER)
	$(PY) -m venv build/venv-test-$(VER)
	build/venv-test-$(VER)/bin/python -m pip install --quiet --disable-pip-version-check \
		$(DIST)/can-*.whl -r $(firstword $(wildcard .ci/requirements-test-py$(TAG).txt) \
		.ci/requirements-test.txt)
	build/venv-test-$(VER)/bin/python -m pip install --quiet --disable-pip-version-check \
		--no-deps -r $(firstword $(wildcard .ci/requirements-test-nodeps-py$(TAG).txt) \
		.ci/requirements-test-nodeps.txt)
	mkdir -p build/pytest-run-$(VER)
	cd build/pytest-run-$(VER) && ../venv-test-$(VER)/bin/python -c 'import sys, can, can._core; \
		print("testing", can.__file__, "with", can._core.__file__, "on", sys.version)'
	cd build/pytest-run-$(VER) && CAN_TEST_INSTALLED=1 CAN_SOURCE_TREE=$(CURDIR) \
		CAN_REF_PYTHON=$(REF_PYTHON) ../venv-test-$(VER)/bin/python -m pytest $(CURDIR)/tests \
		--rootdir=$(CURDIR) -c $(CURDIR)/pyproject.toml -p no:cacheprovider \
		--ignore=$(CURDIR)/tests/interfaces/test_socketcan.py \
		--ignore=$(CURDIR)/tests/interfaces/test_slcan_kernel.py \
		--deselect=tests/test_distribution.py::test_python_can_stand_in_keeps_our_can_next_to_canopen \
		$(PYTEST_ARGS)

# Each of PY_VERSIONS, found by .ci/find-python (pyenv, ~/.pyenv/versions, python3.X on PATH);
# an interpreter that is not found fails the target, it is never skipped.
test-python-versions: build ref-venv simlibs ## test-python-on for each of PY_VERSIONS (default 3.9 3.13)
	for ver in $(PY_VERSIONS); do \
		py=$$(.ci/find-python $$ver); \
		echo "test-python-versions: CPython $$ver at $$py"; \
		$(MAKE) _test-python-on PY=$$py VER=$$ver TAG=$${ver/./}; \
	done

# The simulated vendor libraries (tests/simlibs/<vendor>/ + simcore.c, compiled with cc) that
# the vendor backends are tested against; the tests build them too when they are missing.
simlibs: ## Compile the simulated vendor libraries into build/simlibs
	$(PYTHON) tests/simlibs/simbuild.py $(CURDIR)/build/simlibs

docs: package ## Build the Sphinx site into docs/_build/html, warnings are errors
	PYTHONPATH=$(PKG) $(PYTHON) -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

bench: package ref-venv ## Run benches/run.py (release build); vs. upstream when REF_PYTHON is set
	PYTHONPATH=$(PKG) $(PYTHON) benches/run.py --ref $(REF_PYTHON) $(BENCH_ARGS)

bench-plots: ## Redraw docs/_static/bench/*.svg from docs/bench_*.txt (needs matplotlib 3.11.2)
	$(PYTHON) docs/bench_plots.py

bench-mix: package ref-venv ## The classic mix of issue 17 (BLF, logconvert, Message) vs. python-can, 3 runs
	PYTHONPATH=$(PKG) $(PYTHON) benches/bench_mix.py --ref $(REF_PYTHON) $(BENCH_ARGS)

demo: package ## Build, then send, filter, receive and print frames on the virtual interface
	@PYTHONPATH=$(PKG) $(PYTHON) -m can.demo

clean: ## Remove build outputs (dist/, build/, docs/_build); keeps the cargo target dir
	rm -rf $(DIST) build docs/_build
