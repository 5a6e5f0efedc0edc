# Spark — the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test lint typecheck bench install clean browser email-lint-tools

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

## The caniemail checker for the email's client-compatibility test (project-local, not saved)
NPM_DIR := .cache/npm
email-lint-tools:
	@if command -v npm >/dev/null; then \
	  mkdir -p $(NPM_DIR) && [ -d $(NPM_DIR)/node_modules/@jsx-email/doiuse-email ] || \
	  npm install --no-save --no-audit --no-fund --prefix $(NPM_DIR) @jsx-email/doiuse-email@1.0.4 \
	  || echo "could not install @jsx-email/doiuse-email; its test will be skipped"; \
	else echo "npm is missing; the email client-compatibility test will be skipped"; fi

lint: $(TESTSTAMP)
	$(BIN)/ruff check spark tests bench
	$(BIN)/ruff format --check spark tests bench

typecheck: $(TESTSTAMP)
	$(BIN)/mypy

## make test: installs what the tests need, then lint, types and the test suite
test: $(TESTSTAMP) browser email-lint-tools lint typecheck
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) demo site .spark
