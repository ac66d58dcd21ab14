# The two commands of the README: `make demo` and `make test`. Both set up what they need first.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_AS_OF ?= 2026-06-15

.PHONY: demo test lint bench soak lock clean

$(STAMP): pyproject.toml constraints.txt scripts/bootstrap
	scripts/bootstrap $(VENV)
	touch $(STAMP)

demo: $(STAMP)
	RELANCE=$(BIN)/relance DEMO_AS_OF=$(DEMO_AS_OF) scripts/demo build/demo

lint: $(STAMP)
	$(BIN)/ruff check relance_pipeline tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# A year of weekly nights with random kills, concurrent runs and union merges (README, "Safety and reliability").
soak: $(STAMP)
	$(BIN)/python -m benchmarks soak 52

# Refresh constraints.txt (README, "Reproducible installs"); UPGRADE=1 resolves every version afresh.
lock:
	scripts/lock $(if $(UPGRADE),--upgrade)

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
