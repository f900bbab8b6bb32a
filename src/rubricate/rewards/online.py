"""The reward as a function an RL trainer calls online: verl, TRL and OpenRLHF entry points.

Same rule as the stored rewards (`rubricate.rewards.rule.decide`), computed live:
1. the rule verifier runs on every sample that has a gold answer, in worker processes with a hard limit per
   sample (`rewards.online.timeout_s`, default 5 s), whichever thread or event loop calls;
2. the LLM verifier (when `llm` is configured) re-checks, in one batch, the answers the rules did not accept;
3. the judge (rubric / plain / offline, per the `judge:` config) runs, in batches, only on samples the rule
   sends to it: no gold answer, or a right answer under `process_check`;
4. LLM calls go through the DuckDB response cache when the store can be opened.
A sample that cannot be scored (a response or gold answer that is not text, a rule check past its limit, a
failed LLM verifier or judge, an LLM batch past `llm_deadline_s`) does not raise and is not scored as wrong:
TRL gets None, verl and OpenRLHF get `unscorable_value` with the sample flagged in their extra info, and the
reason is logged on the `rubricate.rewards.online` logger. `rewards.online.unscorable` chooses the value and
can stop training (UnscorableShareError) when too many samples in a row are unscorable. A batch argument
that is not a sequence (a string for `solution_strs`) is a caller's mistake and raises TypeError.

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
from typing import Any, Sequence

# Absolute imports only: trainers load this file by path. No dataclass may be defined here (a module loaded
# by path without a sys.modules entry cannot define one); the engine lives in rubricate.rewards.scorer.
from rubricate.rewards.online_inputs import as_list
from rubricate.rewards.scorer import (  # noqa: F401 - re-exported for users
    ENV_CONFIG,
    OnlineReward,
    OnlineScore,
    Sample,
    UnscorableShareError,
    as_text,
    configure,
    default_reward,
    gold_answers,
    is_truncated,
    set_default,
)


def _extra_problem(extra: Any) -> str:
    if isinstance(extra, dict):
        for key in ("problem", "question", "prompt"):
            if extra.get(key):
                return as_text(extra[key])
    return ""


def _misaligned(n: int, name: str, values: list[Any]) -> str | None:
    """Why a per-sample column cannot be paired with the responses (None: it can)."""
    if len(values) != n:
        return f"{name} has {len(values)} entries for {n} responses: the batch is misaligned, no sample can be paired with its {name}"
    return None


# -- verl ---------------------------------------------------------------------------------------------
def _verl_results(scores: Sequence[OnlineScore], reward: OnlineReward) -> list[Any]:
    """Floats, or verl's dict form whose extra keys verl logs as reward_extra_info (same keys for every sample)."""
    if not reward.cfg.rewards.online.verl_extra_info:
        return [s.reward for s in scores]
    return [{"score": s.reward, "rubricate_unscorable": 1.0 if s.unscorable else 0.0, "rubricate_reason": s.reason} for s in scores]


def compute_score(data_source: Any = None, solution_str: Any = None, ground_truth: Any = None, extra_info: Any = None, **kwargs: Any) -> Any:
    """verl `custom_reward_function`: {"score", "rubricate_unscorable", "rubricate_reason"} for one response
    (a bare float with `rewards.online.verl_extra_info: false`). Never raises on bad input."""
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info])[0]


def compute_score_batch(
    data_sources: Sequence[Any] | None = None,
    solution_strs: Sequence[Any] | None = None,
    ground_truths: Sequence[Any] | None = None,
    extra_infos: Sequence[Any] | None = None,
    **kwargs: Any,
) -> list[Any]:
    """verl's batch reward manager (`reward_model.reward_manager=batch`): one result per response, as in
    `compute_score`. Takes lists, tuples or numpy object arrays (what verl passes)."""
    reward = default_reward()
    responses = as_list(solution_strs, "solution_strs")
    n = len(responses)
    golds = as_list(ground_truths, "ground_truths") if ground_truths is not None else [None] * n
    extras = as_list(extra_infos, "extra_infos") if extra_infos is not None else [None] * n
    bad = _misaligned(n, "ground_truths", golds) or _misaligned(n, "extra_infos", extras)
    if bad:
        samples = [Sample("", None, invalid=bad) for _ in responses]
    else:
        samples = [Sample.of(r, g, _extra_problem(e), is_truncated(e)) for r, g, e in zip(responses, golds, extras)]
    return _verl_results(reward.safe_score(samples), reward)


# -- TRL ----------------------------------------------------------------------------------------------
class TRLReward:
    """TRL `reward_funcs` entry: `(prompts, completions, **columns) -> list[float | None]`, one call per batch.

    TRL names reward functions by `__name__` (logged as rewards/<name>); the gold answer comes from the
    first dataset column of `rewards.online.gold_columns` that TRL passes (ground_truth, answer, ...).
    An unscorable sample is None (TRL >= 1.6 leaves it out of the group baseline and gives it no advantage),
    or `unscorable.value` with `rewards.online.unscorable.trl: value`.
    """

    def __init__(self, reward: OnlineReward | None = None, name: str = "rubricate_reward") -> None:
        self._reward = reward
        self.__name__ = name

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] | None = None, **columns: Any) -> list[float | None]:
        reward = self._reward or default_reward()
        online = reward.cfg.rewards.online
        comps = as_list(completions, "completions")
        n = len(comps)
        prompts_l = as_list(prompts, "prompts") if prompts is not None else [None] * n

        def column(names: list[str]) -> tuple[list[Any], str | None]:
            for name in names:
                if columns.get(name) is not None:
                    values = as_list(columns[name], name)
                    return values, _misaligned(n, name, values)
            return [None] * n, None

        golds, bad = column(online.gold_columns)
        problems, _ = column(online.problem_columns)
        samples = []
        for i in range(n):
            if bad:
                samples.append(Sample("", None, invalid=bad))
                continue
            if i < len(problems) and problems[i] is not None:
                problem = as_text(problems[i])
            else:
                problem = _last_user_message(prompts_l[i] if i < len(prompts_l) else None)
            samples.append(Sample.of(comps[i], golds[i], problem))
        as_none = online.unscorable.trl == "none"
        return [None if (s.unscorable and as_none) else s.reward for s in reward.safe_score(samples)]


def _last_user_message(prompt: Any) -> str:
    if isinstance(prompt, (list, tuple)):
        users = [m for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
        return as_text(users[-1]) if users else as_text(prompt)
    return as_text(prompt)


trl_reward = TRLReward()


# -- OpenRLHF -----------------------------------------------------------------------------------------
def _response_from_query(query: str, prompt: str) -> str:
    """OpenRLHF passes prompt + response decoded together; cut the prompt off when it is found."""
    if prompt and prompt in query:
        return query[query.index(prompt) + len(prompt) :]
    return query


def _openrlhf_scores(queries: Any, prompts: Any, labels: Any) -> list[OnlineScore]:
    qs = as_list(queries, "queries")
    ps = as_list(prompts, "prompts")
    ls = as_list(labels, "labels") if labels is not None else [None] * len(qs)
    bad = _misaligned(len(qs), "labels", ls)
    samples = []
    for i, q in enumerate(qs):
        prompt = as_text(ps[i]) if i < len(ps) else ""  # the prompt only trims the query: a missing one trims nothing
        if bad:
            samples.append(Sample("", None, invalid=bad))
        elif not isinstance(q, str):
            samples.append(Sample.of(q, ls[i], prompt))  # unscorable, with the reason
        else:
            samples.append(Sample.of(_response_from_query(q, prompt), ls[i], prompt))
    return default_reward().safe_score(samples)


def reward_func(queries: Any, prompts: Any, labels: Any, **kwargs: Any) -> Any:
    """OpenRLHF custom reward (`--remote_rm_url <this file>`): {"rewards", "scores", "extra_logs"} as tensors.

    An unscorable sample gets `unscorable.value` and 1.0 in `extra_logs["rubricate_unscorable"]` (logged to
    wandb per step); `scores` (OpenRLHF's dynamic filtering) is the reward clipped to [0, 1]. Without torch
    installed the values are lists.
    """
    scores = _openrlhf_scores(queries, prompts, labels)
    rewards = [s.reward for s in scores]
    clipped = [min(1.0, max(0.0, r)) for r in rewards]
    unscorable = [1.0 if s.unscorable else 0.0 for s in scores]
    try:
        import torch
    except ImportError:
        return {"rewards": rewards, "scores": clipped, "extra_logs": {"rubricate_unscorable": unscorable}}
    return {
        "rewards": torch.tensor(rewards, dtype=torch.float32),
        "scores": torch.tensor(clipped, dtype=torch.float32),
        "extra_logs": {"rubricate_unscorable": torch.tensor(unscorable, dtype=torch.float32)},
    }


def reward_func_tensor(queries: Any, prompts: Any, labels: Any, **kwargs: Any) -> Any:
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
    online = r.cfg.rewards.online
    return json.dumps({"rule": r.rule.model_dump(mode="json"), "llm": r.cfg.llm.kind, "judge": r._judge_cfg().kind,
                       "timeout_s": online.timeout_s, "unscorable_value": r.unscorable_value,
                       "unscorable": online.unscorable.model_dump(mode="json"), "no_answer": online.no_answer}, sort_keys=True)
