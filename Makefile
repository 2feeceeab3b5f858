# Two commands: `make run` sets up and serves the product, `make test` sets up and runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run dev-backend test lint migrate ingest install clean bench monitoring-tools

$(STAMP): backend/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: the CPU build; anything else would pull gigabytes of CUDA wheels.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e 'backend[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	cd backend && ../$(BIN)/python -m app.db.migrate

ingest: $(STAMP)
	$(BIN)/python scripts/populate_kb.py --documents-dir docs/knowledge-base

run: $(STAMP) migrate
	cd backend && ../$(BIN)/python -m app

# prometheus + promtool (Debian's package) for the monitoring tests, installed only when missing:
# as root (CI) with apt-get, otherwise with passwordless sudo; else the tests say how and skip (fail under CI).
monitoring-tools:
	@command -v promtool >/dev/null && command -v prometheus >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO=sudo; else SUDO=none; fi; \
	  if [ "$$SUDO" != none ] && command -v apt-get >/dev/null; then \
	    $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends prometheus >/dev/null; \
	  else echo "prometheus/promtool missing: install Debian's 'prometheus' package to run the monitoring tests"; fi; }

test: $(STAMP) monitoring-tools
	cd backend && ../$(BIN)/python -m pytest -q

lint: $(STAMP)
	cd backend && ../$(BIN)/ruff check app tests ../scripts && ../$(BIN)/mypy app

bench: $(STAMP)
	$(BIN)/python scripts/bench_api.py

clean:
	rm -rf $(VENV) data .pytest_cache backend/.pytest_cache
