# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export AUDIO_DWH_HOME ?= $(CURDIR)/data

# Browser tests drive Debian's chromium through Playwright (never `playwright install`).
CHROMIUM := /usr/bin/chromium

.PHONY: run test dev bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml setup.py
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

$(CHROMIUM):
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

## run: install, then materialize every asset for the default days on the embedded DuckDB
run: $(VENV)/.installed
	$(BIN)/audio-dwh run $(ARGS)

## test: install what the tests need, then lint and run the whole suite
test: $(VENV)/.installed-dev $(CHROMIUM)
	$(BIN)/ruff check audio_dwh audio_dwh_tests bench
	$(BIN)/pytest $(PYTEST_ARGS)

## dev: the Dagster UI on 127.0.0.1:3000 with the instance and warehouse `make run` used
dev: $(VENV)/.installed
	$(BIN)/audio-dwh dev

## bench: performance figures, written to bench/results/
bench: $(VENV)/.installed
	$(BIN)/python -m bench.run $(ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check audio_dwh audio_dwh_tests bench
	$(BIN)/ruff format --check audio_dwh audio_dwh_tests bench

clean:
	rm -rf $(VENV) data
