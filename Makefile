# Two commands do all set-up on a fresh clone (Python >= 3.10 and make are the only prerequisites):
#   make report   virtual environment + package, then renders the sample report into reports/
#   make test     the same plus the dev extra, then runs the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= data/sample
OUT    ?= reports
PYTEST_ARGS ?= -n auto

.PHONY: report test lint bench sample clean help

help:
	@echo "make report  - render the sample sponsor report into $(OUT)/"
	@echo "make test    - run the whole test suite"
	@echo "make lint    - ruff"
	@echo "make bench   - performance benchmarks (benchmarks/run.py)"
	@echo "make sample  - regenerate data/sample from the synthetic generator"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "rm-analytics needs Python >= 3.10, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(VENV)/.installed $@

report: $(VENV)/.installed
	$(BIN)/rm-analytics report --data $(DATA) --out $(OUT)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run.py

sample: $(VENV)/.installed
	$(BIN)/rm-analytics sample --out $(DATA) --seed 20250113 --force

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
