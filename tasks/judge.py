from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from rubricate.config import PipelineConfig
from rubricate.judge.gold_eval import labelled_split, log_eval, run_judge, score_judge
from rubricate.judge.rubric_source import resolve_rubric
from rubricate.rubric.model import Rubric
from rubricate.tracking import RunTracker
from tasks.common import progress_logger, run_logger, store_for


@task(name="split-gold-labels", cache_policy=NO_CACHE)
def split_labelled(cfg: PipelineConfig, datasets: list[str] | None, limit: int | None, fraction: float, seed: int) -> dict:
    """Labelled traces -> the gold budget (`build`, e.g. 20%) and the held-out part (`eval`), by a stable hash."""
    split = labelled_split(store_for(cfg), datasets, limit, fraction, seed)
    run_logger().info("gold split: %d labelled -> %d build, %d eval", split["n_labelled"], len(split["build"]), len(split["eval"]))
    return split


@task(name="prepare-rubric", cache_policy=NO_CACHE)
def prepare_rubric(cfg: PipelineConfig, build_ids: list[str], rubric_path: str | None, rubric_version: str | None, build: bool) -> str | None:
    """The rubric to judge with, as a JSON file path: given, stored, or built from the labelled split only."""
    rubric = resolve_rubric(store_for(cfg), cfg, build_ids, path=rubric_path, version=rubric_version, build=build)
    if rubric is None:
        return None
    out = cfg.resolved_data_dir() / "judge_eval" / f"rubric-{rubric.version_id}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    return str(rubric.to_json(out))


@task(name="judge-held-out", cache_policy=NO_CACHE)
def judge_held_out(cfg: PipelineConfig, kind: str, rubric_file: str | None, build_ids: list[str], eval_ids: list[str]) -> dict:
    """Judge the held-out traces (verdicts stored; the offline judge learns from the build split)."""
    rubric = Rubric.from_json(rubric_file) if rubric_file else None
    return run_judge(store_for(cfg), cfg, kind, rubric, build_ids, eval_ids, progress=progress_logger(f"judge {kind}")).as_dict()


@task(name="score-judge", cache_policy=NO_CACHE)
def score_and_log(cfg: PipelineConfig, tracker: RunTracker, kind: str, run: dict, eval_ids: list[str]) -> dict:
    """Score the stored verdicts against gold labels and log metrics, item counts and the confusion PNG to MLflow."""
    result = score_judge(store_for(cfg), run["report"]["judge_id"], eval_ids)
    log_eval(tracker, kind, result, run)
    return result.as_dict()
