"""Collect traces: sample k responses per problem from a policy model and store them as traces.

Run locally:  python -m flows.collect_traces --config configs/collect.yaml --source big_math --limit 100
Deployed:     see prefect.yaml (deployment `collect_traces/collect-traces`; `collect-traces-gpu` on the GPU pool).
The source is a configured problem set (verl reader, `options: {problems_only: true}`); the policy model is
`collect.policy` (litellm or vllm_batch). Every sample goes through the response cache: a rerun makes no calls.
"""

from __future__ import annotations

import argparse
import json
import sys

from prefect import flow
from prefect.runtime import flow_run

from rubricate.config import load_config
from rubricate.errors import RubricateError
from tasks.common import start_temporary_server, tracked_flow_run
from tasks.collect import ingest_problems, sample_responses, store_rollouts


@flow(name="collect_traces", log_prints=True)
def collect_traces(config_path: str = "configs/demo.yaml", source: str = "big_math", limit: int | None = None) -> dict:
    """Ingest the problem set `source`, sample collect.samples_per_problem responses per problem, store them as traces."""
    cfg = load_config(config_path)
    src = next((s for s in cfg.sources if s.name == source), None)
    if src is None:
        raise RubricateError(f"source '{source}' is not in {config_path}; known: {[s.name for s in cfg.sources]}")
    if not src.options.get("problems_only"):
        raise RubricateError(f"source '{source}' is not a problem set; give it `options: {{problems_only: true}}` (verl reader)")
    if cfg.collect.policy.kind == "none":
        raise RubricateError("collect.policy.kind is 'none': set collect.policy (a litellm model or vllm_batch) to sample responses")
    tags = {"prefect.flow_run_id": flow_run.get_id() or "", "config_path": config_path}
    with tracked_flow_run(cfg, "collect_traces", tags=tags, extra_params={"collect.source": source, "collect.limit": limit}) as tracker:
        # Each stage's counts are logged as the stage ends, so a run that fails later still shows what finished.
        problems = ingest_problems(cfg, source, limit)
        tracker.log_metrics({f"problems.{k}": v for k, v in problems.items() if isinstance(v, (int, float))})
        sampled = sample_responses(cfg, src.path, limit)
        tracker.log_metrics({f"sample.{k}": v for k, v in sampled.items() if isinstance(v, (int, float))})
        stored = store_rollouts(cfg, sampled["rollout_path"], f"{source}-rollouts")
        tracker.log_metrics({f"traces.{k}": v for k, v in stored.items() if isinstance(v, (int, float))})
        tracker.log_dict({"problems": problems, "sample": sampled, "traces": stored}, "collect_traces.json")
        return {"mlflow_run_id": tracker.run_id, "flow_run_id": tags["prefect.flow_run_id"], "problems": problems, "sample": sampled, "traces": stored}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.collect_traces", description=collect_traces.__doc__)
    parser.add_argument("--config", default="configs/demo.yaml")
    parser.add_argument("--source", default="big_math", help="a configured problem-set source")
    parser.add_argument("--limit", type=int, help="at most this many problems")
    args = parser.parse_args(argv)
    try:
        load_config(args.config)
        start_temporary_server()  # before the flow: one server start at a time on a fresh PREFECT_HOME
        result = collect_traces(config_path=args.config, source=args.source, limit=args.limit)
    except RubricateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({k: result[k] for k in ("sample", "traces")}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
