# Spark — the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test lint typecheck bench install clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(TESTSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(STAMP)

install: $(STAMP)

## make demo: build ./demo from the bundled sample feeds and run the whole pipeline offline
demo: $(STAMP)
	$(BIN)/spark demo demo

## Chromium for the browser tests (Debian's package; Playwright drives it via executable_path)
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "installing chromium (apt-get)"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

lint: $(TESTSTAMP)
	$(BIN)/ruff check spark tests bench
	$(BIN)/ruff format --check spark tests bench

typecheck: $(TESTSTAMP)
	$(BIN)/mypy

## make test: installs what the tests need, then lint, types and the test suite
test: $(TESTSTAMP) browser lint typecheck
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) demo site .spark
