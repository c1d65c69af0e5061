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

.PHONY: help setup deps run test unit up down report check clean

help:
	@echo "make run    bring the stack up, run every feature, write reports/allure-report/index.html"
	@echo "make test   the harness's own tests, then the whole feature suite (what CI runs)"
	@echo "make up     bring the stack up and leave it running (URLs in reports/stack.json)"
	@echo "make down   remove the stack that 'make up' left running"
	@echo "make check  check docker/compose.yaml without starting anything"

$(PY_STAMP): requirements.txt
	@echo "crucible: installing Python dependencies into $(VENV) ..."
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	@echo "crucible: installing the Allure report tool (npm ci) ..."
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(PY_STAMP) $(NPM_STAMP)

setup: deps
	$(PY) -m crucible setup

run: setup
	@rm -rf reports/allure-results
	@status=0; $(BEHAVE) $(BEHAVE_ARGS) || status=$$?; \
	$(PY) -m crucible report || { [ $$status -ne 0 ] || status=1; }; \
	exit $$status

unit: deps
	$(PY) -m pytest tests

test: setup
	$(PY) -m pytest tests
	$(MAKE) --no-print-directory run

up: setup
	$(PY) -m crucible up

down: deps
	$(PY) -m crucible down

check: deps
	$(PY) -m crucible check

report: deps
	$(PY) -m crucible report

clean:
	rm -rf reports/allure-results reports/allure-report reports/stack.json
