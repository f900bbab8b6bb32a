"""Evaluate a judge against gold labels: split the labelled traces, judge the held-out part, score it.

The gold-label budget is a parameter: a fraction of the labelled traces (20% by default) is what the rubric
is built from and what the offline judge learns from; only the rest is judged and scored, as in the
research this project follows. The split ranks traces by a hash of (seed, trace id) and takes exactly the lowest
`fraction`: the same traces land on the same side every run, whatever order they come in, and adding traces
moves only a few of the old ones.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from rubricate.ids import content_hash
from rubricate.judge.metrics import Scored, item_counts, processbench_metrics, trace_metrics
from rubricate.judge.stage import JudgeReport, judge_traces, load_traces, query_with_ids

if TYPE_CHECKING:
    from rubricate.config import PipelineConfig
    from rubricate.rubric.model import Rubric
    from rubricate.store import Store

# What a person reads first about each judge (the confusion matrices, items and tokens are in MLflow).
HEADLINE = ("balanced_accuracy", "sensitivity", "specificity", "pb_f1", "pb_acc_erroneous", "pb_acc_correct", "n_judge_errors", "cost_usd")


def judges_markdown(results: dict[str, dict[str, Any]], split: dict[str, Any], fraction: float) -> str:
    """The headline metrics of each judge (results: kind -> {"metrics": ...}) as one Markdown table."""
    import polars as pl

    from rubricate.summary import to_markdown

    frame = pl.DataFrame([{"judge": kind, **{k: res["metrics"].get(k) for k in HEADLINE}} for kind, res in results.items()])
    head = (f"# Judges against gold labels\n\n{len(split['eval'])} held-out traces scored; the rubric and the offline judge "
            f"learnt from {len(split['build'])} ({fraction:.0%} of {split['n_labelled']} labelled). Positive = the trace is wrong.\n\n")
    return head + to_markdown(frame)


def split_gold(trace_ids: Sequence[str], fraction: float, seed: int = 0) -> tuple[list[str], list[str]]:
    """(labelled part for building, held-out part for evaluating): `fraction` of the ids by a stable hash."""
    ranked = sorted(dict.fromkeys(trace_ids), key=lambda t: content_hash(seed, t))
    n_build = max(1, round(fraction * len(ranked))) if ranked else 0
    return sorted(ranked[:n_build]), sorted(ranked[n_build:])


def labelled_split(store: "Store", datasets: Sequence[str] | None, limit: int | None, fraction: float, seed: int) -> dict[str, Any]:
    """The gold-labelled traces split into the labelled budget (`build`) and the held-out part (`eval`)."""
    from rubricate.judge.stage import labelled_trace_ids

    frame = labelled_trace_ids(store, datasets, limit)
    build, held_out = split_gold(frame["trace_id"].to_list(), fraction, seed)
    n_wrong = int((~frame["label_correct"]).sum()) if frame.height else 0
    return {"build": build, "eval": held_out, "n_labelled": frame.height, "n_labelled_wrong": n_wrong, "fraction": fraction, "seed": seed}


@dataclass
class JudgeRun:
    report: JudgeReport
    usage: dict[str, Any]
    offline_fit: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"report": self.report.as_dict(), "usage": self.usage, "offline_fit": self.offline_fit}


def run_judge(
    store: "Store",
    cfg: "PipelineConfig",
    kind: str,
    rubric: "Rubric | None",
    build_ids: Sequence[str],
    eval_ids: Sequence[str],
    progress: Callable[[JudgeReport], None] | None = None,
) -> JudgeRun:
    """Make the judge (the offline one learns from `build_ids`) and judge `eval_ids`; verdicts are stored."""
    from rubricate.judge.factory import make_judge
    from rubricate.llm.backends import get_backend

    backend = get_backend(cfg.llm, store=store)
    labelled = load_traces(store, build_ids) if kind == "offline" else None
    judge = make_judge(kind, backend, cfg.judge, rubric=rubric, labelled=labelled, store=store)
    report = judge_traces(store, judge, eval_ids, batch_size=cfg.judge.batch_size, progress=progress)
    usage = getattr(backend, "usage", None)
    fit = getattr(judge, "fit_report", None)
    return JudgeRun(report, usage.as_dict() if usage is not None else {}, fit.as_dict() if fit is not None else None)


@dataclass
class EvalResult:
    judge_id: str
    metrics: dict[str, Any]
    items: dict[str, dict[str, int]]
    confusion: dict[str, int]
    by_dataset: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)  # a sample of error rows, for the report

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_judge(store: "Store", judge_id: str, eval_ids: Sequence[str]) -> EvalResult:
    """Score one judge's stored verdicts on the held-out traces against their gold labels."""
    frame = query_with_ids(store, "judge/select_judge_eval_rows", eval_ids, {"judge_id": judge_id})
    rows = frame.to_dicts()
    scored = [Scored(not r["label_correct"], r["label_first_error_step"], r["verdict"] or "error", r["first_error_step"]) for r in rows]
    metrics = trace_metrics(scored) | processbench_metrics(scored)
    metrics["n_missing_verdicts"] = sum(1 for r in rows if r["verdict"] is None)
    metrics["prompt_tokens"] = int(sum(r["prompt_tokens"] for r in rows))
    metrics["completion_tokens"] = int(sum(r["completion_tokens"] for r in rows))
    metrics["cost_usd"] = float(sum(r["cost_usd"] for r in rows))
    items = item_counts([json.loads(r["items"]) if r["items"] else [] for r in rows], [not r["label_correct"] for r in rows])
    by_dataset: dict[str, dict[str, Any]] = {}
    for ds in sorted({r["dataset"] for r in rows}):
        part = [s for s, r in zip(scored, rows) if r["dataset"] == ds]
        by_dataset[ds] = trace_metrics(part) | processbench_metrics(part)
    errors = [{"trace_id": r["trace_id"], "stage": r["error_stage"], "error": r["error"]} for r in rows if r["verdict"] == "error"][:50]
    confusion = {k: metrics[k] for k in ("tp", "fn", "tn", "fp")}
    return EvalResult(judge_id, metrics, items, confusion, by_dataset, errors)


def confusion_png(result: EvalResult, path: str | Path, title: str = "") -> Path:
    """The confusion matrix of "trace is wrong" as a PNG (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = result.confusion
    grid = [[c["tn"], c["fp"]], [c["fn"], c["tp"]]]
    fig, ax = plt.subplots(figsize=(4.2, 3.8))
    ax.imshow(grid, cmap="Blues")
    for i in range(2):
        for j in range(2):
            ax.text(j, i, str(grid[i][j]), ha="center", va="center", fontsize=14)
    ax.set_xticks([0, 1], ["judged correct", "judged wrong"])
    ax.set_yticks([0, 1], ["gold correct", "gold wrong"])
    bacc = result.metrics.get("balanced_accuracy")
    ax.set_title(title or f"judge {result.judge_id[:8]}" + (f"  bal.acc {bacc:.3f}" if bacc is not None else ""), fontsize=10)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def log_eval(tracker: Any, kind: str, result: EvalResult, run: dict[str, Any] | None = None) -> dict[str, float]:
    """Log one judge's evaluation to the MLflow run: metrics prefixed by the judge kind, items, errors, the PNG."""
    from rubricate.tracking import report_metrics, write_temp

    metrics: dict[str, float] = report_metrics(kind, result.metrics)
    for item_id, counts in result.items.items():
        metrics |= {f"{kind}.item.{item_id}.{k}": float(v) for k, v in counts.items()}
    for ds, m in result.by_dataset.items():
        metrics |= {f"{kind}.{ds}.{k}": float(m[k]) for k in ("balanced_accuracy", "sensitivity", "specificity", "pb_f1") if m.get(k) is not None}
    usage = (run or {}).get("usage") or {}
    metrics |= report_metrics(f"{kind}.llm", usage)
    report = (run or {}).get("report") or {}
    if "seconds" in report:
        metrics[f"{kind}.judge_seconds"] = float(report["seconds"])
    tracker.log_metrics(metrics)
    tracker.log_dict({"judge": run, "eval": result.as_dict()}, f"judge_eval/{kind}.json")
    if tracker.enabled:
        png = confusion_png(result, write_temp("", f"confusion_{kind}.png"), title=f"{kind} judge: trace is wrong")
        tracker.log_artifact(png, "judge_eval")
    return metrics
