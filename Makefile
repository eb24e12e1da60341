# nhigov: `make demo` to see it, `make test` to check it.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then \
	echo $$p; break; fi; done)
PYTEST_ARGS ?= -n 2

.PHONY: install demo test lint fmt bench serve clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "nhigov needs Python 3.11 or newer on PATH"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## demo: local AWS emulator + seeded organization + real discovery + dashboard on 127.0.0.1:8000
demo: $(STAMP)
	DEBUG=true $(PY) manage.py demo $(if $(NHIGOV_DEMO_REDISCOVER),--rediscover)

## test: lint, type checks, migration check, then the whole suite
test: $(STAMP) lint
	NHIGOV_TESTING=1 $(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	NHIGOV_TESTING=1 $(VENV)/bin/mypy .
	NHIGOV_TESTING=1 $(PY) manage.py makemigrations --check --dry-run
	NHIGOV_TESTING=1 $(PY) manage.py check

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## bench: scale benchmarks against PostgreSQL (DATABASE_URL), results in docs/benchmarks.md
bench: $(STAMP)
	$(PY) bench/reconcile_bench.py

clean:
	rm -rf $(VENV) db.sqlite3* staticfiles .pytest_cache .mypy_cache .ruff_cache
