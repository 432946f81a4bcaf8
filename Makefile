# Quick start: `make run` serves a demo community, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run peer federation-demo manage test lint venv migrate bench-routing bench-settlement bench-ledger bench-pow bench-workload bench-peer bench-federation

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# The demo served as production serves it, the ASGI application under uvicorn (the identity page's live socket
# needs ASGI), restarted when code or a template changes.
run: venv
	DEBUG=true $(PY) manage.py migrate --noinput
	DEBUG=true $(PY) manage.py seed_demo
	@echo
	@echo "Trustbank is running at http://$(HOST):$(PORT)/  (demo community: http://$(HOST):$(PORT)/c/demo/login/)"
	@echo
	DEBUG=true $(VENV)/bin/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --no-server-header \
		--reload --reload-include '*.html'

# The peer listener beside `make run` (another terminal): WebSocket on 127.0.0.1:2013, UDP on 2012.
peer: venv
	DEBUG=true $(PY) manage.py runpeer

# Two local instances that federate (river on :8001, lake on :8002), each with its web server and listener.
federation-demo: venv
	DEBUG=true $(PY) manage.py federation_demo

# Any manage.py command with the development settings of `make run`: make manage ARGS="route --community demo alice dave 12.50"
manage: venv
	DEBUG=true $(PY) manage.py $(ARGS)

# The suite runs in TEST_WORKERS processes (pytest-xdist), each on a test database of its own; TEST_WORKERS=0
# runs it in this one. One file alone: `.venv/bin/python -m pytest tests/x.py` (or add `-n 2`).
TEST_WORKERS ?= 2
test: venv
	$(PY) -m pytest -n $(TEST_WORKERS)

# The gate CI runs first: lint, formatting, the layer order of docs/architecture.md, no missing migration.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run

# Benchmarks print their figures (see bench/README.md); BENCH_ARGS passes options, e.g. BENCH_ARGS="--seconds 10".
bench-routing: venv
	$(PY) bench/routing.py --ripple $(BENCH_ARGS)

bench-settlement: venv
	$(PY) bench/settlement.py $(BENCH_ARGS)

bench-ledger: venv
	$(PY) bench/ledger.py $(BENCH_ARGS)

bench-pow: venv
	$(PY) bench/pow.py $(BENCH_ARGS)

bench-peer: venv
	$(PY) bench/peer.py $(BENCH_ARGS)

bench-federation: venv
	$(PY) bench/federation.py $(BENCH_ARGS)

# The bank workload with faults (not a benchmark of speed: it checks the books after kill -9s and restarts).
bench-workload: venv
	$(PY) bench/bank_workload.py $(BENCH_ARGS)
