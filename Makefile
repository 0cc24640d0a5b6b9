# Every target installs the project into .venv first when .venv is missing or pyproject.toml changed,
# so a fresh clone needs nothing but `make test` or `make demo`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: install test lint format demo dev bench bench-quick soak image

# pip's own output is ~200 lines; the install shows one line per phase and a running package count instead
# (errors are printed in full, and the whole log is kept in .venv/pip-install.log).
PIP_PROGRESS := awk '/^(Collecting|Processing) /{n++; printf "\r      %d packages resolved", n; fflush()} \
	/^Installing collected/{printf "\n      installing ...\n"; fflush()} \
	/^Successfully installed/{print "      done"} /^ERROR/{print}'

$(STAMP): SHELL := /bin/bash
$(STAMP): .SHELLFLAGS := -o pipefail -c
$(STAMP): pyproject.toml
	@echo "==> setting up $(VENV) (first run, or pyproject.toml changed: about 1-2 minutes)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip 2>/dev/null
	@$(PY) -m pip install --progress-bar off -e '.[dev]' 2>&1 | tee $(VENV)/pip-install.log | $(PIP_PROGRESS)
	@touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check resolve_sync resolve_sync_tests
	$(VENV)/bin/ruff format --check resolve_sync resolve_sync_tests

format: $(STAMP)
	$(VENV)/bin/ruff check --fix resolve_sync resolve_sync_tests
	$(VENV)/bin/ruff format resolve_sync resolve_sync_tests

demo: $(STAMP)
	@$(VENV)/bin/resolve-sync demo

dev: $(STAMP)
	$(VENV)/bin/resolve-sync dev

bench: $(STAMP)
	$(VENV)/bin/resolve-sync bench

bench-quick: $(STAMP)
	$(VENV)/bin/resolve-sync bench --quick

# The code location image for Kubernetes (deploy/README.md). Needs docker; the tests check its Python
# environment without it (resolve_sync_tests/deploy/test_image.py).
IMAGE ?= resolve-sync:$(shell git rev-parse --short HEAD)
image:
	docker build -f deploy/Dockerfile -t $(IMAGE) .

# The state machine against the reference model, long: >= 10,000 steps on SQLite and on PostgreSQL, ending
# with `soak: steps N, runs R, kills K, faults F, mismatches 0` per database.
SOAK_STEPS ?= 10000
soak: $(STAMP)
	RESOLVE_SYNC_SOAK_STEPS=$(SOAK_STEPS) $(PY) -m pytest resolve_sync_tests/sync/test_stateful.py -k reference_model -q -x -s -p no:cacheprovider --timeout 0
