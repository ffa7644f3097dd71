# The README's commands. The first use builds .venv from the locked requirements.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := shared gateway_api executors localstack

.PHONY: up test lint format bench bench-sandbox bench-peers load clean soak

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/python -m localstack

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(PACKAGES)

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Floors, jetfaas at 1, 2 and 4 executors, cold start and ratios, in about 3 minutes.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# Twenty minutes of steady load; memory must stay flat and every call answered.
soak: $(STAMP)
	JETFAAS_SOAK_SECONDS=$${JETFAAS_SOAK_SECONDS:-1200} \
		$(BIN)/pytest -q -m soak tests/faults

bench-sandbox: $(STAMP)
	$(BIN)/python -m bench.sandbox_bench

# The Celery peer needs packages kept out of requirements.lock, and redis-server.
bench-peers: $(STAMP)
	$(BIN)/python -m pip install --quiet celery==5.7.0 redis==8.1.0
	$(BIN)/python -m bench $(BENCH_ARGS)

load: $(STAMP)
	JETFAAS_LOAD_CALLS=100000 JETFAAS_LOAD_CONCURRENCY=64 \
		$(BIN)/pytest -q -m load tests/load

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
