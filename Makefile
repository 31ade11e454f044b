# One entry point for people and CI. `make` alone prints the targets.
SHELL := /bin/bash
# Databricks Runtime 17.3 LTS / 18 and serverless run Python 3.12, and so does the local venv.
PYTHON_VERSION := 3.12
PYTHON ?= $(shell scripts/find_python.sh $(PYTHON_VERSION))
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
.PHONY: help venv demo test test-unit lint format bench validate lock clean bundle-check preflight deploy tools

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## Create .venv with the pinned dependencies

# uv (pinned) installs the hashed lock file in seconds where pip takes a minute. It goes into the
# venv itself, so the system Python is never touched. `--compile-bytecode` compiles the packages
# once here: where PYTHONDONTWRITEBYTECODE is set (as on some CI images) every Python process would
# otherwise compile pyspark, DQX and the SDK again on import (3 s of each start).
UV_VERSION := 0.9.5

$(VENV)/.installed: requirements/lock.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python $(PYTHON_VERSION) is required (the Python of Databricks Runtime)."; \
	  echo "Install it (pyenv install $(PYTHON_VERSION), or your OS package python$(PYTHON_VERSION)) or run make PYTHON=/path/to/python$(PYTHON_VERSION)"; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes --no-deps --compile-bytecode -r requirements/lock.txt
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

# The pinned Databricks CLI (built once per machine into ~/.cache/medallion) for the bundle tests.
CLI_VERSION := 0.298.0
ACTIONLINT_VERSION := v1.7.12
DATABRICKS_CLI_PATH = $(shell DATABRICKS_CLI_VERSION=$(CLI_VERSION) scripts/databricks_cli.sh)

tools: ## Build (once) the pinned Databricks CLI and actionlint; install Chromium for the preview tests
	@DATABRICKS_CLI_VERSION=$(CLI_VERSION) scripts/databricks_cli.sh
	@scripts/go_tool.sh github.com/rhysd/actionlint/cmd/actionlint $(ACTIONLINT_VERSION)
	@scripts/chromium.sh

# Two workers keep both cores of a 2-core machine busy (a third only adds a JVM). Groups and their
# order: tests/conftest.py.
TEST_WORKERS ?= 2
# Tests keep their bytecode and pytest's rewritten test modules (gitignored __pycache__ folders)
# even where PYTHONDONTWRITEBYTECODE is set: each worker and subprocess would otherwise compile
# the project and rewrite every test module again.
TEST_ENV = PYTHONDONTWRITEBYTECODE= DATABRICKS_CLI="$(DATABRICKS_CLI_PATH)"

test: venv ## Run the whole test suite, offline (what CI runs)
	$(TEST_ENV) $(BIN)/pytest -n $(TEST_WORKERS) --no-loadscope-reorder

bundle-check: venv ## validate --strict, schema, plan and deploy of every target with the real CLI, against a loopback workspace
	$(TEST_ENV) $(BIN)/pytest tests/bundle

test-unit: venv ## Run every test that needs no JVM (under a minute)
	$(TEST_ENV) $(BIN)/pytest -m "not spark and not bundle"

lint: venv ## ruff, actionlint on the workflows, and the secret scan
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	"$$(scripts/go_tool.sh github.com/rhysd/actionlint/cmd/actionlint $(ACTIONLINT_VERSION))" -color=false
	git ls-files -z | xargs -0 $(BIN)/detect-secrets-hook --baseline .secrets.baseline

format: venv ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

validate: venv ## Check every spec file (no Spark)
	$(BIN)/medallion validate

preflight: venv ## What TARGET needs before its first deploy (host, variables)
	$(BIN)/medallion preflight --target $(TARGET)

deploy: preflight ## databricks bundle deploy -t TARGET (the CLI on PATH, authenticated for TARGET's host)
	databricks bundle deploy --target $(TARGET)

bench: venv ## Benchmark the job vs plain Spark, and SCD2 at KEYS keys vs single-MERGE SCD2 (writes bench/*.json, docs/benchmarks.md)
	$(BIN)/python scripts/bench.py
	$(BIN)/python scripts/bench_scd.py --keys $(KEYS)

lock: venv ## Re-pin requirements/lock.txt from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra local --extra dev --generate-hashes \
	  --python-version 3.12 --no-header --no-annotate -o requirements/lock.txt

clean: ## Remove the local lakehouse (tables, checkpoints, landing files)
	rm -rf .lakehouse
