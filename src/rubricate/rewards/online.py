"""The reward as a function an RL trainer calls online: verl, TRL and OpenRLHF entry points.

Same rule as the stored rewards (`rubricate.rewards.rule.decide`), computed live:
1. the rule verifier runs in-process on every sample that has a gold answer (cheap: no process pool);
2. the LLM verifier (when `llm` is configured) re-checks, in one batch, the answers the rules did not accept;
3. the judge (rubric / plain / offline, per the `judge:` config) runs, in batches, only on samples the rule
   sends to it: no gold answer, or a right answer under `process_check`;
4. LLM calls go through the DuckDB response cache when the store can be opened.
One bad sample never raises: it gets `rule.unscorable_value` (online cannot drop a sample) and the reason
is logged on the `rubricate.rewards.online` logger.

Configuration: `OnlineReward(cfg)` explicitly, or the module-level entry points, which read the YAML
config named by the environment variable RUBRICATE_CONFIG (defaults when unset: rules only, offline judge).
The rubric comes from `rewards.online.rubric_path` (an exported rubric JSON: best for trainer machines)
or `rewards.online.rubric_version` (read from the DuckDB store).

Entry points (this module has no Prefect or MLflow in its import path):
- verl:     custom_reward_function.path=<this file>  custom_reward_function.name=compute_score
            (or name=compute_score_batch with reward_model.reward_manager=batch)
- TRL:      GRPOTrainer(reward_funcs=[rubricate.rewards.online.trl_reward], ...)
- OpenRLHF: --remote_rm_url <this file>  --label_key <gold answer column>   (uses `reward_func`)
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from rubricate.rewards.rule import Decision, RewardInputs, RewardRule, decide, normalise_answer_verdict, normalise_judge_verdict

if TYPE_CHECKING:
    from rubricate.config import PipelineConfig
    from rubricate.judge.records import Judge
    from rubricate.llm.base import LLMBackend
    from rubricate.rubric.model import Rubric
    from rubricate.store import Store

log = logging.getLogger("rubricate.rewards.online")

ENV_CONFIG = "RUBRICATE_CONFIG"


@dataclass(frozen=True, slots=True)
class Sample:
    """One sampled answer to score."""

    response: str
    gold: str | list[str] | None = None  # several strings: correct if any one matches
    problem: str = ""
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class OnlineScore:
    reward: float
    status: str  # scored | unscorable
    source: str  # rules | llm_verifier | judge | none
    reason: str  # the rule's reason code
    detail: str | None = None  # what went wrong, for unscorable samples


def _text(value: Any) -> str:
    """Any trainer-side value as text: strings as they are, chat messages joined, None as ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _text(value.get("content", ""))
    if isinstance(value, (list, tuple)):
        return "\n".join(_text(v) for v in value)
    return str(value)


def _golds(gold: Any) -> list[str]:
    if gold is None:
        return []
    if isinstance(gold, (list, tuple)):
        return [g for g in (_text(x).strip() for x in gold) if g]
    if isinstance(gold, dict):  # verl sometimes nests: {"ground_truth": ...} / {"target": ...}
        for key in ("ground_truth", "answer", "target"):
            if key in gold:
                return _golds(gold[key])
        return []
    g = _text(gold).strip()
    return [g] if g else []


def _is_truncated(extra: Any) -> bool:
    if not isinstance(extra, dict):
        return False
    return extra.get("finish_reason") in ("length", "max_tokens") or extra.get("truncated") is True


class OnlineReward:
    """Scores batches of samples with the configured rule, verifier, judge and rubric. Never raises per sample."""

    def __init__(
        self,
        cfg: "PipelineConfig | None" = None,
        *,
        rubric: "Rubric | None" = None,
        backend: "LLMBackend | None" = None,
        store: "Store | None" = None,
        judge: "Judge | None" = None,
    ) -> None:
        from rubricate.config import PipelineConfig

        self.cfg = cfg or PipelineConfig()
        self.rule: RewardRule = self.cfg.rewards.rule
        self._rubric = rubric
        self._backend = backend
        self._store = store
        self._store_tried = store is not None
        self._judge: "Judge | None" = judge
        self._judge_error: str | None = None
        self._lock = threading.Lock()
        self.stats: dict[str, int] = {}

    # -- lazily built parts (only what a batch needs) ------------------------------------------
    def _judge_cfg(self) -> Any:
        from rubricate.judge.config import JudgeConfig

        return getattr(self.cfg, "judge", None) or JudgeConfig()

    def _get_store(self) -> "Store | None":
        """The DuckDB store for the response cache and stored rubrics; None (logged once) if it cannot be opened."""
        if not self._store_tried:
            self._store_tried = True
            path = self.cfg.store_path()
            # A trainer's working folder gets no new database file unless the config asks for the LLM cache.
            wanted = path.exists() or (self.cfg.llm.kind != "none" and self.cfg.llm.cache)
            if not wanted:
                log.info("online reward: no store at %s; no response cache and no stored rubrics", path)
                return None
            try:
                from rubricate.store import Store

                self._store = Store(path)
            except Exception as exc:  # another process (the pipeline, another worker) may hold the write lock
                log.warning("online reward: cannot open the store %s (%s); running without the response cache", path, exc)
        return self._store

    def _get_backend(self) -> "LLMBackend":
        if self._backend is None:
            from rubricate.llm.backends import get_backend

            self._backend = get_backend(self.cfg.llm, store=self._get_store() if self.cfg.llm.kind != "none" else None)
        return self._backend

    def _get_rubric(self) -> "Rubric | None":
        if self._rubric is None:
            online, judge = self.cfg.rewards.online, self._judge_cfg()
            path = online.rubric_path or judge.rubric_path
            version = online.rubric_version or judge.rubric_version
            if path or version:
                from rubricate.judge.factory import load_rubric_from

                self._rubric = load_rubric_from(self._get_store() if version and not path else None, version=version, path=path)
        return self._rubric

    def _get_judge(self) -> "Judge":
        if self._judge is None:
            if self._judge_error is not None:
                raise RuntimeError(self._judge_error)
            try:
                from rubricate.judge.factory import make_judge, resolve_kind

                backend = self._get_backend()
                kind = resolve_kind(self._judge_cfg(), backend)
                labelled = None
                if kind == "offline":
                    labelled = self._labelled_traces()
                self._judge = make_judge(kind, backend, self._judge_cfg(), self._get_rubric(), labelled)
            except Exception as exc:
                self._judge_error = f"judge unavailable: {type(exc).__name__}: {exc}"[:500]
                raise RuntimeError(self._judge_error) from exc
        return self._judge

    def _labelled_traces(self) -> list[Any]:
        """The offline judge learns from stored labelled traces; without a store it has nothing to learn from."""
        store = self._get_store()
        if store is None:
            raise RuntimeError("the offline judge needs labelled traces from the store, which could not be opened")
        from rubricate.judge.stage import labelled_trace_ids, load_traces

        ids = labelled_trace_ids(store)["trace_id"].to_list()
        return load_traces(store, ids)

    # -- the stages ----------------------------------------------------------------------------
    def _rule_verdict(self, sample: Sample) -> tuple[str, str | None]:
        from rubricate.verify.rules import verify_response

        golds = _golds(sample.gold)
        verdicts = []
        for g in golds:
            v = verify_response(g, sample.response)
            if v.verdict == "correct":
                return "correct", None
            verdicts.append(v)
        # several golds: report the most informative failure (incorrect beats no_answer beats error)
        for kind in ("incorrect", "no_answer", "error"):
            for v in verdicts:
                if v.verdict == kind:
                    return kind, v.reason if kind == "error" else None
        return "error", "no gold answer"

    def _llm_verdicts(self, samples: Sequence[Sample], todo: list[int]) -> dict[int, str]:
        """LLM verifier verdicts for the samples in `todo` (false-negative recovery); {} when no LLM is configured."""
        if not todo or self.cfg.llm.kind == "none" or not self.rule.use_llm_verifier:
            return {}
        try:
            from rubricate.verify.llm import verify_with_llm  # type: ignore[attr-defined]
        except ImportError:
            return {}
        out: dict[int, str] = {}
        size = self.cfg.rewards.online.batch_size
        for start in range(0, len(todo), size):
            part = todo[start : start + size]
            try:
                items = [(samples[i].problem, _golds(samples[i].gold)[0], samples[i].response) for i in part]
                verdicts = verify_with_llm(self._get_backend(), items)
                for i, v in zip(part, verdicts):
                    out[i] = normalise_answer_verdict(getattr(v, "verdict", v))
            except Exception as exc:  # the batch failed: these samples simply have no LLM verdict
                log.warning("online reward: LLM verifier batch failed: %s: %s", type(exc).__name__, exc)
        return out

    def _judge_verdicts(self, samples: Sequence[Sample], todo: list[int]) -> tuple[dict[int, str], dict[int, str]]:
        """Judge verdicts (and error details) for the samples in `todo`, batched."""
        if not todo:
            return {}, {}
        verdicts: dict[int, str] = {}
        details: dict[int, str] = {}
        try:
            judge = self._get_judge()
        except Exception as exc:
            return {i: "error" for i in todo}, {i: str(exc) for i in todo}
        from rubricate.ids import content_hash
        from rubricate.ingest.records import split_steps
        from rubricate.judge.records import TraceToJudge

        size = self.cfg.rewards.online.batch_size
        for start in range(0, len(todo), size):
            part = todo[start : start + size]
            try:
                traces = [
                    TraceToJudge(
                        trace_id=content_hash("online", samples[i].problem, samples[i].response),
                        problem=samples[i].problem,
                        steps=tuple(split_steps(samples[i].response)) or (samples[i].response,),
                    )
                    for i in part
                ]
                for i, v in zip(part, judge.judge(traces)):
                    verdicts[i] = normalise_judge_verdict(v.verdict)
                    if v.verdict == "error":
                        details[i] = f"judge: {v.error}"
            except Exception as exc:
                for i in part:
                    verdicts[i], details[i] = "error", f"judge batch failed: {type(exc).__name__}: {exc}"[:500]
        return verdicts, details

    # -- public --------------------------------------------------------------------------------
    def score(self, samples: Sequence[Sample]) -> list[OnlineScore]:
        """One score per sample, in order. Never raises because of a sample."""
        n = len(samples)
        rule_v = ["missing"] * n
        details: dict[int, str] = {}
        has_gold = [False] * n
        short = [False] * n
        min_chars = self.rule.penalty.min_response_chars
        for i, s in enumerate(samples):
            try:
                has_gold[i] = bool(_golds(s.gold))
                short[i] = min_chars is not None and len(s.response) < min_chars
                if has_gold[i]:
                    rule_v[i], detail = self._rule_verdict(s)
                    if detail:
                        details[i] = f"rules: {detail}"
            except Exception as exc:
                rule_v[i], details[i] = "error", f"rules: {type(exc).__name__}: {exc}"[:500]

        def inputs(i: int, llm: str = "missing", judge: str = "missing") -> RewardInputs:
            return RewardInputs(has_gold[i], rule_v[i], llm, judge, short[i], samples[i].truncated)

        # Only the samples the rule would send to a stage go to it: decide() with that stage missing tells.
        need_llm = [i for i in range(n) if has_gold[i] and rule_v[i] != "correct"]
        llm_v = self._llm_verdicts(samples, need_llm)
        need_judge = [i for i in range(n) if decide(inputs(i, llm_v.get(i, "missing")), self.rule).reason == "no_judge_verdict"]
        judge_v, judge_details = self._judge_verdicts(samples, need_judge)
        details.update(judge_details)

        out = []
        for i in range(n):
            d: Decision = decide(inputs(i, llm_v.get(i, "missing"), judge_v.get(i, "missing")), self.rule)
            out.append(self._finish(d, details.get(i)))
        return out

    def _finish(self, d: Decision, detail: str | None) -> OnlineScore:
        with self._lock:
            self.stats[d.reason] = self.stats.get(d.reason, 0) + 1
        if d.status == "scored":
            return OnlineScore(float(d.reward), "scored", d.source, d.reason)  # type: ignore[arg-type]
        log.info("online reward: unscorable sample (%s%s) -> %s", d.reason, f"; {detail}" if detail else "", self.rule.unscorable_value)
        return OnlineScore(self.rule.unscorable_value, "unscorable", "none", d.reason, detail)

    def safe_score(self, samples: Sequence[Sample]) -> list[OnlineScore]:
        """`score`, with a last guard: should anything still go wrong, every sample gets the unscorable value."""
        try:
            return self.score(samples)
        except Exception as exc:
            log.warning("online reward: batch of %d failed (%s: %s); all get the unscorable value", len(samples), type(exc).__name__, exc)
            return [OnlineScore(self.rule.unscorable_value, "unscorable", "none", "internal_error", str(exc)[:500]) for _ in samples]


# -- the process-wide instance the trainer entry points use -------------------------------------------
_default: OnlineReward | None = None
_default_lock = threading.Lock()
_init_lock = threading.Lock()


def configure(config: "PipelineConfig | str | Path | None" = None, **kw: Any) -> OnlineReward:
    """Set the instance the entry points use: a config object, a YAML path, or None for $RUBRICATE_CONFIG."""
    global _default
    from rubricate.config import PipelineConfig, load_config

    if config is None:
        path = os.environ.get(ENV_CONFIG)
        cfg = load_config(path) if path else PipelineConfig()
    elif isinstance(config, PipelineConfig):
        cfg = config
    else:
        cfg = load_config(config)
    with _default_lock:
        _default = OnlineReward(cfg, **kw)
    return _default


def default_reward() -> OnlineReward:
    """The configured instance (built from $RUBRICATE_CONFIG on first use; a bad config raises here, once)."""
    if _default is None:
        with _init_lock:
            if _default is None:
                configure()
    assert _default is not None
    return _default


def _extra_problem(extra: Any) -> str:
    if isinstance(extra, dict):
        for key in ("problem", "question", "prompt"):
            if extra.get(key):
                return _text(extra[key])
    return ""


# -- verl ---------------------------------------------------------------------------------------------
def compute_score(data_source: Any = None, solution_str: Any = None, ground_truth: Any = None, extra_info: Any = None, **kwargs: Any) -> float:
    """verl `custom_reward_function`: the reward of one response (a float; never raises on bad input)."""
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info])[0]


def compute_score_batch(
    data_sources: Sequence[Any] | None = None,
    solution_strs: Sequence[Any] | None = None,
    ground_truths: Sequence[Any] | None = None,
    extra_infos: Sequence[Any] | None = None,
    **kwargs: Any,
) -> list[float]:
    """verl's batch reward manager (`reward_model.reward_manager=batch`): one float per response."""
    responses = list(solution_strs or [])
    golds = list(ground_truths or [None] * len(responses))
    extras = list(extra_infos or [None] * len(responses))
    samples = []
    for i, resp in enumerate(responses):
        extra = extras[i] if i < len(extras) else None
        gold = golds[i] if i < len(golds) else None
        samples.append(Sample(_text(resp), gold if isinstance(gold, (list, tuple)) else (None if gold is None else _text(gold)), _extra_problem(extra), _is_truncated(extra)))
    return [s.reward for s in default_reward().safe_score(samples)]


# -- TRL ----------------------------------------------------------------------------------------------
class TRLReward:
    """TRL `reward_funcs` entry: `(prompts, completions, **columns) -> list[float]`, one call per batch.

    TRL names reward functions by `__name__` (logged as rewards/<name>); the gold answer comes from the
    first dataset column of `rewards.online.gold_columns` that TRL passes (ground_truth, answer, ...).
    """

    def __init__(self, reward: OnlineReward | None = None, name: str = "rubricate_reward") -> None:
        self._reward = reward
        self.__name__ = name

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] | None = None, **columns: Any) -> list[float]:
        reward = self._reward or default_reward()
        online = reward.cfg.rewards.online
        comps = list(completions or [])
        n = len(comps)
        prompts_l = list(prompts or [None] * n)

        def column(names: list[str]) -> list[Any]:
            for name in names:
                values = columns.get(name)
                if isinstance(values, (list, tuple)) and len(values) == n:
                    return list(values)
            return [None] * n

        golds = column(online.gold_columns)
        problems = column(online.problem_columns)
        samples = []
        for i in range(n):
            problem = _text(problems[i]) if problems[i] is not None else _last_user_message(prompts_l[i] if i < len(prompts_l) else None)
            samples.append(Sample(_text(comps[i]), golds[i] if isinstance(golds[i], (list, tuple)) else (None if golds[i] is None else _text(golds[i])), problem))
        return [s.reward for s in reward.safe_score(samples)]


def _last_user_message(prompt: Any) -> str:
    if isinstance(prompt, (list, tuple)):
        users = [m for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
        return _text(users[-1]) if users else _text(prompt)
    return _text(prompt)


trl_reward = TRLReward()


# -- OpenRLHF -----------------------------------------------------------------------------------------
def _response_from_query(query: str, prompt: str) -> str:
    """OpenRLHF passes prompt + response decoded together; cut the prompt off when it is found."""
    if prompt and prompt in query:
        return query[query.index(prompt) + len(prompt) :]
    return query


def _openrlhf_scores(queries: Sequence[Any], prompts: Sequence[Any], labels: Sequence[Any]) -> list[OnlineScore]:
    qs, ps, ls = list(queries or []), list(prompts or []), list(labels or [])
    samples = []
    for i, q in enumerate(qs):
        prompt = _text(ps[i]) if i < len(ps) else ""
        label = ls[i] if i < len(ls) else None
        samples.append(Sample(_response_from_query(_text(q), prompt), label if isinstance(label, (list, tuple)) else (None if label is None else _text(label)), prompt))
    return default_reward().safe_score(samples)


def reward_func(queries: Sequence[Any], prompts: Sequence[Any], labels: Sequence[Any]) -> Any:
    """OpenRLHF custom reward (`--remote_rm_url <this file>`): {"rewards", "scores", "extra_logs"} as tensors.

    `scores` (used by OpenRLHF's dynamic filtering) is the reward clipped to [0, 1]; `extra_logs` has the
    fraction of unscorable samples. Without torch installed the values are lists.
    """
    scores = _openrlhf_scores(queries, prompts, labels)
    rewards = [s.reward for s in scores]
    clipped = [min(1.0, max(0.0, r)) for r in rewards]
    unscorable = [1.0 if s.status != "scored" else 0.0 for s in scores]
    try:
        import torch
    except ImportError:
        return {"rewards": rewards, "scores": clipped, "extra_logs": {"rubricate_unscorable": unscorable}}
    return {
        "rewards": torch.tensor(rewards, dtype=torch.float32),
        "scores": torch.tensor(clipped, dtype=torch.float32),
        "extra_logs": {"rubricate_unscorable": torch.tensor(unscorable, dtype=torch.float32)},
    }


def reward_func_tensor(queries: Sequence[Any], prompts: Sequence[Any], labels: Sequence[Any]) -> Any:
    """For OpenRLHF releases that expect a bare tensor of rewards from `reward_func` (older than the dict form)."""
    rewards = [s.reward for s in _openrlhf_scores(queries, prompts, labels)]
    try:
        import torch
    except ImportError:
        return rewards
    return torch.tensor(rewards, dtype=torch.float32)


def describe() -> str:
    """The active configuration, for a trainer's log."""
    r = default_reward()
    return json.dumps({"rule": r.rule.model_dump(mode="json"), "llm": r.cfg.llm.kind, "judge": r._judge_cfg().kind}, sort_keys=True)
