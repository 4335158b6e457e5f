# i2p-streaming developer commands. Every target creates .venv when it is missing.
# `make demo` installs only the package and its runtime dependency (cryptography); the
# other targets install the dev extra (pytest, mypy, ruff, mkdocs, ...) as well.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
RUNTIME := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed-dev

.PHONY: venv lint typecheck pytest test docs demo bench bench-paths fuzz reliability wheel clean

venv: $(STAMP)

$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $(RUNTIME)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[dev]'
	touch $(RUNTIME) $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks fuzz examples
	$(BIN)/ruff format --check src tests benchmarks fuzz examples

typecheck: $(STAMP)
	$(BIN)/mypy --strict src tests fuzz benchmarks examples

pytest: $(STAMP)
	$(BIN)/pytest --cov=i2p_streaming --cov-branch --cov-report=term --cov-report=json:.coverage.json --durations=15 $(PYTEST_ARGS)
	$(BIN)/python scripts/check-coverage .coverage.json

test: lint typecheck docs pytest

# The documentation site (MkDocs Material + mkdocstrings): warnings are errors. The code
# samples of README.md and docs/ run in pytest (tests/test_docs_samples.py).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir build/site

# The wheel, installed into a fresh venv that runs a short demo (scripts/check-wheel);
# WHEEL_ARGS e.g. --python python3.12 --python python3.13 (one venv each).
wheel: $(STAMP)
	$(BIN)/python scripts/check-wheel $(WHEEL_ARGS)

# The main job on the embedded router: echo a few MB under I2P-like delay, jitter and loss.
demo: $(RUNTIME)
	$(BIN)/i2p-streaming demo $(DEMO_ARGS)

# The full reliability matrix (tests/reliability): sizes up to 50 MB, loss 0-30 %, bursts,
# duplication, reordering, jitter, corruption, outages; a table at the end (about 20 min).
# RELIABILITY_ARGS: e.g. --cells clean,loss-30 --json out.json
reliability: $(STAMP)
	$(BIN)/python -m tests.reliability $(RELIABILITY_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/core.py
	$(BIN)/python benchmarks/transfer.py --i2pd $(BENCH_ARGS)
	PYTHONPATH=src $(BIN)/python benchmarks/pingpong.py
	PYTHONPATH=src $(BIN)/python benchmarks/web.py

# Loss recovery / congestion control on I2P-like paths (issue 12), simulated time; JSON on
# stdout, table on stderr. PATHS_ARGS e.g. --quick, --real, --cells rtt300-loss1 --seeds 5.
bench-paths: $(STAMP)
	PYTHONPATH=src $(BIN)/python benchmarks/paths.py $(PATHS_ARGS)

# Coverage-guided fuzzing of every parser (docs/fuzzing.md), FUZZ_SECONDS per target, one
# target after another; FUZZ_TARGETS picks some. Crashing inputs land in fuzz/regressions/.
# Without atheris (it did not install) the built-in mutator runs instead.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz: $(STAMP)
	$(BIN)/python -c 'import atheris' 2>/dev/null || $(BIN)/python -m pip install --quiet atheris \
		|| echo 'atheris did not install: fuzzing with the built-in mutator'
	PYTHONPATH=src $(BIN)/python -m fuzz.run --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov .hypothesis .fuzz-corpus
