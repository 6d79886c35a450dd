# Two commands: `make run` (set up and serve) and `make test` (the whole suite). Needs only python3.
# `make test-browser`: the browser tests (tests/browser), Playwright driving Debian's Chromium.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PICCOLO_CONF := piccolo_conf
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run setup test test-postgres test-browser lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed
	$(BIN)/zhicheng setup

run: setup
	PORT=$(PORT) $(BIN)/zhicheng serve

test: $(VENV)/.installed
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/python -m pytest -q

# The browser tests (left out of `make test`): the app served over HTTPS by its own process, driven by
# Playwright in /usr/bin/chromium (apt-get install chromium; no browser is downloaded). Screenshots go to
# var/browser-artifacts/ (ZHICHENG_BROWSER_ARTIFACTS). See docs/browser-tests.md.
test-browser: $(VENV)/.installed
	$(BIN)/python -m pytest -q -m browser tests/browser

# The suite against PostgreSQL (TEST_DATABASE_URL, default the local server's `test` database).
test-postgres: $(VENV)/.installed
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest -q

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench

bench: $(VENV)/.installed
	$(BIN)/python bench/authority.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/review_queue.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
