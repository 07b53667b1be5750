# Parcelle: `make run` (demo on SQLite, nothing to install beyond Python 3.11+) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/parcelle_bench

.PHONY: install run test test-dates lint format bench bench-smoke soak mutate migrate seed clean

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

# The calendar sweep (issue 13): the date-sensitive tests again with the process clock moved by
# faketime (libfaketime) to each instant of tests/support/calendar_instants.py: every day of one week,
# both Paris time changes at 01:30 and 02:30, 31 December 23:30 UTC (1 January in Paris), Bastille
# Day, August. A test that passes only on the day it was written fails here.
#
# Which tests: those whose outcome involves "now" through a calendar rule and that read the clock
# (not only a pinned one): the calendar rules themselves against the process clock
# (test_calendar), stuck / delayed / no-first-scan detection (test_exceptions), business days,
# the 17:00 cut-off and EDD (test_edd), the buyer's claim window (payouts), the return window,
# the Paris day and week of the rollups and their watermark, expiry after 30 days without news.
# Tests that pin the clock with time-machine run too where they are here: they prove nothing leaks
# past the pin. The rest of the suite measures durations, not dates, and would only make the
# sweep long (15 instants).
#
# Database: SQLite, on purpose. libfaketime moves the clock of this process only; SQLite runs in
# it, PostgreSQL in its own processes (a sweep on it would mix two clocks). The date-sensitive
# code reads "now" in Python (timezone.now(), passed to queries as parameters) and never the
# database's own now(): CI covers PostgreSQL with `make test`.
DATE_TESTS := \
	tests/tracking/test_calendar.py \
	tests/tracking/test_exceptions.py \
	tests/tracking/test_edd.py \
	tests/payouts/test_claim_window.py \
	tests/payouts/test_services.py::test_payout_waits_for_the_claim_window_after_the_last_delivery \
	tests/payouts/test_services.py::test_payouts_release_due_is_safe_to_run_twice \
	tests/returns/test_services.py::test_return_request_create_outside_the_window_says_when_it_ended \
	tests/sellers/test_rollups.py::test_rollups_count_a_parcel_on_its_paris_day_not_its_utc_day \
	tests/sellers/test_rollups.py::test_rollups_refresh_catches_up_on_changes_after_the_watermark \
	tests/sellers/test_rollups.py::test_week_stats_catch_up_on_changes_after_the_watermark \
	tests/tracking/test_sync.py::test_shipments_expire_stale_ends_parcels_without_news_for_30_days

# .ci/test-dates runs the instants two at a time; SWEEP_JOBS=1 for one at a time.
test-dates: install
	.ci/test-dates $(DATE_TESTS)

# Every benchmark at full size; each builds its data from an empty database (docs/benchmarks.md).
bench: install
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m benchmarks.run

# Every benchmark at a small size: builds its data through the same schema-checked code, verifies
# its results as the full run does, ignores the goals and records nothing. CI runs it through
# tests/test_benchmarks_smoke.py (on a database of its own), so a benchmark the schema has left
# behind fails the suite, not the next `make bench`.
bench-smoke: install
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m benchmarks.run --smoke

# The courier-faults soak at full size (CI runs it with 600 parcels).
soak: install
	SOAK_SHIPMENTS=10000 $(VENV)/bin/pytest -q -p no:cacheprovider tests/test_soak.py -s

# Mutation testing (issue 22) of the rules whose wrong answer moves money or hides a parcel:
# status derivation, ingest, payout rules and release, the POD gate, detection checksums.
# `make mutate` for all of them, `make mutate MODULE=status` (or ingest, payout-rules,
# payout-release, pod-gate, checksums) for one. Slow (well over an hour for all on 2 shared
# cores; see docs/reliability.md): not in CI.
# The report (scripts/mutate.py) is printed and written to var/mutate-report.md; it drops the
# reviewed equivalent mutants of scripts/mutate_equivalents.toml and fails under 90 %.
#
# The tool is mutmut 3, not cosmic-ray: mutmut imports Django and the tests once and forks a
# worker per mutant (each mutant selects itself through a trampoline at run time), and runs only
# the tests that reached the mutated function; cosmic-ray starts a new test process per mutant,
# Django set-up and test database included, which is hours for these ~1,400 mutants on 2 cores.
# Database: SQLite in memory for the pure rules, on purpose (the fastest to build once per
# mutant); PostgreSQL (MUTATE_DATABASE_URL, default parcelle_mutate on 127.0.0.1) for the ingest
# and the release, whose production path is SQL of their own on PostgreSQL. The script sets
# DATABASE_URL itself, so an exported one does not leak in.
mutate: install
	rm -rf mutants
	$(PY) scripts/mutate.py $(MODULE)

clean:
	rm -rf $(VENV) db.sqlite3 var staticfiles .pytest_cache .ruff_cache mutants
