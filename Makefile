PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test migrate makemigrations worker bench schema contract resilience clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "need Python 3.11 or newer on PATH"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Serve the API on http://127.0.0.1:8000/graphql (migrates and seeds the demo city first).
run: $(STAMP)
	$(BIN)/python -m api.manage serve

## Run the whole test suite against DATABASE_URL / REDIS_URL (default: SQLite + in-process broker).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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

schema: $(STAMP)
	$(BIN)/python -m mobile_contract.snapshot --write

## Regenerate mobile_contract/manifest.json and ERRORS.md from operations/ and the schema, then run the gate.
contract: $(STAMP)
	$(BIN)/python -m mobile_contract.gate --write

clean:
	rm -rf $(VENV) data
