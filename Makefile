# benchlab: `make demo` runs the main job, `make test` runs the tests.
# Each creates its own virtual environment in .venv (Python >= 3.10 and make are all you need).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test test-all bench clean help

help:
	@echo "make demo   - install into $(VENV), run random search vs regularized evolution on analognas (20 seeds x 300 evals)"
	@echo "make test   - install into $(VENV) with test extras and run the test suite (what CI runs)"
	@echo "make test-all - the tests including slow ones (multi-GB temporary tables)"
	@echo "make bench  - harness overhead measurements (pytest-benchmark + ratio script)"
	@echo "make clean  - remove $(VENV) and results of the demo"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	@touch $(STAMP)

# Test extras: pytest and the official NB201/NATS packages with torch==2.13.0 (CPU wheel here),
# so the importer tests compare against the official APIs. benchlab itself never needs torch.
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,import]"
	@touch $(TEST_STAMP)

demo: $(STAMP)
	$(BIN)/benchlab run --benchmark analognas --strategies random_search regularized_evolution \
		--seeds 20 --max-evals 300 --name demo

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -m "not gpu and not slow"

test-all: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -m "not gpu"

bench: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -m perf --benchmark-enable tests/test_perf.py tests/test_perf_scale.py
	$(BIN)/python scripts/bench_harness.py
	$(BIN)/python scripts/bench_vs_synetune.py   # part (b) needs syne-tune installed by hand

clean:
	rm -rf $(VENV) results/demo
