# Two commands: `make run` sets up and serves the product, `make test` sets up and runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run dev-backend test lint migrate ingest install clean bench

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

test: $(STAMP)
	cd backend && ../$(BIN)/python -m pytest -q

lint: $(STAMP)
	cd backend && ../$(BIN)/ruff check app tests ../scripts && ../$(BIN)/mypy app

bench: $(STAMP)
	$(BIN)/python scripts/bench_api.py

clean:
	rm -rf $(VENV) data .pytest_cache backend/.pytest_cache
