"""Helpers of the judge tests (and the LLM tests that judge): configs, labelled traces, rows in a real DuckDB."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from rubricate.ingest.run import TRACE_SCHEMA
from rubricate.judge.records import TraceToJudge
from rubricate.llm.base import LLMConfig
from rubricate.store import Store
from tests.stub_server import StubOpenAIServer


def llm_cfg(server: StubOpenAIServer, **kw: Any) -> LLMConfig:
    return LLMConfig(**({"kind": "litellm", "model": "openai/judge-sim", "api_base": server.url, "retry_base_s": 0.01,
                         "retry_max_s": 0.05, "max_retries": 1} | kw))


def arithmetic_traces(n: int = 12) -> list[TraceToJudge]:
    """Half correct, half with an arithmetic slip at a known step (label = truth the simulator also sees)."""
    out = []
    for i in range(n):
        a, b = 3 + i, 4 + i
        wrong = i % 2 == 1
        err_at = 1 + (i % 3) if wrong else None
        steps = [f"We need the total of {a} and {b} apples, then double it."]
        for s in range(1, 5):
            x, y = a + s, b + s
            z = x + y + (1 if s == err_at else 0)
            steps.append(f"Step work: {x} + {y} = {z}.")
        out.append(TraceToJudge(trace_id=f"t{i:02d}", problem=f"Problem {i}: add {a} and {b}.", steps=tuple(steps),
                                label_correct=not wrong, label_first_error_step=err_at))
    return out


def add_traces(store: Store, traces: list[TraceToJudge], dataset: str = "unit") -> None:
    rows = [{
        "trace_id": t.trace_id, "problem_id": "p" + t.trace_id, "dataset": dataset, "split": None, "domain": "math",
        "source_path": "unit.jsonl", "source_line": i + 1, "source_id": None, "problem": t.problem, "response": "\n\n".join(t.steps),
        "steps": list(t.steps), "gold_answer": None, "model": None, "label_correct": t.label_correct, "label_final_answer_correct": None,
        "label_first_error_step": t.label_first_error_step, "label_error_type": None, "label_error_description": None, "extra": json.dumps({}),
        "ingest_run_id": "test", "ingested_at": datetime(2026, 1, 1),
    } for i, t in enumerate(traces)]
    store.insert_frame("ingest/insert_traces", pl.DataFrame(rows, schema=TRACE_SCHEMA))


def ingest_first_source(path: Path) -> None:
    """Ingest the config's first source (the labelled traces) without running a flow."""
    from rubricate.config import load_config
    from rubricate.ingest.run import ingest_source
    from rubricate.store import open_store

    cfg = load_config(path)
    ingest_source(open_store(cfg.store_path()), cfg.sources[0])


def flow_config(tmp_path: Path, server: StubOpenAIServer, **extra) -> Path:
    """A config file: 20 labelled arithmetic traces as a jsonl source, the judge LLM at `server`."""
    traces = tmp_path / "labelled.jsonl"
    with traces.open("w") as fh:
        for t in arithmetic_traces(20):
            fh.write(json.dumps({"q": t.problem, "steps": list(t.steps), "ok": t.label_correct, "err": t.label_first_error_step}) + "\n")
    cfg = {
        "data_dir": str(tmp_path / "data"),
        "sources": [{"name": "arith", "reader": "jsonl", "path": str(traces),
                     "fields": {"problem": "q", "response": None, "steps": "steps", "label_correct": "ok", "label_first_error_step": "err"}}],
        "llm": {"kind": "litellm", "model": "openai/judge-sim", "api_base": server.url, "max_retries": 1, "retry_base_s": 0.01},
        **extra,
    }
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path
