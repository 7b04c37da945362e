# WorldGym: every target installs what it needs, so a fresh clone works with
#   make demo   - a local devnet running the protocol on the embedded defaults
#   make test   - forge unit/fuzz/invariant suites and the Python tests
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
CONTRACTS := contracts
NODE_BIN := $(CONTRACTS)/node_modules/.bin
FORGE := $(NODE_BIN)/forge
# CI gets the long fuzz/invariant campaigns; local runs the quick profile.
FOUNDRY_PROFILE ?= $(if $(CI),ci,default)
export FOUNDRY_PROFILE

.PHONY: all deps pydeps npmdeps build artifacts check-artifacts forge-test pytest test gas lint demo clean sysdeps

all: test

deps: pydeps npmdeps

# The virtual environment is (re)built whenever pyproject.toml changes. torch is pinned
# first so that the ml extra does not pull a multi-GB CUDA build onto a CPU machine
# (override TORCH_SPEC, e.g. with a CUDA wheel index, on a GPU host).
TORCH_SPEC ?= torch==2.13.0
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q '$(TORCH_SPEC)'
	$(PIP) install -q -e '.[ml,dev]'
	touch $@

pydeps: $(VENV)/.installed

$(CONTRACTS)/node_modules/.installed: $(CONTRACTS)/package.json
	cd $(CONTRACTS) && npm install --no-audit --no-fund --loglevel=error
	touch $@

npmdeps: $(CONTRACTS)/node_modules/.installed

build: npmdeps
	cd $(CONTRACTS) && ./node_modules/.bin/forge build

# Refresh the tracked ABI + bytecode that the Python package loads at run time.
artifacts: build pydeps
	$(PY) $(CONTRACTS)/tools/export_artifacts.py

forge-test: build
	cd $(CONTRACTS) && ./node_modules/.bin/forge test

# Debian packages some tests use: headless Chromium + chromedriver (the dashboard's browser
# test), Go's math/rand source (Kubo's own go-random CID vectors) and the PostgreSQL server
# (the ledger on PostgreSQL). Installed only as root
# where apt-get exists, each on its own; where one is missing the tests that need it say why
# they skip.
SYSPKGS := chromium chromium-driver golang-1.19-src postgresql
sysdeps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		missing=$$(for p in $(SYSPKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
		if [ -n "$$missing" ]; then \
			apt-get update -q >/dev/null || true; \
			for p in $$missing; do \
				DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$p >/dev/null \
					|| echo "warning: could not install $$p; the tests that need it skip"; \
			done; \
		fi; \
	fi

pytest: pydeps build sysdeps
	$(PY) -m pytest

test: lint forge-test pytest

gas: build pydeps
	$(PY) bench/gas.py

lint: pydeps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

demo: pydeps npmdeps
	$(VENV)/bin/worldgym demo $(if $(KEEP),--keep,)

clean:
	rm -rf $(CONTRACTS)/out $(CONTRACTS)/cache
