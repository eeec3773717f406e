PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint lock graphiql clients migrate makemigrations worker bench schema contract resilience soak lifecycles clean

# the exact versions of requirements.lock first (CI and every machine install the same), then the project itself
$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "need Python 3.11 or newer on PATH"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## Refresh requirements.lock from pyproject.toml (runtime and test dependencies, exact versions); commit both.
## UPGRADE=1 moves every package to its newest allowed version; without it the locked versions stay.
lock:
	@test -n "$(PYTHON)" || { echo "need Python 3.11 or newer on PATH"; exit 1; }
	test -x .lock-venv/bin/pip-compile || { $(PYTHON) -m venv .lock-venv && .lock-venv/bin/pip install --quiet pip-tools; }
	.lock-venv/bin/pip-compile --quiet --strip-extras --extra test --no-emit-index-url --no-emit-find-links \
		$(if $(UPGRADE),--upgrade,) --output-file requirements.lock pyproject.toml

GRAPHIQL_ASSETS := api/graphiql_assets/node_modules/.package-lock.json
CLIENTS := tests/clients/node/node_modules/.package-lock.json

## GraphiQL's React/GraphiQL assets from the npm registry (served at /graphiql/assets/, no CDN).
graphiql: $(GRAPHIQL_ASSETS)
$(GRAPHIQL_ASSETS): api/graphiql_assets/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found (apt-get install npm): GraphiQL will say its assets are missing"; exit 0; }; \
	npm ci --prefix api/graphiql_assets --ignore-scripts --no-audit --no-fund

## The client libraries the tests in tests/clients drive (Apollo Client, graphql-ws, graphql-codegen, playwright-core).
clients: $(CLIENTS)
$(CLIENTS): tests/clients/node/package-lock.json
	npm ci --prefix tests/clients/node --no-audit --no-fund

## Serve the API on http://127.0.0.1:8000/graphql (migrates and seeds the demo city first).
run: $(STAMP) $(GRAPHIQL_ASSETS)
	$(BIN)/python -m api.manage serve

## Run the whole test suite against DATABASE_URL / REDIS_URL (default: SQLite + in-process broker).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Static checks CI runs before the tests: ruff (lint and format), the import contracts, mypy --strict.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy api schema domain notifications mobile_contract

migrate: $(STAMP)
	$(BIN)/python -m api.manage migrate

makemigrations: $(STAMP)
	$(BIN)/tortoise makemigrations

worker: $(STAMP)
	$(BIN)/python -m api.manage worker

bench: $(STAMP)
	$(BIN)/python bench/http_baseline.py

## The bidding day under load with faults (tests/resilience/test_bidding_day.py) on PostgreSQL + Redis:
## DATABASE_URL and REDIS_URL must point at them; PALMTRADE_LOAD_CLIENTS=3000 for the full run.
resilience: $(STAMP)
	$(BIN)/python -m pytest -s -p no:randomly tests/resilience/test_bidding_day.py $(PYTEST_ARGS)

## Runs for months (bench/soak.py): a steady mixed load, sign-ins included, on two servers and a worker on PostgreSQL
## + Redis for SOAK_MINUTES (default 60); RSS slope per process, rows past their retention, p99 per operation.
## DATABASE_URL must name a loopback PostgreSQL (a fresh database is made on it); SOAK_ARGS=--strict fails a missed goal.
SOAK_MINUTES ?= 60
soak: $(STAMP)
	$(BIN)/python bench/soak.py --minutes $(SOAK_MINUTES) $(SOAK_ARGS)

## Regenerate docs/lifecycles/<area>.md (Markdown + Mermaid) from every domain/<area>/states.py table.
lifecycles: $(STAMP)
	$(BIN)/python -m domain.lifecycles --write

schema: $(STAMP)
	$(BIN)/python -m mobile_contract.snapshot --write

## Regenerate mobile_contract/manifest.json and ERRORS.md from operations/ and the schema, then run the gate.
contract: $(STAMP)
	$(BIN)/python -m mobile_contract.gate --write

clean:
	rm -rf $(VENV) data
