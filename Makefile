# make demo  - set up, then plan and apply on a built-in demo fleet (in a temp folder)
# make test  - set up, then the gate (ruff lint and format check, mypy, import-linter contracts) and the test suite
# make bench - set up, then measure plan/apply at fleet scale, and the review loop (sync..status) at N=100
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LINT_STAMP := $(VENV)/.lint-stamp
PYTEST_FLAGS ?= -n 2 -q

.PHONY: setup demo test gate bench stress lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

# the gate first (lint, types), then the suite. Compiled modules (pytest's assertion-rewritten tests
# too) are written to __pycache__ (git-ignored) even where PYTHONDONTWRITEBYTECODE is set: each xdist
# worker and each CLI process would compile them again (collection ~4.5 s a process, not ~1.4 s)
PYCACHE := PYTHONDONTWRITEBYTECODE=
test: $(STAMP) gate
	$(PYCACHE) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_FLAGS)

gate: $(STAMP)
	$(BIN)/ruff check juniper_rollout tests
	$(BIN)/ruff format --check juniper_rollout tests
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/bench.py; plan_apply=$$?; \
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/review_loop.py; review=$$?; \
	exit $$(( plan_apply | review ))

stress: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" JUNIPER_STRESS=1 HYPOTHESIS_PROFILE=stress $(BIN)/python -m pytest -q tests/test_crash.py tests/test_properties.py tests/test_dotenv_oracle.py tests/test_discover_stdlib.py

$(LINT_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test,lint]'
	touch $(LINT_STAMP)

# make lint: the gate (ruff lint + format check, mypy, import-linter contracts), reporting every failure
lint: $(LINT_STAMP)
	status=0; \
	$(BIN)/ruff check juniper_rollout tests || status=1; \
	$(BIN)/ruff format --check juniper_rollout tests || status=1; \
	$(BIN)/mypy || status=1; \
	$(BIN)/lint-imports || status=1; \
	exit $$status

clean:
	rm -rf $(VENV) build .pytest_cache
