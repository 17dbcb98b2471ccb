# Two commands do all set-up on a fresh machine with only python3:
#   make demo   — the default plan on a fresh SQLite database and a simulated school week, no
#                 token: prints the week's story and Friday's digest; the full transcript, the
#                 digest's workbook and chart go to demo-output/
#   make test   — the whole test suite but its heavy variants (set TEST_DATABASE_URL to run it on
#                 PostgreSQL too); `make test-slow` runs those (crash rounds), as CI does once
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-slow lint run bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/dondoc demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -m "not slow"

test-slow: $(STAMP)
	$(BIN)/pytest -m slow

bench: $(STAMP)
	$(BIN)/python -m bench.throughput

run: $(STAMP)
	$(BIN)/dondoc run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) demo-output .pytest_cache .ruff_cache
