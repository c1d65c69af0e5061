# Crucible: every target does its own set-up, idempotently, on a fresh machine. Each calls the `crucible`
# command (installed into .venv from this repository with its pinned dependencies).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CRUCIBLE := $(VENV)/bin/crucible
PY_STAMP := $(VENV)/.installed
# Extra arguments for behave, e.g. make run BEHAVE_ARGS="--tags=@checkout"
BEHAVE_ARGS ?=
# Pact's telemetry off, for every tool of every target (the Pact core honours "true", not "1"; the harness sets it too).
export PACT_DO_NOT_TRACK := true

# make run WORKERS=2 (behave processes sharing one stack), make run SHARD=1/2 (one part of the suite, for CI)
WORKERS ?=
SHARD ?=
RUN_ARGS = $(if $(WORKERS),--workers $(WORKERS)) $(if $(SHARD),--shard $(SHARD))

.PHONY: help setup deps browser run test unit up down report gate check clean flaky docs pacts merge self-check

help:
	@echo "make run    bring the stack up, run every feature, write reports/allure-report/index.html"
	@echo "make test   the harness's own tests, then the whole feature suite (what CI runs)"
	@echo "make run WORKERS=2   the same with 2 behave processes sharing one stack; SHARD=1/2 runs half"
	@echo "make up     bring the stack up and leave it running (URLs in reports/stack.json); REFRESH=1 updates it"
	@echo "make down   remove the stack that 'make up' left running"
	@echo "make check  check docker/compose.yaml without starting anything"
	@echo "make docs   regenerate docs/steps.md (the step catalogue) from the step definitions"
	@echo "make pacts  run the @pact features and rewrite the pact files in pacts/ (then commit them)"
	@echo "make gate   check the last run against reports/quality-gate.json"
	@echo "make flaky  run the suite RUNS times (default 5) against one stack; list scenarios that changed outcome"
	@echo "make self-check  run the suite against every defect of docker/defects/; print the kill matrix"

$(PY_STAMP): requirements.txt constraints.txt pyproject.toml
	@echo "crucible: installing Python dependencies and the crucible command into $(VENV) ..."
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

deps: $(PY_STAMP)

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
	$(CRUCIBLE) setup

docs: deps
	$(CRUCIBLE) docs

# The consumer features write the pact files in pacts/ (a run fails while the committed ones differ).
pacts: setup
	$(CRUCIBLE) pacts $(BEHAVE_ARGS)

# Checks the features (every step defined, valid Gherkin) before anything starts, runs them, writes the report.
run: setup
	$(CRUCIBLE) run $(RUN_ARGS) $(BEHAVE_ARGS)

unit: setup browser
	$(PY) -m pytest tests

# The self-check on two defects of the catalogue (the whole catalogue is `make self-check`), then the whole
# suite with 2 workers: it checks the workers on the real platform and is quicker.
SELFCHECK_SAMPLE ?= --defect customers-see-any-order --defect card-numbers-in-logs
test: setup browser
	$(PY) -m pytest tests
	$(CRUCIBLE) flaky --runs 2 --tags=@checkout
	$(CRUCIBLE) self-check $(SELFCHECK_SAMPLE)
	$(MAKE) --no-print-directory run WORKERS=2

# The suite against each defect of docker/defects/ (or SELFCHECK_ARGS="--mutants fraud --max 10 --tags @fraud"):
# the kill matrix on the console, in reports/self-check/kill-matrix.{json,md} and reports/self-check/report/.
SELFCHECK_ARGS ?=
self-check: setup
	$(CRUCIBLE) self-check $(SELFCHECK_ARGS)

# Rerun the suite (or BEHAVE_ARGS) RUNS times against one stack; lists scenarios whose outcome changed.
RUNS ?= 5
flaky: setup
	$(CRUCIBLE) flaky --runs $(RUNS) $(BEHAVE_ARGS)

# make up REFRESH=1: rebuild and restart only the stale services of the stack up left running
up: setup
	$(CRUCIBLE) up $(if $(REFRESH),--refresh)

down: deps
	$(CRUCIBLE) down

check: deps
	$(CRUCIBLE) check

report: deps
	$(CRUCIBLE) report

# make merge SHARDS="shard-1 shard-2": one report (one history entry) from the shards' results folders
merge: deps
	$(CRUCIBLE) merge $(SHARDS)

gate: deps
	$(CRUCIBLE) gate

clean:
	rm -rf reports/allure-results reports/allure-report reports/stack.json reports/workers
