# Developer and CI commands in one place: `.ci/run` and the README call these targets, so a
# developer runs exactly what CI runs. `make help` lists them.
#
# Variables you may override on the command line:
#   PYTHON      interpreter that has the tools (maturin, ruff, mypy, sphinx); default: python3
#   REF_PYTHON  interpreter with upstream python-can installed, for the cross-check tests and
#               `make bench`; default: build/ref-venv/bin/python, made by `make ref-venv`
#   BENCH_ARGS  extra arguments for benches/run.py, e.g. BENCH_ARGS="--n 100000 --only str"
#   PYTEST_ARGS extra arguments for pytest in `make test`, e.g. PYTEST_ARGS="-k virtual -x"

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
MATURIN ?= $(shell command -v maturin 2>/dev/null || echo '$(PYTHON) -m maturin')
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

.PHONY: help build package lint fmt-check clippy ruff mypy stubtest test test-rust test-python \
	test-venv test-socketcan ref-venv simlibs \
	docs bench demo clean

help: ## List the targets with a one-line description each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-15s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)

build: ## Build the release wheel (one abi3 wheel, Python >= 3.9) into dist/
	rm -f $(DIST)/can-*.whl
	$(MATURIN) build --release --interpreter $(PYTHON) --out $(DIST)

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
test-python: test-venv ref-venv simlibs ## pytest against the release wheel installed in a fresh venv (build/venv-test)
	rm -rf $(TEST_RUN_DIR)
	mkdir -p $(TEST_RUN_DIR)
	cd $(TEST_RUN_DIR) && ../venv-test/bin/python -c \
		'import can, can._core; print("testing", can.__file__, "with", can._core.__file__)'
	cd $(TEST_RUN_DIR) && CAN_TEST_INSTALLED=1 CAN_SOURCE_TREE=$(CURDIR) CAN_REF_PYTHON=$(REF_PYTHON) \
		../venv-test/bin/python -m pytest $(CURDIR)/tests --rootdir=$(CURDIR) \
		-c $(CURDIR)/pyproject.toml -p no:cacheprovider \
		--ignore=$(CURDIR)/tests/interfaces/test_socketcan.py \
		--ignore=$(CURDIR)/tests/interfaces/test_slcan_kernel.py $(PYTEST_ARGS)

# The simulated vendor libraries (tests/simlibs/<vendor>/ + simcore.c, compiled with cc) that
# the vendor backends are tested against; the tests build them too when they are missing.
simlibs: ## Compile the simulated vendor libraries into build/simlibs
	$(PYTHON) tests/simlibs/simbuild.py $(CURDIR)/build/simlibs

docs: package ## Build the Sphinx site into docs/_build/html, warnings are errors
	PYTHONPATH=$(PKG) $(PYTHON) -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

bench: package ref-venv ## Run benches/run.py (release build); vs. upstream when REF_PYTHON is set
	PYTHONPATH=$(PKG) $(PYTHON) benches/run.py --ref $(REF_PYTHON) $(BENCH_ARGS)

demo: package ## Build, then send, filter, receive and print frames on the virtual interface
	@PYTHONPATH=$(PKG) $(PYTHON) -m can.demo

clean: ## Remove build outputs (dist/, build/, docs/_build); keeps the cargo target dir
	rm -rf $(DIST) build docs/_build
