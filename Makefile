# vessel-curate: every target creates what it needs; `make test` and `make demo` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp is rebuilt when the dependencies change, so `make install` is instant otherwise.
STAMP  := $(VENV)/.installed-stamp
DEMO_DIR := data/demo

.PHONY: install test lint format demo clean-demo

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

demo: install
	$(BIN)/python tests/demo.py

clean-demo:
	rm -rf $(DEMO_DIR)

# --- scrape ---

# --- curate stages ---

# --- review ---

# --- train ---

# --- benchmarks ---
