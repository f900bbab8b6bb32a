"""The offline judge (backend `none`): nearest neighbours in embedding space, calibrated on gold labels.

It learns from the gold-labelled part of the traces (for example 20%): the first wrong step of each wrong
trace and the rubric items' descriptions and examples are "error" exemplars; the steps of correct traces
and the steps before the first error are "fine" exemplars. A step's score is its mean similarity to its
k nearest error exemplars minus that to its k nearest fine exemplars; a trace's score is its worst step's.
The threshold is the one with the best balanced accuracy on the labelled traces, scored leave-one-trace-out
(a trace never matches its own steps), so the calibration is not flattered by memorisation.

It will be weak: step embeddings mostly encode the topic, not whether the step is right. It is here so
the pipeline runs with no model, and it is measured like the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from rubricate.errors import RubricateError
from rubricate.ids import content_hash
from rubricate.judge.records import JudgeVerdict, TraceToJudge
from rubricate.llm.base import ProgressFn
from rubricate.rubric.model import Rubric

if TYPE_CHECKING:
    from rubricate.rubric.embed import EmbedFn  # texts -> (n, d) L2-normalised float32

_CHUNK = 2048


@dataclass
class OfflineFit:
    n_traces: int
    n_wrong: int
    n_error_exemplars: int
    n_fine_exemplars: int
    threshold: float
    train_balanced_accuracy: float  # leave-one-trace-out, on the labelled traces

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _topk_mean(sims: np.ndarray, k: int) -> np.ndarray:
    if sims.shape[1] == 0:
        return np.zeros(sims.shape[0], dtype=np.float32)
    k = min(k, sims.shape[1])
    part = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
    return part.mean(axis=1)


def best_threshold(scores: np.ndarray, wrong: np.ndarray) -> tuple[float, float]:
    """(threshold, balanced accuracy) maximising balanced accuracy of `score >= threshold` as "wrong"."""
    if wrong.all() or (~wrong).all():
        return float(np.median(scores)) if len(scores) else 0.0, 0.5
    cands = np.unique(scores)
    mids = np.concatenate([[cands[0] - 1e-6], (cands[:-1] + cands[1:]) / 2, [cands[-1] + 1e-6]])
    best = (0.0, -1.0)
    n_pos, n_neg = wrong.sum(), (~wrong).sum()
    for t in mids:
        pred = scores >= t
        bacc = ((pred & wrong).sum() / n_pos + (~pred & ~wrong).sum() / n_neg) / 2
        if bacc > best[1]:
            best = (float(t), float(bacc))
    return best


class EmbeddingJudge:
    kind = "offline"
    prompt_id: str | None = None  # the Judge protocol's type: no prompt, embeddings only

    def __init__(self, embed: "EmbedFn", embedder_name: str, rubric: Rubric | None = None, *, k: int = 3) -> None:
        self.embed = embed
        self.model: str | None = embedder_name
        self.rubric = rubric
        self.rubric_version: str | None = rubric.version_id if rubric else None
        self.k = k
        self.judge_id = ""  # set by fit(): the verdicts depend on the labelled traces it learned from
        self.fit_report: OfflineFit | None = None

    # -- learning --------------------------------------------------------------------------------
    def fit(self, labelled: Sequence[TraceToJudge]) -> OfflineFit:
        labelled = [t for t in labelled if t.label_correct is not None]
        # Embed every labelled step once; exemplars are picked from these vectors by position.
        bounds = np.cumsum([0] + [len(t.steps) for t in labelled])
        step_vecs = self.embed([s for t in labelled for s in t.steps]) if bounds[-1] else None
        err_rows: list[int] = []
        err_owner: list[int] = []
        fine_rows: list[int] = []
        fine_owner: list[int] = []
        for n, t in enumerate(labelled):
            first = t.label_first_error_step
            base = int(bounds[n])
            if t.label_correct:
                fine_rows.extend(range(base, base + len(t.steps)))
                fine_owner.extend([n] * len(t.steps))
            elif first is not None and 0 <= first < len(t.steps):
                err_rows.append(base + first)
                err_owner.append(n)
                fine_rows.extend(range(base, base + first))
                fine_owner.extend([n] * first)
        self._item_ids: list[str] = []
        item_texts: list[str] = []
        for item in self.rubric.items if self.rubric else []:
            for text in [f"{item.name}. {item.description}", *item.examples]:
                item_texts.append(text)
                self._item_ids.append(item.item_id)
        if not err_rows and not item_texts:
            raise RubricateError(
                "the offline judge has nothing to learn errors from: no labelled wrong trace has a first-error step and "
                "there is no rubric; label some traces (gold_fraction) or give a rubric"
            )
        parts = []
        if err_rows:
            parts.append(step_vecs[err_rows])  # type: ignore[index]
        self._items = self.embed(item_texts) if item_texts else np.zeros((0, parts[0].shape[1]), np.float32)
        if len(self._items):
            parts.append(self._items)
        self._err = np.vstack(parts)
        self._err_owner = np.array(err_owner + [-1] * len(item_texts), dtype=np.int64)
        self._fine = step_vecs[fine_rows] if fine_rows else np.zeros((0, self._err.shape[1]), np.float32)  # type: ignore[index]
        self._fine_owner = np.array(fine_owner, dtype=np.int64)
        # Leave-one-trace-out scores of the labelled traces, for the threshold.
        scores = np.array(
            [self._step_scores(step_vecs[bounds[n] : bounds[n + 1]], owner=n).max(initial=-2.0) if t.steps else -2.0  # type: ignore[index]
             for n, t in enumerate(labelled)],
            dtype=np.float64,
        )
        wrong = np.array([not t.label_correct for t in labelled], dtype=bool)
        self.threshold, bacc = best_threshold(scores, wrong)
        self.fit_report = OfflineFit(len(labelled), int(wrong.sum()), len(self._err), len(self._fine), self.threshold, bacc)
        self.judge_id = content_hash("offline", self.model, self.rubric_version, self.k, sorted(t.trace_id for t in labelled))
        return self.fit_report

    def _step_scores(self, vectors: np.ndarray, owner: int | None) -> np.ndarray:
        out = []
        for s in range(0, len(vectors), _CHUNK):
            v = vectors[s : s + _CHUNK]
            se = v @ self._err.T
            sf = v @ self._fine.T if len(self._fine) else np.zeros((len(v), 0), np.float32)
            if owner is not None:  # leave this trace's own exemplars out
                se[:, self._err_owner == owner] = -2.0
                if sf.shape[1]:
                    sf[:, self._fine_owner == owner] = -2.0
            out.append(_topk_mean(se, self.k) - _topk_mean(sf, self.k))
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    # -- judging -----------------------------------------------------------------------------------
    def judge(self, traces: Sequence[TraceToJudge], progress: ProgressFn | None = None) -> list[JudgeVerdict]:
        if self.fit_report is None:
            raise RubricateError("the offline judge is not fitted; call fit() with gold-labelled traces first")
        # Embed every step of the batch at once (far faster than trace by trace).
        all_steps = [s for t in traces for s in t.steps]
        vectors = self.embed(all_steps) if all_steps else np.zeros((0, self._err.shape[1]), np.float32)
        verdicts: list[JudgeVerdict] = []
        pos = 0
        for n, t in enumerate(traces):
            vecs = vectors[pos : pos + len(t.steps)]
            pos += len(t.steps)
            if not t.steps:
                verdicts.append(JudgeVerdict.failed(t.trace_id, "judge", "trace has no steps"))
                continue
            scores = self._step_scores(vecs, None)
            worst = float(scores.max())
            flagged = np.nonzero(scores >= self.threshold)[0]
            items: list[dict[str, Any]] = []
            if len(flagged):
                step = int(flagged[0])
                if len(self._items):
                    sims = self._items @ vecs[step]
                    best = int(np.argmax(sims))
                    items = [{"item_id": self._item_ids[best], "present": True, "step": step, "evidence": t.steps[step][:200],
                              "evidence_found": True, "similarity": round(float(sims[best]), 4)}]
                verdicts.append(JudgeVerdict(t.trace_id, "incorrect", first_error_step=step, items=items, score=worst,
                                             explanation=f"worst step score {worst:.4f} >= threshold {self.threshold:.4f}"))
            else:
                verdicts.append(JudgeVerdict(t.trace_id, "correct", score=worst,
                                             explanation=f"worst step score {worst:.4f} < threshold {self.threshold:.4f}"))
            if progress and (n + 1) % 200 == 0:
                progress(n + 1, len(traces))
        if progress:
            progress(len(traces), len(traces))
        return verdicts
