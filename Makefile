# Crucible: every target does its own set-up, idempotently, on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BEHAVE := $(VENV)/bin/behave
PY_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
# Extra arguments for behave, e.g. make run BEHAVE_ARGS="--tags=@checkout"
BEHAVE_ARGS ?=
# The report's history (trend, new failures, flaky markers); keep this file between CI runs.
CRUCIBLE_HISTORY ?= reports/history/history.jsonl

.PHONY: help setup deps browser run test unit up down report gate check clean flaky docs steps-check

help:
	@echo "make run    bring the stack up, run every feature, write reports/allure-report/index.html"
	@echo "make test   the harness's own tests, then the whole feature suite (what CI runs)"
	@echo "make up     bring the stack up and leave it running (URLs in reports/stack.json)"
	@echo "make down   remove the stack that 'make up' left running"
	@echo "make check  check docker/compose.yaml without starting anything"
	@echo "make docs   regenerate docs/steps.md (the step catalogue) from the step definitions"
	@echo "make gate   check the last run against reports/quality-gate.json"
	@echo "make flaky  run the suite RUNS times (default 5) against one stack; list scenarios that changed outcome"

$(PY_STAMP): requirements.txt constraints.txt
	@echo "crucible: installing Python dependencies into $(VENV) ..."
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	@echo "crucible: installing the Allure report tool (npm ci) ..."
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# behave imports the formatter named in behave.ini (crucible.formatter) before it puts the repo on
# sys.path, so the venv gets a .pth file naming the repo root (also makes `.venv/bin/behave` work).
PTH_STAMP := $(VENV)/.crucible-pth
$(PTH_STAMP): $(PY_STAMP)
	$(PY) -c 'import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()["purelib"], "crucible-repo.pth").write_text("$(CURDIR)\n")'
	@touch $@

deps: $(PY_STAMP) $(PTH_STAMP) $(NPM_STAMP)

# Headless Chromium (Debian's package) for tests/test_browser.py, which opens the report like a reader.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "crucible: installing Debian's chromium for the report's browser test ..."; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || \
	    { apt-get update -qq && apt-get install -y --no-install-recommends chromium; }; \
	  else echo "crucible: chromium is missing (not root on Debian): the browser test will be skipped"; fi; }

setup: deps
	$(PY) -m crucible setup

# Before anything starts: every step the features use must have a definition (file:line, closest steps).
steps-check: deps
	@$(PY) -m crucible.catalogue --check-undefined

docs: deps
	$(PY) -m crucible.catalogue

run: steps-check setup
	@rm -rf reports/allure-results
	@status=0; $(BEHAVE) $(BEHAVE_ARGS) || status=$$?; \
	$(PY) -m crucible report --history "$(CRUCIBLE_HISTORY)" || { [ $$status -ne 0 ] || status=1; }; \
	exit $$status

unit: deps browser
	$(PY) -m pytest tests

test: setup browser
	$(PY) -m pytest tests
	$(PY) -m crucible flaky --runs 2 -- --tags=@checkout
	$(MAKE) --no-print-directory run

# Rerun the suite (or BEHAVE_ARGS) RUNS times against one stack; lists scenarios whose outcome changed.
RUNS ?= 5
flaky: setup
	$(PY) -m crucible flaky --runs $(RUNS) -- $(BEHAVE_ARGS)

up: setup
	$(PY) -m crucible up

down: deps
	$(PY) -m crucible down

check: deps
	$(PY) -m crucible check

report: deps
	$(PY) -m crucible report --history "$(CRUCIBLE_HISTORY)"

gate: deps
	$(PY) -m crucible gate

clean:
	rm -rf reports/allure-results reports/allure-report reports/stack.json
