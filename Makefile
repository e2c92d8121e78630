# `make run` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint corpus bench-retention bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

## Start the bot on SQLite (token from REDLINE_TELEGRAM_TOKEN or config.toml).
run: $(VENV)/.installed
	$(BIN)/redline run $(if $(CONFIG),--config $(CONFIG))

## Install with test extras and run the whole suite.
test: lint
	$(BIN)/pytest -q -n 3

lint: $(VENV)/.installed-test
	$(BIN)/ruff check bot tests benchmarks
	$(BIN)/ruff format --check bot tests benchmarks

## The corpus report: every page and edit in ../shared/corpus through the monitor's code path.
corpus: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.corpus

## Months of simulated use on SQLite: database size per month, bytes per tracked article.
bench-retention: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.retention

# urlwatch, the reference point of the benchmark, in a venv of its own.
URLWATCH_VENV := benchmarks/.venv-urlwatch
$(URLWATCH_VENV)/bin/urlwatch:
	$(PYTHON) -m venv $(URLWATCH_VENV)
	$(URLWATCH_VENV)/bin/python -m pip install -q 'urlwatch==2.29'

## The checking engine's benchmark (about 12 min on 2 cores); BENCH_ARGS="--n 200 --modes c" etc.
bench: $(VENV)/.installed-test $(URLWATCH_VENV)/bin/urlwatch
	$(BIN)/python -m benchmarks.monitor $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(URLWATCH_VENV) .pytest_cache .ruff_cache
