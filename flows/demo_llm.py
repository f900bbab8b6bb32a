"""The LLM demo: every model stage of rubricate on a small sample, with a real local model (`make demo-llm`).

Run locally:  python -m flows.demo_llm --config configs/demo-llm.yaml   (after `make fetch-llm`)
Wires the two existing flows: `pipeline` (ingest the generated sample set, rule-verify the answers, ask the LLM
about every answer the rules rejected) and `judge_eval` (LLM-describe the first error of the labelled part's
wrong traces, embed and cluster the descriptions, LLM-name the rubric items, then judge the held-out traces with
the rubric judge and the plain judge and score both against the gold labels). Then prints what each stage
decided and how long it took. Everything an LLM answered is in the response cache: a rerun is seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from prefect import flow

from flows.judge_eval import judge_eval
from flows.pipeline import pipeline
from rubricate.config import PipelineConfig, load_config
from rubricate.errors import RubricateError

JUDGES = ["rubric", "plain"]


@flow(name="demo_llm", log_prints=True)
def demo_llm(config_path: str = "configs/demo-llm.yaml", gold_fraction: float = 0.5) -> dict:
    """The pipeline with LLM verification, then the rubric judge and the plain judge on held-out traces."""
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    verified = pipeline(config_path=config_path)
    times["ingest + verify + LLM verify"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    evaluated = judge_eval(config_path=config_path, judges=JUDGES, gold_fraction=gold_fraction)
    times["rubric + judges"] = time.perf_counter() - t0
    return {"pipeline": verified, "judge_eval": evaluated, "times": times, "gold_fraction": gold_fraction}


# -- what the demo prints --------------------------------------------------------------------------
def _verify_lines(cfg: PipelineConfig, reports: dict[str, Any]) -> list[str]:
    from rubricate.store import open_store
    from rubricate.verify.llm_addon import final_answer_verdicts

    rules, llm = reports.get("verify") or {}, reports.get("llm verify") or {}
    lines = ["## 1. Answers: rules first, then the LLM on what the rules rejected"]
    if rules:
        counts = {k: v for k, v in rules.items() if k.startswith("n_") and isinstance(v, int) and v}
        lines.append(f"rules: {counts} in {rules.get('seconds', 0):.1f}s")
    if not llm or llm.get("skipped"):
        lines.append(f"LLM verifier: skipped ({(llm or {}).get('skipped', 'no LLM configured')})")
        return lines
    lines.append(f"LLM verifier ({llm['llm_verifier_id']}): asked about {llm['n_asked']} rejections, recovered {llm['n_recovered']} "
                 f"(equivalent after all), confirmed {llm['n_confirmed']}, {llm['n_error']} without a usable answer; "
                 f"{llm['prompt_tokens'] + llm['completion_tokens']} tokens, {llm['seconds']:.1f}s")
    frame = final_answer_verdicts(open_store(cfg.store_path()), llm["llm_verifier_id"])
    decided = frame.filter(frame["llm_verdict"].is_not_null())
    for r in decided.head(6).iter_rows(named=True):
        lines.append(f"  {r['trace_id'][:10]}  rules {r['rule_verdict']:<9} -> LLM {r['llm_verdict']:<9} {r['reason'][:110]}")
    return lines


def _judge_lines(cfg: PipelineConfig, result: dict[str, Any]) -> list[str]:
    from rubricate.judge.evaluate import labelled_split
    from rubricate.judge.stage import query_with_ids
    from rubricate.rubric.model import Rubric
    from rubricate.store import open_store

    ev = result["judge_eval"]
    lines = ["", "## 2. The rubric: LLM-described first errors of the labelled part, clustered, LLM-named"]
    rubric = Rubric.from_json(ev["rubric_file"]) if ev.get("rubric_file") else None
    if rubric is not None:
        lines.append(f"rubric {rubric.version_id}: {len(rubric.items)} items (from {ev['split']['n_build']} labelled traces)")
        for item in rubric.items:
            lines.append(f"  {item.item_id}  {item.name}: {item.description[:120]}")
    lines += ["", f"## 3. Judges on {ev['split']['n_eval']} held-out traces (positive = the trace is wrong)"]
    store = open_store(cfg.store_path())
    split = labelled_split(store, None, None, result["gold_fraction"], cfg.judge.split_seed)
    per_trace: dict[str, dict[str, Any]] = {}
    for kind in JUDGES:
        res = ev["judges"][kind]
        rows = query_with_ids(store, "select_judge_eval_rows", split["eval"], {"judge_id": res["judge_id"]})
        for r in rows.iter_rows(named=True):
            row = per_trace.setdefault(r["trace_id"], {"gold": "correct" if r["label_correct"] else f"wrong@{r['label_first_error_step']}"})
            step = f"@{r['first_error_step']}" if r["first_error_step"] is not None else ""
            items = ",".join(i["item_id"] for i in json.loads(r["items"] or "[]") if i.get("present"))
            row[kind] = f"{r['verdict']}{step}" + (f" [{items}]" if items else "")
    lines.append(f"  {'trace':<10}  {'gold':<10}  {'rubric judge':<30}  plain judge")
    for tid, row in sorted(per_trace.items()):
        lines.append(f"  {tid[:10]:<10}  {row['gold']:<10}  {row.get('rubric', '-'):<30}  {row.get('plain', '-')}")
    lines.append("")
    lines.append(ev["table"].split("\n\n", 2)[-1])
    for kind in JUDGES:
        usage = ev["judges"][kind]["usage"]
        lines.append(f"{kind} judge: {usage.get('prompt_tokens', 0) + usage.get('completion_tokens', 0)} tokens in {usage.get('requests', 0)} requests "
                     f"({usage.get('cached', 0)} from the response cache)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.demo_llm", description=demo_llm.__doc__)
    parser.add_argument("--config", default="configs/demo-llm.yaml")
    parser.add_argument("--gold-fraction", type=float, default=0.5, help="labelled share the rubric is mined from (small demo: 0.5)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        cfg = load_config(args.config)
        if cfg.llm.kind == "none":
            raise RubricateError(f"{args.config} configures no LLM (llm.kind: none); the LLM demo needs one (configs/demo-llm.yaml)")
        result = demo_llm(config_path=args.config, gold_fraction=args.gold_fraction)
    except RubricateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print()
    print(f"# rubricate LLM demo: model {cfg.llm.model}")
    print("\n".join(_verify_lines(cfg, result["pipeline"]["reports"]) + _judge_lines(cfg, result)))
    print("\n## Time per stage")
    for stage, seconds in result["times"].items():
        print(f"  {stage:<30} {seconds:7.1f}s")
    print(f"  {'total (with Prefect start-up)':<30} {time.perf_counter() - t0:7.1f}s")
    print(f"\nMLflow runs: {result['pipeline']['mlflow_run_id']} (pipeline), {result['judge_eval']['mlflow_run_id']} (judge_eval); make ui-mlflow")
    return 0


if __name__ == "__main__":
    sys.exit(main())
