# rubricate: every command a user needs. `make demo` and `make test` work from a fresh clone.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DATA ?= $(CURDIR)/data
STAMP := $(VENV)/.installed

# Offline, quiet, and everything under one data folder (see README "Where things live").
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export LITELLM_LOCAL_MODEL_COST_MAP := True
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export MLFLOW_DISABLE_TELEMETRY := true
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90
export PREFECT_HOME := $(DATA)/prefect
export NUMBA_CACHE_DIR := $(DATA)/numba-cache
export RUBRICATE_DATA_DIR := $(DATA)
export RUBRICATE_REPO := $(CURDIR)
export PYTHONPATH := $(CURDIR)
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test bench ui-mlflow ui-prefect deploy worker clean

install: $(STAMP)

# torch goes first and alone so pip takes the local CPU wheel instead of resolving a CUDA build.
$(STAMP): pyproject.toml constraints.txt
	@command -v $(PY) >/dev/null || { echo "need $(PY) (set PY=python3.x, 3.11+)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/python -m flows.pipeline --config configs/demo.yaml

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/verify_answers.py

ui-mlflow: install
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow ui --backend-store-uri sqlite:///$(DATA)/mlflow.db \
	  --default-artifact-root $(DATA)/mlartifacts --host 127.0.0.1 --port 5000 --workers 1

ui-prefect: install
	$(BIN)/prefect server start --host 127.0.0.1 --port 4200

deploy: install
	PREFECT_API_URL=http://127.0.0.1:4200/api $(BIN)/prefect work-pool create local --type process || true
	PREFECT_API_URL=http://127.0.0.1:4200/api $(BIN)/prefect --no-prompt deploy --all

worker: install
	PREFECT_API_URL=http://127.0.0.1:4200/api $(BIN)/prefect worker start --pool local

clean:
	rm -rf $(DATA)
