# Two commands on a fresh machine: `make run` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench install clean statemachines
.PHONY: frontend api-client serve chromium
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

# The web console (frontend/): npm ci when the lock file changed, then the build (frontend/dist).
NPM ?= npm
CONSOLE_DEPS := frontend/node_modules/.installed
$(CONSOLE_DEPS): frontend/package-lock.json
	cd frontend && $(NPM) ci --no-audit --no-fund
	@touch $(CONSOLE_DEPS)

frontend: $(CONSOLE_DEPS)
	cd frontend && $(NPM) run build

# The console's typed API client: the app's OpenAPI schema, then TypeScript types from it.
api-client: $(STAMP) $(CONSOLE_DEPS)
	$(BIN)/python frontend/scripts/dump_openapi.py
	cd frontend && $(NPM) run -s api-client

# The Lambda layer (build/layer): the core + providers for Lambda's Python and CPU, built
# without Docker (pip --platform, pip's cache); prints its zipped / unzipped size. Rebuilt
# only when the library or its metadata changed. Deploy with `agentweaver deploy`.
LAYER := build/layer/BUILD.json
$(LAYER): pyproject.toml infra/build_layer.py $(shell find agentweaver -name '*.py' -o -name '*.json') | $(STAMP)
	$(BIN)/python infra/build_layer.py

layer: $(LAYER)
	@$(BIN)/python infra/build_layer.py --report-only

# The API and the console at http://127.0.0.1:8000 (the printed link signs you in). Without a
# provider key in the environment every agent runs on the offline test model; SERVE_ARGS=
# (empty) uses the real providers with the keys you set in the console's Settings.
SERVE_ARGS ?= $(if $(ANTHROPIC_API_KEY)$(OPENAI_API_KEY)$(GEMINI_API_KEY)$(GOOGLE_API_KEY),,--model-override test)
serve: $(STAMP) frontend
	$(BIN)/agentweaver serve --console frontend/dist $(SERVE_ARGS)

# The browser tests drive Debian's chromium (Playwright's own browser download cannot work here).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; } || \
		echo "chromium could not be installed: the browser tests will be skipped"

test: $(STAMP) chromium frontend layer
	$(BIN)/ruff check --no-cache agentweaver tests benchmarks examples functions statemachines infra
	$(BIN)/mypy
	cd frontend && npx tsc --noEmit && npx vitest run
	cd frontend && npx openapi-typescript openapi.json --default-non-nullable false \
		-o node_modules/.schema-check.d.ts >/dev/null 2>&1 && \
		cmp -s src/api/schema.d.ts node_modules/.schema-check.d.ts || \
		{ echo "frontend/src/api/schema.d.ts is stale: run make api-client"; exit 1; }
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
