"""Collect traces: sample k responses per problem from a policy model and store them as traces.

Run locally:  python -m flows.collect_traces   (the demo: configs/demo.yaml's problems, SmolLM2-135M on llama.cpp)
              python -m flows.collect_traces --config configs/shared-data.yaml --source big_math --limit 100
Deployed:     see prefect.yaml (deployment `collect_traces/collect-traces`; `collect-traces-gpu` on the GPU pool).
The source is a configured problem set (`options: {problems_only: true}` on a verl or sample source); the policy
model is `collect.policy` (llamacpp, litellm or vllm_batch). Every sample goes through the response cache: a rerun
makes no calls.
"""

from __future__ import annotations

import argparse
import json
import sys

from prefect import flow
from prefect.runtime import flow_run

from flows._cli import given, run_flow
from rubricate.config import PipelineConfig, load_config
from rubricate.errors import RubricateError
from rubricate.llm.backends import check_model
from tasks.collect import ingest_problems, sample_responses, store_rollouts
from tasks.common import say_done, tracked_flow_run


@flow(name="collect_traces", log_prints=True)
def collect_traces(config_path: str = "configs/demo.yaml", source: str = "sample_problems", limit: int = 0) -> dict:
    """Ingest the problem set `source`, sample collect.samples_per_problem responses per problem, store them as traces.

    Args:
        config_path: The pipeline config file (YAML): its problem-set source and `collect.policy` model.
        source: A configured problem-set source (a verl or sample source with `options: {problems_only: true}`).
        limit: At most this many problems; 0: all of them.
    """
    cfg = load_config(config_path)
    limit_ = given(limit)
    src = next((s for s in cfg.sources if s.name == source), None)
    if src is None:
        raise RubricateError(f"source '{source}' is not in {config_path}; known: {[s.name for s in cfg.sources]}")
    if not src.options.get("problems_only"):
        raise RubricateError(f"source '{source}' is not a problem set; give it `options: {{problems_only: true}}` (verl or sample reader)")
    if cfg.collect.policy.kind == "none":
        raise RubricateError("collect.policy.kind is 'none': set collect.policy (llamacpp, litellm or vllm_batch) to sample responses")
    check_model(cfg.collect.policy, cfg.resolved_data_dir())  # a local model's missing weights: an error naming the fix, before any work
    tags = {"prefect.flow_run_id": flow_run.get_id() or "", "config_path": config_path}
    with tracked_flow_run(cfg, "collect_traces", tags=tags, extra_params={"collect.source": source, "collect.limit": limit_}) as tracker:
        # Each stage's counts are logged as the stage ends, so a run that fails later still shows what finished.
        problems = ingest_problems(cfg, source, limit_)
        tracker.log_report("problems", problems)
        sampled = sample_responses(cfg, src.stored_path(), limit_)
        tracker.log_report("sample", sampled)
        stored = store_rollouts(cfg, sampled["rollout_path"], f"{source}-rollouts")
        tracker.log_report("traces", stored)
        tracker.log_dict({"problems": problems, "sample": sampled, "traces": stored}, "collect_traces.json")
        say_done(f"collect_traces: {sampled['n_sampled']:,} responses sampled, {stored['n_accepted']:,} new traces stored; "
                 f"MLflow run {tracker.run_id}")
        return {"mlflow_run_id": tracker.run_id, "flow_run_id": tags["prefect.flow_run_id"], "problems": problems, "sample": sampled, "traces": stored}


def _render(result: dict, args: argparse.Namespace, cfg: PipelineConfig) -> None:
    print(json.dumps({k: result[k] for k in ("sample", "traces")}, indent=1, default=str))


def main(argv: list[str] | None = None) -> int:
    return run_flow(collect_traces, argv, render=_render)


if __name__ == "__main__":
    sys.exit(main())
