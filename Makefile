# One command to run, one to test; both install what they need into .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test lint bench install conformance

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/greenlane serve --demo

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

test: lint
	@test -x /usr/bin/chromium || { apt-get update -q && apt-get install -y -q chromium; } || echo "warning: chromium missing; the browser test will be skipped"
	$(PY) -m pytest -q

bench: $(VENV)/.installed
	$(PY) benchmarks/network.py

# The PACT Network conformance tool against greenlane serve --demo --production over HTTPS
# (needs node and npm; copies the tool to .cache/pact-conformance).
conformance: $(VENV)/.installed
	$(PY) -m pytest -q tests/webapp/test_pact_conformance.py
