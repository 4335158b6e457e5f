# i2p-streaming developer commands. Every target creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv lint typecheck pytest test demo bench reliability clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

pytest: $(STAMP)
	$(BIN)/pytest --cov=i2p_streaming --cov-branch --cov-report=term --cov-report=json:.coverage.json $(PYTEST_ARGS)
	$(BIN)/python scripts/check-coverage .coverage.json

test: lint typecheck pytest

# The main job on the embedded router: echo a few MB under I2P-like delay, jitter and loss.
demo: $(STAMP)
	$(BIN)/i2p-streaming demo $(DEMO_ARGS)

# The full reliability matrix (tests/reliability): sizes up to 50 MB, loss 0-30 %, bursts,
# duplication, reordering, jitter, corruption, outages; a table at the end (about 20 min).
# RELIABILITY_ARGS: e.g. --cells clean,loss-30 --json out.json
reliability: $(STAMP)
	$(BIN)/python -m tests.reliability $(RELIABILITY_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/core.py
	$(BIN)/python benchmarks/transfer.py --i2pd $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov .hypothesis
