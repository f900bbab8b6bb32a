"""Scoring samples online with the reward rule: the engine behind rubricate.rewards.online's entry points.

Kept apart from the entry-point module so that trainers that load `online.py` by file path (verl's
custom_reward_function, OpenRLHF's --remote_rm_url) share one configured instance with code that imports
the package, and so that no dataclass is defined in a module loaded without a sys.modules entry.

Guarantees (each kept by a test in tests/rewards/test_online_hardening.py):
- a response or gold answer that is not text is unscorable, never correct (`online_inputs`);
- the rule check runs in worker processes with a hard limit per sample (`rewards.online.timeout_s`), from
  any thread or event loop; a sample past it is unscorable;
- an outage (a failed LLM verifier or judge, a timeout, bad input) is unscorable, never the wrong-answer
  reward: what each trainer then receives is decided by `rewards.online.unscorable`.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import weakref
from collections import Counter, deque
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

from rubricate.errors import RubricateError
from rubricate.rewards.online_inputs import NotText, gold_texts, plain, response_text
from rubricate.rewards.rule import Decision, RewardInputs, RewardRule, decide, normalise_judge_verdict
from rubricate.rewards.shared_map import SharedMap
from rubricate.verify.recoverable import worth_asking

if TYPE_CHECKING:
    from rubricate.config import PipelineConfig
    from rubricate.judge.records import Judge
    from rubricate.llm.ask import Outcome
    from rubricate.llm.base import LLMBackend
    from rubricate.rubric.model import Rubric
    from rubricate.store import Store
    from rubricate.verify.llm_addon import EquivalenceAnswer
    from rubricate.verify.pool import VerifyPool

log = logging.getLogger("rubricate.rewards.online")

ENV_CONFIG = "RUBRICATE_CONFIG"

T = TypeVar("T")


# The rule check's two limits: math-verify's own ("timed out after 4s") and the pool's ("timeout after 5s").
_TIMED_OUT = re.compile(r"\btime(?:d out|out)\b")


class UnscorableShareError(RubricateError):
    """Too many samples in a row could not be scored (an outage): training should stop, not learn from it."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One sampled answer to score. Build it from trainer values with `Sample.of` (which checks them)."""

    response: str
    gold: str | list[str] | None = None  # several strings: correct if any one matches
    problem: str = ""
    truncated: bool = False
    invalid: str | None = None  # why the trainer's values are not a scorable sample (then unscorable)

    @classmethod
    def of(cls, response: Any, gold: Any = None, problem: str = "", truncated: bool = False) -> "Sample":
        """A sample from what a trainer passed: text is checked, numbers as gold answers become text."""
        try:
            return cls(response_text(response), gold_texts(gold), problem, truncated)
        except NotText as exc:
            return cls("", None, problem, truncated, invalid=str(exc))
        except Exception as exc:  # e.g. RecursionError on absurdly nested values: still this sample's problem only
            return cls("", None, problem, truncated, invalid=f"unreadable input: {type(exc).__name__}: {exc}"[:500])


@dataclass(frozen=True, slots=True)
class OnlineScore:
    reward: float
    status: str  # scored | unscorable
    source: str  # rules | llm_verifier | judge | none
    reason: str  # the rule's reason code (invalid_input, rule_timeout, llm_verifier_error, judge_error, ...)
    detail: str | None = None  # what went wrong, for unscorable samples

    @property
    def unscorable(self) -> bool:
        return self.status != "scored"


def as_text(value: Any) -> str:
    """Context text (a problem, a prompt) from any trainer-side value: strings as they are, chat messages
    joined, None as ''. Not for responses or gold answers, which must be text (`Sample.of` checks them)."""
    value = plain(value)
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
    """The gold answers of one sample as text ([] when there is none); NotText when a gold answer is not text."""
    return gold_texts(gold)


def is_truncated(extra: Any) -> bool:
    if not isinstance(extra, dict):
        return False
    return extra.get("finish_reason") in ("length", "max_tokens") or extra.get("truncated") is True


def _close_pool(pool: "VerifyPool", owner_pid: int) -> None:
    """Stop the rule-check workers, only from the process that started them (a forked child shares the pipes)."""
    if os.getpid() == owner_pid:
        pool.close()


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
        self._lock = threading.Lock()
        self._build_lock = threading.RLock()  # guards the two parts built on first use (below)
        # Built now, once: the store (when the LLM response cache or a stored rubric needs it), the LLM backend, the
        # rubric and an LLM judge. A part that cannot be built is an outage, not a crash: the samples that need it
        # are unscorable with the reason (_judge_error). Two parts wait for their first use, for reasons: the
        # offline judge (it loads sentence-transformers, a model and the store's labelled traces, which a trainer
        # whose samples all have gold answers never needs) and the rule-check workers (they belong to the process
        # that uses them: a forked child starts its own, see _get_pool).
        self._judge: "Judge | None" = judge
        self._judge_error: str | None = None
        self._backend_error: str | None = None
        self._store = store if store is not None else self._open_store(needed=self._store_needed())
        self._backend: "LLMBackend | None" = backend
        self._rubric = rubric
        self._build_parts()
        self._pool: "VerifyPool | None" = None
        self._pool_pid = 0
        # concurrent callers (one sample per call from many threads) share the pool's batches
        self._rule_map: SharedMap[Any, Any] = SharedMap(self._map_on_pool)
        self._rule_map_pid = os.getpid()
        online = self.cfg.rewards.online
        self._recent: deque[bool] = deque(maxlen=online.unscorable.window)  # unscorable? of the last samples
        self.stats: dict[str, int] = {}
        if self.unscorable_value == self.rule.incorrect_value:
            log.warning(
                "online reward: unscorable samples (outages, timeouts, bad input) get %s for verl/OpenRLHF, the same "
                "as a wrong answer; set rewards.online.unscorable.value to tell them apart", self.unscorable_value
            )

    @property
    def unscorable_value(self) -> float:
        """The verl / OpenRLHF reward of an unscorable sample (see UnscorableConfig.value)."""
        chosen = self.cfg.rewards.online.unscorable.value
        if chosen is not None:
            return chosen
        if self.rule.unscorable == "value":
            return self.rule.unscorable_value
        return (self.rule.correct_value + self.rule.incorrect_value) / 2

    def start(self) -> "OnlineReward":
        """Start the rule-check worker processes now (else the first call waits for them, about a second)."""
        self._get_pool().start()
        return self

    def close(self) -> None:
        """Stop the rule-check worker processes (they stop with the process anyway)."""
        with self._build_lock:
            if self._pool is not None and self._pool_pid == os.getpid():
                self._pool.close()
            self._pool = None

    # -- the parts (see __init__) ----------------------------------------------------------------
    def _judge_cfg(self) -> Any:
        from rubricate.judge.config import JudgeConfig

        return getattr(self.cfg, "judge", None) or JudgeConfig()

    def _store_needed(self) -> bool:
        return (self.cfg.llm.kind != "none" and self.cfg.llm.cache) or bool(self._judge_cfg().rubric_version)

    def _open_store(self, *, needed: bool) -> "Store | None":
        """The DuckDB store for the response cache, stored rubrics and the offline judge's labelled traces; None
        (logged) when no part needs it or it cannot be opened. A trainer's working folder gets no new database file
        unless the config asks for the LLM cache, and a store no part needs is never opened (DuckDB would hold its
        write lock for the trainer's whole life)."""
        target = self.cfg.store_target()
        # A lake has no write lock and no file of its own to create here: open it whenever a part needs it.
        exists = target.exists() if isinstance(target, Path) else True
        if not needed or not (exists or (self.cfg.llm.kind != "none" and self.cfg.llm.cache)):
            log.info("online reward: no store opened at %s; no response cache and no stored rubrics", target)
            return None
        try:
            from rubricate.store import Store

            return Store(target)
        except Exception as exc:  # another process (the pipeline, another worker) may hold the write lock
            log.warning("online reward: cannot open the store %s (%s); running without the response cache", target, exc)
            return None

    def _build_parts(self) -> None:
        """The LLM backend, and when the rule can consult the judge, the rubric and (unless it is the offline judge)
        the judge, now. What cannot be built is kept as the reason the samples that need it are unscorable."""
        from rubricate.judge.factory import make_judge, resolve_kind
        from rubricate.llm.backends import get_backend
        from rubricate.rewards.rule import consults_judge

        if self._backend is None:
            try:
                self._backend = get_backend(self.cfg.llm, store=self._store if self.cfg.llm.kind != "none" else None)
            except Exception as exc:
                self._backend_error = f"LLM backend unavailable: {type(exc).__name__}: {exc}"[:500]
                log.warning("online reward: %s", self._backend_error)
        if self._judge is not None or not (consults_judge(self.rule, has_gold=True) or consults_judge(self.rule, has_gold=False)):
            return
        try:
            backend = self._get_backend()
            if self._rubric is None:
                self._rubric = self._load_rubric()
            kind = resolve_kind(self._judge_cfg(), backend.kind)
            if kind != "offline":
                self._judge = make_judge(kind, backend, self._judge_cfg(), self._rubric, None)
        except Exception as exc:
            self._judge_error = f"judge unavailable: {type(exc).__name__}: {exc}"[:500]
            log.warning("online reward: %s; samples that need the judge will be unscorable", self._judge_error)

    def _get_backend(self) -> "LLMBackend":
        if self._backend is None:
            raise RuntimeError(self._backend_error or "no LLM backend")
        return self._backend

    def _load_rubric(self) -> "Rubric | None":
        judge = self._judge_cfg()
        path, version = judge.rubric_path, judge.rubric_version
        if path:
            from rubricate.rubric.model import Rubric

            if not Path(path).is_file():
                raise FileNotFoundError(f"rubric file {path} does not exist; export one (rubric JSON) or fix judge.rubric_path")
            return Rubric.from_json(path)
        if version:
            from rubricate.judge.rubric_source import load_stored_rubric

            if self._store is None:
                raise RuntimeError(f"rubric version {version} lives in the store, which could not be opened; export it as JSON (rubric_path)")
            return load_stored_rubric(self._store, version, self.cfg.rubric.rubric_name())
        return None

    def _get_judge(self) -> "Judge":
        """The judge built in __init__, or the offline judge, built on first need (once, from any thread)."""
        with self._build_lock:
            if self._judge is None:
                if self._judge_error is not None:
                    raise RuntimeError(self._judge_error)
                try:
                    from rubricate.judge.factory import make_judge

                    backend = self._get_backend()
                    self._judge = make_judge("offline", backend, self._judge_cfg(), self._rubric, self._labelled_traces())
                except Exception as exc:
                    self._judge_error = f"judge unavailable: {type(exc).__name__}: {exc}"[:500]
                    raise RuntimeError(self._judge_error) from exc
            return self._judge

    def _labelled_traces(self) -> list[Any]:
        """The offline judge learns from stored labelled traces; without a store it has nothing to learn from."""
        if self._store is None:
            self._store = self._open_store(needed=True)
        store = self._store
        if store is None:
            raise RuntimeError("the offline judge needs labelled traces from the store, which could not be opened")
        from rubricate.judge.stage import labelled_trace_ids, load_traces

        ids = labelled_trace_ids(store)["trace_id"].to_list()
        return load_traces(store, ids)

    def _get_pool(self) -> "VerifyPool":
        """The rule-check workers: the stored verify stage's process pool, with the online per-sample limit."""
        with self._build_lock:
            if self._pool is None or self._pool_pid != os.getpid():  # after a fork the parent's workers are not ours
                from rubricate.rewards.rule_check import verify_against_golds
                from rubricate.verify.pool import VerifyPool

                online = self.cfg.rewards.online
                inner = math.floor(online.timeout_s * 0.8)  # math-verify's own limit, a little under the hard one
                self._pool = VerifyPool(online.workers, online.timeout_s, fn=verify_against_golds,
                                        fn_kwargs={"mv_timeout_s": inner if inner >= 1 else None})
                self._pool_pid = os.getpid()
                weakref.finalize(self, _close_pool, self._pool, self._pool_pid)
            return self._pool

    def _before_deadline(self, what: str, call: Callable[[], T]) -> T:
        """`call()` (one LLM batch), or TimeoutError after `rewards.online.llm_deadline_s`: the trainer gets its
        answer in time and the samples are unscorable. The call itself cannot be interrupted; it goes on in
        the background until its own limits (llm.timeout_s, llm.max_retries) end it."""
        deadline = self.cfg.rewards.online.llm_deadline_s
        if deadline is None:
            return call()
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["value"] = call()
            except BaseException as exc:  # handed to the caller below
                box["error"] = exc

        worker = threading.Thread(target=run, name=f"rubricate-online-{what.split()[-1]}", daemon=True)
        worker.start()
        worker.join(deadline)
        if worker.is_alive():
            raise TimeoutError(f"{what} did not answer within rewards.online.llm_deadline_s={deadline:g}s")
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _map_on_pool(self, jobs: list[Any]) -> list[Any]:
        return self._get_pool().map(jobs)

    # -- the stages ----------------------------------------------------------------------------
    def _rule_verdicts(self, samples: Sequence[Sample], todo: list[int]) -> dict[int, tuple[str, str | None, str | None]]:
        """(verdict, error detail, extracted answer) of the rule check for the samples in `todo`, each within
        `rewards.online.timeout_s` (worker processes: the limit holds from any thread, for any input)."""
        if not todo:
            return {}
        jobs = [(tuple(gold_answers(samples[i].gold)), samples[i].response) for i in todo]
        if self._rule_map_pid != os.getpid():  # forked while another thread was mid-batch: that state is not ours
            with self._build_lock:
                if self._rule_map_pid != os.getpid():
                    self._rule_map, self._rule_map_pid = SharedMap(self._map_on_pool), os.getpid()
        try:
            verdicts = self._rule_map.map(jobs)  # a sample's gold answers travel as one item
        except Exception as exc:  # no worker could start: nothing was checked, which is an outage
            detail = f"rule check workers unavailable: {type(exc).__name__}: {exc}"[:500]
            return {i: ("error", detail, None) for i in todo}
        return {i: (v.verdict, v.reason if v.verdict == "error" else None, v.extracted_answer) for i, v in zip(todo, verdicts)}

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

        def check(rows: list[dict[str, Any]]) -> list[Outcome[EquivalenceAnswer]]:  # run before the deadline
            return ask_equivalence(self._get_backend(), rows, max_parse_retries=self.cfg.verify.llm_max_parse_retries)

        size = self.cfg.rewards.online.batch_size
        for start in range(0, len(todo), size):
            part = todo[start : start + size]
            try:
                rows = [row_for(i) for i in part]
                # partial, not a lambda: binds this batch's rows, and mypy can type it
                outcomes = self._before_deadline("the LLM verifier", partial(check, rows))
                for i, o in zip(part, outcomes):
                    if o.value is None:
                        verdicts[i], details[i] = "error", f"llm verifier: {o.error}"
                    else:
                        verdicts[i] = "correct" if o.value.equivalent else "incorrect"
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
                for i, v in zip(part, self._before_deadline("the judge", partial(judge.judge, traces))):
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
        online = self.cfg.rewards.online
        rule_v = ["missing"] * n
        extracted: dict[int, str | None] = {}
        details: dict[int, str] = {}
        has_gold = [False] * n
        short = [False] * n
        invalid: dict[int, str] = {}
        min_chars = self.rule.penalty.min_response_chars
        for i, s in enumerate(samples):
            try:
                if s.invalid is not None:
                    invalid[i] = s.invalid
                    continue
                if not isinstance(s.response, str):  # a Sample built directly, not through Sample.of
                    raise NotText(f"response is not text: {type(s.response).__name__}")
                has_gold[i] = bool(gold_answers(s.gold))
                short[i] = min_chars is not None and len(s.response) < min_chars
            except NotText as exc:
                invalid[i] = str(exc)
            except Exception as exc:  # one unreadable sample must not fail the batch
                invalid[i] = f"unreadable input: {type(exc).__name__}: {exc}"[:500]
        todo = [i for i in range(n) if has_gold[i] and i not in invalid]
        for i, (verdict, detail, answer) in self._rule_verdicts(samples, todo).items():
            rule_v[i], extracted[i] = verdict, answer
            if detail:
                details[i] = f"rules: {detail}"

        def inputs(i: int, llm: str = "missing", judge: str = "missing") -> RewardInputs:
            return RewardInputs(has_gold[i], rule_v[i], llm, judge, short[i], samples[i].truncated)

        # Only the samples the rule would send to a stage go to it: decide() with that stage missing tells.
        # The LLM verifier compares an extracted answer with the gold, where a false negative is possible at all.
        need_llm = [i for i in todo if rule_v[i] != "correct" and worth_asking(gold_answers(samples[i].gold)[0], extracted.get(i))]
        llm_v, llm_details = self._llm_verdicts(samples, need_llm, extracted)
        details.update(llm_details)
        valid = [i for i in range(n) if i not in invalid]
        need_judge = [i for i in valid if decide(inputs(i, llm_v.get(i, "missing")), self.rule).reason == "no_judge_verdict"]
        judge_v, judge_details = self._judge_verdicts(samples, need_judge)
        details.update(judge_details)

        out = []
        for i in range(n):
            if i in invalid:
                out.append(self._outage("invalid_input", invalid[i]))
                continue
            llm = llm_v.get(i, "missing")
            if llm == "error" and rule_v[i] != "correct":
                # The LLM verifier was asked because the rules rejected the answer, and could not say: the
                # rejection may be one of the rules' false negatives, so the sample is not known to be wrong.
                out.append(self._outage("llm_verifier_error", details.get(i)))
                continue
            d: Decision = decide(inputs(i, llm, judge_v.get(i, "missing")), self.rule)
            if d.reason == "no_answer" and online.no_answer == "incorrect":
                # No final answer is the response's fault: decided as a wrong answer (penalty included), reason kept.
                wrong = decide(RewardInputs(True, "incorrect", "missing", "missing", short[i], samples[i].truncated), self.rule)
                d = Decision("scored", "rules", "no_answer", wrong.base_reward, wrong.penalty, wrong.reward)
            elif d.reason == "answer_unverified" and _TIMED_OUT.search(details.get(i, "")):
                out.append(self._outage("rule_timeout", details.get(i)))
                continue
            out.append(self._finish(d, details.get(i)))
        self._log_outages(out)
        return out

    def _count(self, reason: str) -> None:
        with self._lock:
            self.stats[reason] = self.stats.get(reason, 0) + 1

    def _finish(self, d: Decision, detail: str | None) -> OnlineScore:
        if d.status == "scored":
            assert d.reward is not None  # only a dropped decision has no reward
            self._count(d.reason)
            return OnlineScore(float(d.reward), "scored", d.source, d.reason)
        return self._outage(d.reason, detail)

    def _outage(self, reason: str, detail: str | None) -> OnlineScore:
        """An unscorable sample: what the trainer gets is the entry point's choice (unscorable_value, or None)."""
        self._count(reason)
        log.info("online reward: unscorable sample (%s%s)", reason, f"; {detail}" if detail else "")
        return OnlineScore(self.unscorable_value, "unscorable", "none", reason, detail)

    def _log_outages(self, scores: Sequence[OnlineScore]) -> None:
        reasons = Counter(s.reason for s in scores if s.unscorable)
        if reasons:
            log.warning(
                "online reward: %d of %d samples unscorable (%s); verl/OpenRLHF get %s, TRL gets %s",
                sum(reasons.values()), len(scores), ", ".join(f"{r}: {c}" for r, c in reasons.most_common()),
                self.unscorable_value, "None" if self.cfg.rewards.online.unscorable.trl == "none" else self.unscorable_value,
            )

    def safe_score(self, samples: Sequence[Sample]) -> list[OnlineScore]:
        """`score`, with a last guard (should anything still go wrong, every sample is unscorable), then the
        share check: UnscorableShareError when `rewards.online.unscorable.max_share` is exceeded."""
        try:
            scores = self.score(samples)
        except Exception as exc:
            log.warning("online reward: batch of %d failed (%s: %s); all unscorable", len(samples), type(exc).__name__, exc)
            scores = [self._outage("internal_error", f"{type(exc).__name__}: {exc}"[:500]) for _ in samples]
        self._check_share(scores)
        return scores

    def _check_share(self, scores: Sequence[OnlineScore]) -> None:
        """Raise when more than `max_share` of the last `window` samples (or of this batch, when it is larger)
        were unscorable. Single-sample callers (verl's naive manager, OpenRLHF) are judged over the window."""
        policy = self.cfg.rewards.online.unscorable
        if policy.max_share is None or not scores:
            return
        flags = [s.unscorable for s in scores]
        with self._lock:
            if len(flags) >= policy.window:
                seen = flags
            else:
                self._recent.extend(flags)
                seen = list(self._recent) if len(self._recent) == policy.window else []
            exceeded = bool(seen) and sum(seen) > policy.max_share * len(seen)
            if exceeded:
                self._recent.clear()  # the next stop needs a fresh window of failures, not one more sample
        if exceeded:
            reasons = Counter(s.reason for s in scores if s.unscorable)
            raise UnscorableShareError(
                f"{sum(seen)} of the last {len(seen)} samples could not be scored (this call: "
                f"{', '.join(f'{r}: {c}' for r, c in reasons.most_common()) or 'none'}), more than "
                f"rewards.online.unscorable.max_share={policy.max_share}; the causes are logged on rubricate.rewards.online. "
                "Fix the outage (LLM server, judge, rubric) or raise max_share (null: never stop)"
            )


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
