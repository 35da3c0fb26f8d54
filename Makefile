# Two commands on a fresh machine: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench install clean statemachines
.PHONY: layer

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

# The Lambda layer (build/layer): the core + providers for Lambda's Python and CPU, built
# without Docker (pip --platform, pip's cache); prints its zipped / unzipped size. Rebuilt
# only when the library or its metadata changed. Deploy with `agentweaver deploy`.
LAYER := build/layer/BUILD.json
$(LAYER): pyproject.toml infra/build_layer.py $(shell find agentweaver -name '*.py' -o -name '*.json') | $(STAMP)
	$(BIN)/python infra/build_layer.py

layer: $(LAYER)
	@$(BIN)/python infra/build_layer.py --report-only

test: $(STAMP) layer
	$(BIN)/ruff check --no-cache agentweaver tests benchmarks examples functions statemachines infra
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check --no-cache agentweaver tests benchmarks examples functions statemachines infra
	$(BIN)/ruff format --check agentweaver tests benchmarks examples functions statemachines infra

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# statemachines/<example>.asl.json and .mmd: recompile them after changing the compiler
statemachines: $(STAMP)
	$(BIN)/python statemachines/build.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
