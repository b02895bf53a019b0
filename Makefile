# One command to run, one to test; both install what they need into .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# Where `make run` serves: `PORT=8000 make run` (5000 is taken by AirPlay on macOS).
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint bench install conformance

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip "setuptools>=78.1.1" wheel
	$(PY) -m pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/greenlane serve --demo --host $(HOST) --port $(PORT)

# The design checks: style, formatting, complexity (ruff), the layer and library contracts
# (import-linter, [tool.importlinter]) and the types (mypy, [tool.mypy]). PYTHONPATH makes the
# checkers read this checkout's greenlane/ tree.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYTHONPATH=$(CURDIR) $(VENV)/bin/lint-imports
	PYTHONPATH=$(CURDIR) $(VENV)/bin/mypy -p greenlane

test: lint
	@test -x /usr/bin/chromium || { apt-get update -q && apt-get install -y -q chromium; } || echo "warning: chromium missing; the browser test will be skipped"
	$(PY) -m pytest -q

bench: $(VENV)/.installed
	$(PY) benchmarks/network.py

# The PACT Network conformance tool against greenlane serve --demo --production over HTTPS
# (needs node and npm; copies the tool to .cache/pact-conformance).
conformance: $(VENV)/.installed
	$(PY) -m pytest -q tests/webapp/test_pact_conformance.py
