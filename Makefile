# One entry point for people and CI. `make` alone prints the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
TARGET ?= dev
# Sample-data knobs for `make demo` (see `medallion generate-data --help`).
ROWS ?= 2000
BATCHES ?= 3
SEED ?= 42
# Keys in the SCD2 dimension of `make bench` (scripts/bench_scd.py); e.g. KEYS=20000 for a quick run.
KEYS ?= 1000000

.DEFAULT_GOAL := help
.PHONY: help venv demo test test-unit lint format bench validate lock clean

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## Create .venv with the pinned dependencies

# uv (pinned) installs the hashed lock file in seconds where pip takes a minute. It goes into the
# venv itself, so the system Python is never touched.
UV_VERSION := 0.9.5

$(VENV)/.installed: requirements/lock.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required"; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes --no-deps -r requirements/lock.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	@touch $@

demo: venv ## Generate sample data and run the whole job locally
	$(BIN)/medallion validate
	$(BIN)/medallion generate-data --target $(TARGET) --rows $(ROWS) --batches $(BATCHES) --seed $(SEED)
	$(BIN)/medallion run --target $(TARGET)
	@echo
	@echo "Query the local lakehouse:"
	@echo "  $(BIN)/medallion tables --target $(TARGET)"
	@echo "  $(BIN)/medallion sql --target $(TARGET) \"SELECT * FROM local_gold.daily_sales ORDER BY order_date LIMIT 10\""

test: venv ## Run the whole test suite, offline (what CI runs)
	$(BIN)/pytest

test-unit: venv ## Run every test that needs no JVM (under a minute)
	$(BIN)/pytest -m "not spark"

lint: venv ## ruff check + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

validate: venv ## Check every spec file (no Spark)
	$(BIN)/medallion validate

bench: venv ## Benchmark the job vs plain Spark, and SCD2 at KEYS keys vs single-MERGE SCD2 (writes bench/*.json, docs/benchmarks.md)
	$(BIN)/python scripts/bench.py
	$(BIN)/python scripts/bench_scd.py --keys $(KEYS)

lock: ## Re-pin requirements/lock.txt from pyproject.toml
	$(PYTHON) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(PYTHON) -m uv pip compile pyproject.toml --extra local --extra dev --generate-hashes \
	  --python-version 3.11 --no-header --no-annotate -o requirements/lock.txt

clean: ## Remove the local lakehouse (tables, checkpoints, landing files)
	rm -rf .lakehouse
