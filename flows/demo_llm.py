"""The LLM demo: every model stage of rubricate on a small sample, with a real local model (`make demo-llm`).

Run locally:  python -m flows.demo_llm --config configs/demo-llm.yaml   (after `make fetch-llm`)
Wires the `pipeline` flow (ingest the generated sample set, rule-verify the answers, ask the LLM about every
answer the rules rejected) and judge_eval's tasks (split the labelled traces, LLM-describe the first error of the
labelled part's wrong traces, embed and cluster the descriptions, LLM-name the rubric items), then judges a few
held-out traces (half wrong, seeded) with the rubric judge and the plain judge and scores both against the gold
labels. Prints what each stage decided and how long it took. Everything an LLM answered is in the response cache: a rerun is seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from flows._cli import run_flow
from flows.pipeline import pipeline
from rubricate.config import PipelineConfig, load_config
from rubricate.errors import RubricateError
from rubricate.judge.gold_eval import judges_markdown
from rubricate.llm.backends import check_model
from tasks.common import say_done, tracked_flow_run
from tasks.demo import pick_held_out
from tasks.judge import judge_held_out, prepare_rubric, score_and_log, split_labelled

JUDGES = ["rubric", "plain"]


@flow(name="demo_llm", log_prints=True)
def demo_llm(config_path: str = "configs/demo-llm.yaml", gold_fraction: float = 0.8, n_judged: int = 4, seed: int = 0) -> dict:
    """The pipeline with LLM verification; a rubric mined from the labelled part with the LLM; then the rubric
    judge and the plain judge on `n_judged` held-out traces (half of them wrong), scored against the gold labels.

    Args:
        config_path: A config with an `llm:` section (configs/demo-llm.yaml: the local Qwen 1.5B model).
        gold_fraction: Labelled share the rubric is mined from (the miner needs ~16 wrong traces).
        n_judged: Held-out traces each judge judges (half of them wrong).
        seed: Seed of the split and of the judged sample.
    """
    cfg = load_config(config_path)
    _check_llm(cfg, config_path)  # before any stage runs, also when started from the Prefect UI
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    verified = pipeline(config_path=config_path)
    times["ingest, rules, LLM verify"] = time.perf_counter() - t0
    tags = {"prefect.flow_run_id": flow_run.get_id() or "", "config_path": config_path}
    with tracked_flow_run(cfg, "demo_llm", tags=tags, extra_params={"demo.gold_fraction": gold_fraction, "demo.n_judged": n_judged}) as tracker:
        split = split_labelled(cfg, None, None, gold_fraction, seed)
        eval_ids = pick_held_out(cfg, split["eval"], n_judged, seed)
        t0 = time.perf_counter()
        rubric_file, no_rubric = None, None
        try:
            rubric_file = prepare_rubric(cfg, split["build"], None, None, build=True)
        except RubricateError as exc:  # too few or too scattered descriptions: a finding to print, not a crash
            no_rubric = str(exc)
        times["rubric: describe, cluster, name"] = time.perf_counter() - t0
        judges: dict[str, dict] = {}
        for kind in JUDGES if rubric_file else ["plain"]:
            t0 = time.perf_counter()
            run = judge_held_out(cfg, kind, rubric_file, split["build"], eval_ids)
            scored = score_and_log(cfg, tracker, kind, run, eval_ids)
            times[f"{kind} judge"] = time.perf_counter() - t0
            judges[kind] = {"judge_id": run["report"]["judge_id"], "metrics": scored["metrics"], "usage": run["usage"]}
        table = judges_markdown(judges, {"build": split["build"], "eval": eval_ids, "n_labelled": split["n_labelled"]}, gold_fraction)
        tracker.log_text(table, "demo_llm.md")
        say_done(f"demo_llm: {len(eval_ids)} held-out traces judged by {', '.join(judges)}; rubric "
                 f"{'from ' + rubric_file if rubric_file else 'none (' + str(no_rubric) + ')'}; MLflow run {tracker.run_id}")
    return {"pipeline": verified, "rubric_file": rubric_file, "no_rubric": no_rubric, "n_build": len(split["build"]), "eval_ids": eval_ids,
            "judges": judges, "table": table, "times": times, "mlflow_run_id": tracker.run_id}


# -- what the demo prints --------------------------------------------------------------------------
def _verify_lines(cfg: PipelineConfig, reports: dict[str, Any]) -> list[str]:
    from rubricate.store import open_store
    from rubricate.verify.llm_addon import final_answer_verdicts

    rules, llm = reports.get("verify") or {}, reports.get("llm verify") or {}
    lines = ["## 1. Answers: rules first, then the LLM on what the rules rejected"]
    if rules:
        counts = {k: v for k, v in rules.items() if k.startswith("n_") and isinstance(v, int) and v}
        lines.append(f"rules: {counts} in {rules.get('seconds', 0):.1f}s" if counts else "rules: nothing new to verify (verdicts already stored)")
    if not llm or llm.get("skipped"):
        lines.append(f"LLM verifier: skipped ({(llm or {}).get('skipped', 'no LLM configured')})")
        return lines
    lines.append(f"LLM verifier ({llm['llm_verifier_id']}): asked about {llm['n_asked']} rejections, recovered {llm['n_recovered']} "
                 f"(equivalent after all), confirmed {llm['n_confirmed']}, {llm['n_error']} without a usable answer; "
                 f"{llm['prompt_tokens'] + llm['completion_tokens']} tokens, {llm['seconds']:.1f}s")
    frame = final_answer_verdicts(open_store(cfg.store_target()), llm["llm_verifier_id"])
    decided = frame.filter(frame["llm_verdict"].is_not_null())
    decided = decided.sort(decided["llm_verdict"] != "correct", "trace_id")  # what the LLM recovered first
    for r in decided.head(6).iter_rows(named=True):
        lines.append(f"  {r['trace_id'][:10]}  rules {r['rule_verdict']:<9} -> LLM {r['llm_verdict']:<9} {r['reason'][:110]}")
    return lines


def _judge_lines(cfg: PipelineConfig, result: dict[str, Any]) -> list[str]:
    from rubricate.judge.stage import query_with_ids
    from rubricate.rubric.model import Rubric
    from rubricate.store import open_store

    lines = ["", "## 2. The rubric: LLM-described first errors of the labelled part's wrong traces, clustered, LLM-named"]
    rubric = Rubric.from_json(result["rubric_file"]) if result.get("rubric_file") else None
    if rubric is not None:
        lines.append(f"rubric {rubric.version_id}: {len(rubric.items)} items, mined from the {result['n_build']} labelled traces")
        for item in rubric.items:
            lines.append(f"  {item.item_id}  {item.name}: {item.description[:120]}")
    else:
        lines.append(f"no rubric, so no rubric judge: {result['no_rubric']}")
    lines += ["", f"## 3. Judges on {len(result['eval_ids'])} held-out traces (positive = the trace is wrong)"]
    store = open_store(cfg.store_target())
    per_trace: dict[str, dict[str, Any]] = {}
    for kind in result["judges"]:
        rows = query_with_ids(store, "judge/select_judge_eval_rows", result["eval_ids"], {"judge_id": result["judges"][kind]["judge_id"]})
        for r in rows.iter_rows(named=True):
            row = per_trace.setdefault(r["trace_id"], {"gold": "correct" if r["label_correct"] else f"wrong@{r['label_first_error_step']}"})
            step = f"@{r['first_error_step']}" if r["first_error_step"] is not None else ""
            items = ",".join(i["item_id"] for i in json.loads(r["items"] or "[]") if i.get("present"))
            row[kind] = f"{r['verdict']}{step}" + (f" [{items}]" if items else "") + (f" ({r['error'][:60]})" if r["error"] else "")
    lines.append(f"  {'trace':<10}  {'gold':<10}  {'rubric judge':<34}  plain judge")
    for tid, row in sorted(per_trace.items()):
        lines.append(f"  {tid[:10]:<10}  {row['gold']:<10}  {row.get('rubric', '-'):<34}  {row.get('plain', '-')}")
    lines.append("")
    lines.append(result["table"].split("\n\n", 2)[-1])
    for kind in result["judges"]:
        usage = result["judges"][kind]["usage"]
        lines.append(f"{kind} judge: {usage.get('prompt_tokens', 0) + usage.get('completion_tokens', 0)} tokens in {usage.get('requests', 0)} "
                     f"requests ({usage.get('cached', 0)} from the response cache)")
    return lines


def _check_llm(cfg: PipelineConfig, config_path: str) -> None:
    """No LLM configured, or a local model's weights not fetched yet (the error names `make fetch-llm`): say so now."""
    if cfg.llm.kind == "none":
        raise RubricateError(f"{config_path} configures no LLM (llm.kind: none); the LLM demo needs one (configs/demo-llm.yaml)")
    check_model(cfg.llm, cfg.resolved_data_dir())


def _preflight(args: argparse.Namespace, cfg: PipelineConfig) -> None:
    _check_llm(cfg, args.config_path)  # before Prefect starts
    args.started = time.perf_counter()


def _render(result: dict, args: argparse.Namespace, cfg: PipelineConfig) -> None:
    print()
    print(f"# rubricate LLM demo: model {cfg.llm.model}")
    print("\n".join(_verify_lines(cfg, result["pipeline"]["reports"]) + _judge_lines(cfg, result)))
    print("\n## Time per stage")
    for stage, seconds in result["times"].items():
        print(f"  {stage:<30} {seconds:7.1f}s")
    print(f"  {'total (with Prefect start-up)':<30} {time.perf_counter() - args.started:7.1f}s")
    print(f"\nMLflow runs: {result['pipeline']['mlflow_run_id']} (pipeline), {result['mlflow_run_id']} (demo_llm); make ui-mlflow")


def main(argv: list[str] | None = None) -> int:
    return run_flow(demo_llm, argv, render=_render, before=_preflight)


if __name__ == "__main__":
    sys.exit(main())
