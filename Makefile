# Parcelle: `make run` (demo on SQLite, nothing to install beyond Python 3.11+) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/parcelle_bench

.PHONY: install run test lint format bench soak migrate seed clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

# Web server, django-q2 cluster and sandbox courier together; Ctrl-C stops all three.
run: seed
	$(PY) manage.py devstack

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Uses DATABASE_URL when set (CI sets PostgreSQL); SQLite otherwise.
test: lint
	$(VENV)/bin/pytest

bench: install
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m benchmarks.run

# The courier-faults soak at full size (CI runs it with 600 parcels).
soak: install
	SOAK_SHIPMENTS=10000 $(VENV)/bin/pytest -q -p no:cacheprovider tests/test_soak.py -s

clean:
	rm -rf $(VENV) db.sqlite3 var staticfiles .pytest_cache .ruff_cache
