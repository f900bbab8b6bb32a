"""The decisions a held-out evaluation makes before it runs (which judges, which gold share, which seed) and the
small samples a CPU run judges: policy of the judge stage, shared by the judge_eval, reward_experiment and demo_llm
flows so that each of them only wires tasks."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from rubricate.judge.factory import resolve_kind

if TYPE_CHECKING:
    from rubricate.config import PipelineConfig
    from rubricate.judge.records import TraceToJudge

JudgeKind = Literal["rubric", "plain", "offline"]


@dataclass(frozen=True)
class HeldOutPlan:
    judges: list[str]
    gold_fraction: float  # labelled share the rubric is built from (and the offline judge learns from)
    split_seed: int

    def params(self, prefix: str) -> dict[str, Any]:
        """The plan as run parameters `<prefix>.judges`, ... for MLflow."""
        return {f"{prefix}.judges": self.judges, f"{prefix}.gold_fraction": self.gold_fraction, f"{prefix}.split_seed": self.split_seed}


def plan_held_out(cfg: PipelineConfig, judges: Sequence[str] | None = None, gold_fraction: float | None = None,
                  split_seed: int | None = None) -> HeldOutPlan:
    """Judges to evaluate (default: judge.kind, `auto` resolved against the LLM config); the split from the arguments,
    else from the `judge:` section."""
    return HeldOutPlan(
        judges=list(judges) if judges else [resolve_kind(cfg.judge, cfg.llm.kind)],
        gold_fraction=gold_fraction if gold_fraction is not None else cfg.judge.gold_fraction,
        split_seed=split_seed if split_seed is not None else cfg.judge.split_seed,
    )


def split_counts(split: Mapping[str, Any]) -> dict[str, int]:
    """Sizes of a labelled split (`labelled_split`'s result): labelled, build part, held-out part."""
    return {"n_labelled": int(split["n_labelled"]), "n_build": len(split["build"]), "n_eval": len(split["eval"])}


def balanced_pick(traces: Sequence[TraceToJudge], n: int, seed: int) -> list[str]:
    """A seeded sample of `n` trace ids, half gold-wrong and half gold-right (fewer when a side runs out): on a CPU
    model each judged trace costs seconds, so a demo judges a few and says which."""
    rng = random.Random(seed)
    wrong = sorted(t.trace_id for t in traces if t.label_correct is False)
    right = sorted(t.trace_id for t in traces if t.label_correct)
    rng.shuffle(wrong)
    rng.shuffle(right)
    return sorted(wrong[: n - n // 2] + right[: n // 2])
