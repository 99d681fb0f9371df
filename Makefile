# Two commands do everything: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
CHROMIUM ?= /usr/bin/chromium
# Test processes (pytest-xdist): one per core by default; TEST_WORKERS=0 runs them in one.
TEST_WORKERS ?= auto

export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test lint format bench browser clean help

help:
	@echo "make run    - install, migrate, seed the demo coach, start web + worker + beat on http://127.0.0.1:8000"
	@echo "make test   - run the whole test suite"
	@echo "make lint   - ruff format --check, ruff check and the layers contract (import-linter)"
	@echo "make format - apply ruff's formatting and safe fixes"
	@echo "make bench  - print the performance figures (docs/benchmarks.md)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(RUNTIME_STAMP) $@

run: $(RUNTIME_STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Starting web on http://$${WEB_BIND:-127.0.0.1:8000}, two Celery workers (email and reminders; outbound) and beat. Ctrl-C stops them all."
	COACH_SIGNUP=$${COACH_SIGNUP:-open} $(BIN)/honcho start -f Procfile

# The browser tests drive Debian's chromium (never a downloaded one).
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }); \
	  else \
	    echo "The browser tests need Chromium at $(CHROMIUM): sudo apt-get install chromium"; exit 1; \
	  fi; }

test: $(DEV_STAMP) browser
	$(PY) -m pytest -n $(TEST_WORKERS)

lint: $(DEV_STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(DEV_STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) -m bench

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
