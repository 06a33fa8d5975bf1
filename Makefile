# The README's two commands are `make demo` and `make test`. Both create .venv and install the
# pinned dependencies (requirements.lock) if they are missing, so a fresh clone needs only
# Python 3.11, make and git.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Usage telemetry off everywhere (dbt, Dagster, great-expectations); config files say the same.
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False
export DAGSTER_DISABLE_TELEMETRY := 1
export DBT_PROFILES_DIR := $(CURDIR)/profiles
export DAGSTER_HOME := $(CURDIR)/.dagster_home

# SQL lint of the dbt models and macros (.sqlfluff: jinja templater, rules the code base breaks on
# purpose excluded with the reason).
SQLFLUFF := $(BIN)/sqlfluff lint models macros --processes 2 --disable-progress-bar

.PHONY: demo test test-fast venv lint clean dagster system-deps

# Programs from Debian's packages the tests need: Chromium (the executive report is checked in a
# real headless browser through playwright, executable /usr/bin/chromium; playwright downloads no
# browser) and Graphviz `dot` (the directly-follows graph renders to SVG). Installed once, only
# when missing; needs root or sudo and the Debian package registry.
SYSTEM_PROGRAMS := /usr/bin/chromium /usr/bin/dot
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-deps:
	@if ! ls $(SYSTEM_PROGRAMS) >/dev/null 2>&1; then \
	  echo "installing Debian packages chromium graphviz"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium graphviz >/dev/null \
	  || { $(SUDO) apt-get update -q >/dev/null && \
	       $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium graphviz >/dev/null; }; \
	fi

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/command-center demo

# The suite on TEST_WORKERS pytest-xdist workers (the machines have 2 cores), a whole module per worker
# (--dist loadfile: a module's fixtures are built once), the slowest modules handed out first
# (tests/conftest.py SLOWEST_FIRST; --no-loadscope-reorder keeps that order). --durations=25 lists the
# slowest tests in the log. `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= 2
PYTEST_WORKERS := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25

test: $(STAMP) system-deps
	$(BIN)/ruff check orchestration tests
	$(SQLFLUFF)
	$(BIN)/python -m pytest $(PYTEST_WORKERS)

# The fast loop: unit and pure tests only (every module under tests/integration is marked
# `integration` by tests/conftest.py); under a minute. `make test` stays the full suite CI runs.
test-fast: $(STAMP)
	$(BIN)/ruff check orchestration tests
	$(BIN)/python -m pytest -m "not integration" -q

lint: $(STAMP)
	$(BIN)/ruff check orchestration tests
	$(SQLFLUFF)

dagster: $(STAMP)
	$(BIN)/command-center parse
	$(BIN)/dagster dev -m orchestration.definitions

# The dbt docs (models, tests, exposures, semantic layer) as one self-contained page, generated on
# the DuckDB warehouse (the catalog is empty before `make demo`) into target/docs_site/ and served on
# http://127.0.0.1:$(DOCS_PORT)/; nothing is fetched from outside (dbt's usage tracker is removed
# from the page: orchestration/lib/dbt_docs.py). MetricFlow has no telemetry switch: its telemetry
# only writes to a Python logger; the `mf` CLI (not used here) asks PyPI for updates on every run.
DOCS_PORT ?= 8080
.PHONY: docs
docs: $(STAMP)
	$(BIN)/python -m orchestration.lib.dbt_docs --port $(DOCS_PORT)

clean:
	rm -rf warehouse landing .dagster_home target logs

# The benchmark (docs/benchmarks.md): generate 1M and 10M events, then ingest, dbt run/build, an
# incremental one-day build, the DuckDB SQL floor and pandas, each a median of BENCH_REPS runs
# in child processes with peak RSS; results in bench_results/ (git-ignored). Takes a while.
BENCH_SIZES ?= 1M,10M
BENCH_REPS ?= 3
# Then the process-mining step: variants + directly-follows by dbt vs a hand-written DuckDB query vs
# pm4py on BENCH_PM_EVENTS telemetry events (orchestration/bench/process_mining.py).
BENCH_PM_EVENTS ?= 10000000
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m orchestration.bench --sizes $(BENCH_SIZES) --reps $(BENCH_REPS) --out bench_results
	$(BIN)/python -m orchestration.bench.process_mining --events $(BENCH_PM_EVENTS) --work bench_results/process_mining
