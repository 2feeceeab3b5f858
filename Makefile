# Two commands: `make run` sets up and serves the product, `make test` sets up and runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run dev-backend test lint migrate ingest install clean bench monitoring-tools widget dev browser-tools deploy-tools

$(STAMP): backend/pyproject.toml backend/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: the CPU build; anything else would pull gigabytes of CUDA wheels.
	$(BIN)/pip install --quiet torch==2.13.0
	# constraints.txt pins the dependencies' own dependencies too: a fresh machine gets what was tested.
	$(BIN)/pip install --quiet -c backend/constraints.txt -e 'backend[dev]'
	touch $(STAMP)

install: $(STAMP)

# --- the chat widget and the support console (frontend/, one Vite project, pages / and /console) -------------------------------------------------------------
# npm ci once per lock-file change; the SPA and widget.js are rebuilt only when a source is newer than
# the build. The build regenerates the API types from the backend's OpenAPI schema, so it follows the
# backend's chat schemas too.
NPM_STAMP := frontend/node_modules/.installed
WIDGET_BUILD := frontend/dist/widget.js
WIDGET_SOURCES := $(shell find frontend/src frontend/index.html frontend/console.html frontend/vite.config.ts frontend/vite.widget.config.ts frontend/tailwind.config.js \
	frontend/scripts -type f -not -name openapi.d.ts 2>/dev/null) backend/app/chat/schemas.py backend/app/web/router.py \
	backend/app/staff/schemas.py backend/app/staff/widget_settings.py

$(NPM_STAMP): frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

$(WIDGET_BUILD): $(STAMP) $(NPM_STAMP) $(WIDGET_SOURCES)
	cd frontend && npm run build --silent

widget: $(WIDGET_BUILD)

# Vite dev server on http://127.0.0.1:5173 (hot reload) proxying /chat, /ws and /health to the backend on :8000.
dev: $(STAMP) $(NPM_STAMP) migrate
	trap 'kill %1 2>/dev/null' EXIT; (cd backend && ../$(BIN)/python -m app) & cd frontend && npx vite --host 127.0.0.1

# Debian's chromium for the browser tests, installed only when missing (as root on CI, else passwordless sudo).
browser-tools:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO=sudo; else SUDO=none; fi; \
	  if [ "$$SUDO" != none ] && command -v apt-get >/dev/null; then \
	    $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends chromium >/dev/null; \
	  else echo "chromium missing: install Debian's 'chromium' package to run the browser tests"; exit 1; fi; }

migrate: $(STAMP)
	cd backend && ../$(BIN)/python -m app.db.migrate

ingest: $(STAMP)
	$(BIN)/python scripts/populate_kb.py --documents-dir docs/knowledge-base

run: $(STAMP) migrate $(WIDGET_BUILD)
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

# nginx and docker-compose (Debian's packages) for the deployment tests, installed only when missing: the
# compose files must pass `docker-compose config` and the topology test runs nginx with the prod config.
# No container engine is needed for either.
deploy-tools:
	@command -v docker-compose >/dev/null && { command -v nginx >/dev/null || test -x /usr/sbin/nginx; } || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO=sudo; else SUDO=none; fi; \
	  if [ "$$SUDO" != none ] && command -v apt-get >/dev/null; then \
	    $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends nginx docker-compose >/dev/null; \
	  else echo "nginx/docker-compose missing: install Debian's 'nginx' and 'docker-compose' packages to run the deployment tests"; fi; }

test: $(STAMP) monitoring-tools browser-tools deploy-tools $(WIDGET_BUILD)
	cd backend && ../$(BIN)/python -m pytest -q
	cd frontend && npx vitest run && node --test browser-tests/

lint: $(STAMP)
	cd backend && ../$(BIN)/ruff check app tests ../scripts && ../$(BIN)/mypy app

bench: $(STAMP)
	$(BIN)/python scripts/bench_api.py

clean:
	rm -rf $(VENV) data .pytest_cache backend/.pytest_cache
