# Two commands for a newcomer: `make run` and `make test`.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
JSTOOLS := $(VENV)/jstools/node_modules
ESBUILD := $(JSTOOLS)/.bin/esbuild

.PHONY: run test install system-deps lint bench clean widget

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP)

## make run: install, migrate an embedded SQLite, serve the demo on http://127.0.0.1:5000/
run: install
	PARLEY_DEMO=on $(BIN)/flask --app app db upgrade
	PARLEY_DEMO=on $(BIN)/flask --app app run --host 127.0.0.1 --port 5000

## make test: install what the tests need (Chromium, PostgreSQL, nginx, Redis, axe-core),
## start PostgreSQL, run them (tests/test_deployment.py and tests/test_scale_out.py start
## their own nginx, Redis, gunicorn and mail workers)
test: install system-deps $(ESBUILD)
	scripts/run-tests.sh

system-deps:
	scripts/system-deps.sh

# esbuild bundles the widget (one exact version: the build is compared byte for byte);
# axe-core checks its accessibility in the browser tests.
$(ESBUILD):
	npm install --silent --no-audit --no-fund --prefix $(VENV)/jstools esbuild@0.28.2 axe-core@4

## make widget: rebuild static/embed.min.js and static/embed-extra.js from static/src/
widget: $(ESBUILD)
	scripts/build-widget.sh $(ESBUILD) static

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

## make bench: Parley against Isso 0.14 and Waline 1.39 (npm installs it into bench/waline),
## side by side (not part of make test); `make bench BENCH_ARGS=--quick` checks all answer
bench: install
	$(BIN)/python bench/compare.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts
