# Two commands do all the set-up on a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml constraints.txt
	@echo "setting up $(VENV) (pip install, errors only; a minute or two the first time)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -qq --upgrade pip
	@$(BIN)/pip install -qq -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

.PHONY: install demo test test-fast lint
install: $(STAMP)

demo: $(STAMP)
	@$(BIN)/bcf demo --out bcf-demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# The fast lane: unit tests and the backtests, not the tests marked integration (through Prefect flows, moto) or
# slow (whole runs, subprocesses, LibreOffice, large data); tests/integration is not even collected, as all of it is
# integration. CI runs `make test`, which runs all.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not integration and not slow" --ignore=tests/integration

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
