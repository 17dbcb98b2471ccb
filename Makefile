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

.PHONY: install demo test test-slow lint typecheck lock run bench clean

LOCK := requirements.lock

# Installs exactly the versions in requirements.lock (what CI tested); `make lock` renews it.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[dev]'
	touch $(STAMP)

lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	.lock-venv/bin/pip freeze --exclude-editable > $(LOCK)
	rm -rf .lock-venv

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/dondoc demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -m "not slow"

test-slow: $(STAMP)
	$(BIN)/pytest -m slow

# Each bench on SQLite, then B3 and B4 on PostgreSQL when BENCH_DATABASE_URL is set (that
# database is wiped), then bench/RESULTS.md from bench/results/*.md. Never part of `make test`.
bench: $(STAMP)
	BENCH_DATABASE_URL= $(BIN)/python -m bench.updates
	BENCH_DATABASE_URL= $(BIN)/python -m bench.fanout
	BENCH_DATABASE_URL= $(BIN)/python -m bench.digest
	BENCH_DATABASE_URL= $(BIN)/python -m bench.claim
	BENCH_DATABASE_URL= $(BIN)/python -m bench.process
	if [ -n "$$BENCH_DATABASE_URL" ]; then $(BIN)/python -m bench.digest && \
		$(BIN)/python -m bench.claim; fi
	$(BIN)/python -m bench.report

typecheck: $(STAMP)
	$(BIN)/mypy

run: $(STAMP)
	$(BIN)/dondoc run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) demo-output .pytest_cache .ruff_cache
