# Two commands on a fresh machine: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench install clean statemachines

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the project metadata changed (idempotent and fast when nothing did).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/agentweaver run examples/research_team.yaml \
		--input "How are small teams using LLM agents in production?" --offline-fallback

test: $(STAMP)
	$(BIN)/ruff check --no-cache agentweaver tests benchmarks examples functions statemachines
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check --no-cache agentweaver tests benchmarks examples functions statemachines
	$(BIN)/ruff format --check agentweaver tests benchmarks examples functions statemachines

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# statemachines/<example>.asl.json and .mmd: recompile them after changing the compiler
statemachines: $(STAMP)
	$(BIN)/python statemachines/build.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
