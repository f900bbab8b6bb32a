"""Scoring samples online with the reward rule: the engine behind rubricate.rewards.online's entry points.

Kept apart from the entry-point module so that trainers that load `online.py` by file path (verl's
custom_reward_function, OpenRLHF's --remote_rm_url) share one configured instance with code that imports
the package, and so that no dataclass is defined in a module loaded without a sys.modules entry.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from rubricate.rewards.rule import Decision, RewardInputs, RewardRule, decide, normalise_judge_verdict

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


def as_text(value: Any) -> str:
    """Any trainer-side value as text: strings as they are, chat messages joined, None as ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return as_text(value.get("content", ""))
    if isinstance(value, (list, tuple)):
        return "\n".join(as_text(v) for v in value)
    return str(value)


def gold_answers(gold: Any) -> list[str]:
    if gold is None:
        return []
    if isinstance(gold, (list, tuple)):
        return [g for g in (as_text(x).strip() for x in gold) if g]
    if isinstance(gold, dict):  # verl sometimes nests: {"ground_truth": ...} / {"target": ...}
        for key in ("ground_truth", "answer", "target"):
            if key in gold:
                return gold_answers(gold[key])
        return []
    g = as_text(gold).strip()
    return [g] if g else []


def is_truncated(extra: Any) -> bool:
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
        self._build_lock = threading.RLock()  # trainers may call from several threads: build each part once
        self.stats: dict[str, int] = {}

    # -- lazily built parts (only what a batch needs) ------------------------------------------
    def _judge_cfg(self) -> Any:
        from rubricate.judge.config import JudgeConfig

        return getattr(self.cfg, "judge", None) or JudgeConfig()

    def _get_store(self) -> "Store | None":
        """The DuckDB store for the response cache and stored rubrics; None (logged once) if it cannot be opened."""
        with self._build_lock:
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
        with self._build_lock:
            if self._backend is None:
                from rubricate.llm.backends import get_backend

                self._backend = get_backend(self.cfg.llm, store=self._get_store() if self.cfg.llm.kind != "none" else None)
            return self._backend

    def _get_rubric(self) -> "Rubric | None":
        with self._build_lock:
            if self._rubric is None:
                online, judge = self.cfg.rewards.online, self._judge_cfg()
                path = online.rubric_path or judge.rubric_path
                version = online.rubric_version or judge.rubric_version
                if path:
                    from rubricate.rubric.model import Rubric

                    if not Path(path).is_file():
                        raise FileNotFoundError(f"rubric file {path} does not exist; export one (rubric JSON) or fix rewards.online.rubric_path")
                    self._rubric = Rubric.from_json(path)
                elif version:
                    from rubricate.judge.rubric_source import load_stored_rubric

                    store = self._get_store()
                    if store is None:
                        raise RuntimeError(f"rubric version {version} lives in the store, which could not be opened; export it as JSON (rubric_path)")
                    self._rubric = load_stored_rubric(store, version)
            return self._rubric

    def _get_judge(self) -> "Judge":
        with self._build_lock:
            if self._judge is None:
                if self._judge_error is not None:
                    raise RuntimeError(self._judge_error)
                try:
                    from rubricate.judge.factory import make_judge, resolve_kind

                    backend = self._get_backend()
                    kind = resolve_kind(self._judge_cfg(), backend.kind)
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
    def _rule_verdict(self, sample: Sample) -> tuple[str, str | None, str | None]:
        """(verdict, error detail, extracted answer) of the rule verifier; correct if any gold answer matches."""
        from rubricate.verify.rules import verify_response

        verdicts = []
        for g in gold_answers(sample.gold):
            v = verify_response(g, sample.response)
            if v.verdict == "correct":
                return "correct", None, v.extracted_answer
            verdicts.append(v)
        # several golds: report the most informative failure (incorrect beats no_answer beats error)
        for kind in ("incorrect", "no_answer", "error"):
            for v in verdicts:
                if v.verdict == kind:
                    return kind, v.reason if kind == "error" else None, v.extracted_answer
        return "error", "no gold answer", None

    def _llm_verdicts(self, samples: Sequence[Sample], todo: list[int], extracted: dict[int, str | None]) -> tuple[dict[int, str], dict[int, str]]:
        """The LLM verifier's verdicts for the rule rejections in `todo` (false-negative recovery), batched.

        Same prompt, schema and parsing as the stored LLM verifier (rubricate.verify.llm_addon), so the
        online and the stored verdicts agree and share the response cache. No LLM configured: {}.
        """
        if not todo or self.cfg.llm.kind == "none" or not self.rule.use_llm_verifier:
            return {}, {}
        try:
            from rubricate.verify.llm_addon import ask_equivalence
        except ImportError as exc:
            log.warning("online reward: the LLM verifier is not available (%s); rule rejections stand", exc)
            return {}, {}
        verdicts: dict[int, str] = {}
        details: dict[int, str] = {}

        def row_for(i: int) -> dict[str, Any]:
            return {"key": f"online-{i}", "problem": samples[i].problem or "", "gold_answer": gold_answers(samples[i].gold)[0],
                    "extracted_answer": extracted.get(i), "response": samples[i].response}

        size = self.cfg.rewards.online.batch_size
        for start in range(0, len(todo), size):
            part = todo[start : start + size]
            try:
                outcomes = ask_equivalence(self._get_backend(), [row_for(i) for i in part], max_parse_retries=self._judge_cfg().max_parse_retries)
                for i, o in zip(part, outcomes):
                    if o.value is None:
                        verdicts[i], details[i] = "error", f"llm verifier: {o.error}"
                    else:
                        equivalent = o.value[0]
                        verdicts[i] = "correct" if equivalent else ("incorrect" if extracted.get(i) else "no_answer")
            except Exception as exc:  # the batch failed: these samples have no usable LLM verdict
                for i in part:
                    verdicts[i], details[i] = "error", f"llm verifier batch failed: {type(exc).__name__}: {exc}"[:500]
        return verdicts, details

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
        extracted: dict[int, str | None] = {}
        details: dict[int, str] = {}
        has_gold = [False] * n
        short = [False] * n
        min_chars = self.rule.penalty.min_response_chars
        for i, s in enumerate(samples):
            try:
                has_gold[i] = bool(gold_answers(s.gold))
                short[i] = min_chars is not None and len(s.response) < min_chars
                if has_gold[i]:
                    rule_v[i], detail, extracted[i] = self._rule_verdict(s)
                    if detail:
                        details[i] = f"rules: {detail}"
            except Exception as exc:
                rule_v[i], details[i] = "error", f"rules: {type(exc).__name__}: {exc}"[:500]

        def inputs(i: int, llm: str = "missing", judge: str = "missing") -> RewardInputs:
            return RewardInputs(has_gold[i], rule_v[i], llm, judge, short[i], samples[i].truncated)

        # Only the samples the rule would send to a stage go to it: decide() with that stage missing tells.
        need_llm = [i for i in range(n) if has_gold[i] and rule_v[i] != "correct"]
        llm_v, llm_details = self._llm_verdicts(samples, need_llm, extracted)
        details.update(llm_details)
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


def set_default(reward: OnlineReward | None) -> None:
    """Use this instance for the entry points (None: build from $RUBRICATE_CONFIG again on next use)."""
    global _default
    with _default_lock:
        _default = reward


def default_reward() -> OnlineReward:
    """The configured instance (built from $RUBRICATE_CONFIG on first use; a bad config raises here, once)."""
    if _default is None:
        with _init_lock:
            if _default is None:
                configure()
    assert _default is not None
    return _default
