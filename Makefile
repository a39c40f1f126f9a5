# Two commands for a newcomer: `make run` and `make test`.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
AXE    := $(VENV)/axe/node_modules/axe-core/axe.min.js

.PHONY: run test install system-deps lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP)

## make run: install, migrate an embedded SQLite, serve the demo on http://127.0.0.1:5000/
run: install
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app run --host 127.0.0.1 --port 5000

## make test: install what the tests need (Chromium, PostgreSQL, axe-core), start it, run them
test: install system-deps $(AXE)
	scripts/run-tests.sh

system-deps:
	scripts/system-deps.sh

$(AXE):
	npm install --silent --no-audit --no-fund --prefix $(VENV)/axe axe-core@4

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

## make bench: Parley against Isso 0.14, side by side (not part of make test)
bench: install
	$(BIN)/python bench/compare.py

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts
